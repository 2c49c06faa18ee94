"""Help for the person asking: their most used commands first, then what their role may do."""

import pytest

from bot.cli.main import main
from bot.slack.render.blocks import fallback_text
from bot.slack.surface import SLACK
from handlers.commands import COMMANDS
from handlers.help import required_usage
from handlers.replies import Reply
from handlers.run import run_command
from models.tables import Role
from tests.conftest import (
    CHAIR,
    COLP,
    CST,
    DEPUTY,
    LONDON,
    NOW,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)

pytest_plugins = ("tests.slack_fixtures",)

MOST_USED = "What you'll do most"
ADMIN_ONLY = {
    "action add", "rag post", "rag chart", "report quarter", "area add", "member add",
    "partner add", "meeting schedule", "meeting move", "meeting cancel", "meeting add",
    "priorities open",
}  # fmt: skip
CHANGES = {"action update", "action edit", "action done", "action note"}
# A command as someone would try it, to check the help leaves out only what is refused.
TRIES = {
    "action add": 'action add area=cyber lead=CoLP title="Tried"',
    "action update": "action update A-1 rag=red",
    "action edit": "action edit A-1",
    "action done": 'action done A-1 note="Tried"',
    "action note": "action note A-1 Tried",
    "rag post": "rag post",
    "rag chart": "rag chart",
    "report quarter": "report quarter 2026Q4",
    "area add": 'area add "Tried"',
    "member add": 'member add UNEWBIE name="Tried" role=member',
    "partner add": 'partner add "Tried"',
    "meeting schedule": 'meeting schedule "second tuesday 10:00"',
    "meeting move": "meeting move 9/2/2027 to 10/2/2027 14:00",
    "meeting cancel": "meeting cancel 9/2/2027",
    "meeting add": "meeting add 2/3/2027 10:00",
    "priorities open": "priorities open closes=5/2/2027",
    "priorities answer": "priorities answer cyber=lead",
    "priorities set": "priorities set cyber, fraud, slavery",
}


def labels(reply: Reply, heading: str | None = None) -> list[str]:
    """The commands a help reply shows (all sections, or the one starting with `heading`)."""
    return [
        f.label
        for s in reply.sections
        if heading is None or s.heading.startswith(heading)
        for f in s.facts
    ]


def lines(reply: Reply) -> list[str]:
    """The help's plain lines."""
    return [line for s in reply.sections for line in s.lines]


def slack_reply(board_engine, settings, user: str, text: str) -> Reply:
    """What the dispatcher answers `user` in Slack (the `/soc` surface)."""
    return run_command(engine=board_engine, board_slug=settings.board_slug, user_id=user,
                       text=text, now=NOW, surface=SLACK)  # fmt: skip


# --- the short help, per role, at the console --------------------------------------------------


def test_member_sees_the_five_things_they_do_most_on_their_own_action(console):
    reply = console.as_user(COLP).ask("help")
    assert not reply.error
    own = [item for item in console.ask("action status").items if item.rag != "blue"]
    ref = own[0].ref
    assert reply.sections[0].heading == f"{MOST_USED} ({ref} is one of your partner's actions)"
    assert labels(reply, MOST_USED) == [
        "action status",
        f'action update {ref} rag=green note="..."',
        f"action note {ref} ...",
        f'action done {ref} note="..."',
        "rag",
    ]


def test_each_partners_example_is_one_of_their_own_actions(console):
    for user in (CST, TRADING, SECRETARIAT):
        reply = console.as_user(user).ask("help")
        update = next(label for label in labels(reply) if label.startswith("action update"))
        ref = update.split()[2]
        refs = [item.ref for item in console.ask("action status").items]
        assert ref in refs, f"{user}: {ref} is not among their actions {refs}"


def test_member_help_leaves_out_what_only_the_chair_and_secretariat_do(console):
    reply = console.as_user(COLP).ask("help")
    shown = labels(reply)
    assert not [label for label in shown if label.split()[:2] in [n.split() for n in ADMIN_ONLY]]
    assert "priorities set" not in " ".join(shown)
    for expected in ("meeting next", "member list", "partner list", "priorities results"):
        assert expected in shown
    assert "The chair, the deputy chair and the secretariat can do more" in " ".join(lines(reply))


def test_observer_help_reads_only(console):
    reply = console.as_user(OBSERVER).ask("help")
    assert labels(reply, MOST_USED) == ["action status all", "action status A-1", "rag"]
    words = [label.split()[:2] for label in labels(reply)]
    assert not [w for w in words if " ".join(w) in CHANGES | ADMIN_ONLY | {"priorities answer"}]
    more = " ".join(lines(reply))
    assert "Lead partners, the chair, the deputy chair and the secretariat can do more" in more


def test_chair_help_offers_every_command_once_but_the_secretariats_own(console):
    reply = console.as_user(CHAIR).ask("help")
    shown = labels(reply)
    for command in COMMANDS:
        if command.name == "help" or Role.CHAIR not in command.who.roles:
            continue  # `board settings` is the secretariat's alone
        starts = [s for s in shown if s == required_usage(command) or s.startswith(command.name)]
        assert starts, f"the chair's help lacks {command.name}"
    assert len(shown) == len(set(shown))
    more = [line for line in lines(reply) if "can do more" in line]
    assert more == ["The secretariat can do more; ask the secretariat if you need it."]


def test_deputy_is_told_the_chair_and_secretariat_can_do_more(console):
    reply = console.as_user(DEPUTY).ask("help")
    assert not [label for label in labels(reply) if label.startswith("priorities set")]
    assert "The chair and the secretariat can do more" in " ".join(lines(reply))


def test_short_help_is_one_line_per_command_without_the_full_usages(console):
    for user in (COLP, OBSERVER, CHAIR):
        reply = console.as_user(user).ask("help")
        facts = [f for s in reply.sections for f in s.facts]
        assert all("\n" not in f.label + str(f.value) for f in facts)
        assert all(len(str(f.value)) <= 80 for f in facts)
        assert "[confidential=" not in " ".join(labels(reply))
    member_help = labels(console.as_user(COLP).ask("help"))
    assert len(member_help) < len(COMMANDS) * 2 // 3


def test_non_member_is_told_to_ask_the_secretariat(console):
    reply = console.as_user(STRANGER).ask("help")
    assert not reply.error
    assert labels(reply) == []
    assert "Ask the secretariat to add you" in " ".join(lines(reply))


@pytest.mark.parametrize("user", [COLP, OBSERVER, CHAIR])
def test_nothing_and_an_unknown_word_lead_to_the_short_help(console, user):
    console.as_user(user)
    short = console.ask("help")
    assert console.ask("").sections == short.sections
    unknown = console.ask("biscuits please")
    assert unknown.error and unknown.title == "I don't know the command “biscuits please”."
    assert unknown.sections == short.sections
    typo = console.ask("acton status")
    assert typo.text.startswith("Did you mean `action status`?")
    assert typo.sections == short.sections


@pytest.mark.parametrize("user", [COLP, OBSERVER])
def test_help_topic_stays_complete_whoever_asks(console, user):
    reply = console.as_user(user).ask("help action")
    assert labels(reply) == [c.usage for c in COMMANDS if c.words[0] == "action"]
    assert all(f"({c.who.label})" in str(f.value) for c, f in zip(
        [c for c in COMMANDS if c.words[0] == "action"], reply.sections[0].facts, strict=True
    ))  # fmt: skip


@pytest.mark.parametrize("user", [COLP, OBSERVER, DEPUTY])
def test_what_the_help_leaves_out_is_what_the_handlers_refuse(console, user):
    for setup in ("meeting add 9/2/2027 10:00", "priorities open closes=5/2/2027"):
        assert not console.as_user(SECRETARIAT).ask(setup).error
    shown = " ".join(labels(console.as_user(user).ask("help")))
    for name, text in TRIES.items():
        if name not in shown:
            reply = console.ask(text)
            assert reply.error, f"{user} may {text!r} but the help leaves out {name}"
            refusals = ("Only the", "You can't change", "Observers don't")
            assert reply.title.startswith(refusals), reply.title


# --- the same over the CLI and signed Slack requests ------------------------------------------


def test_soc_bot_run_prints_the_short_help(board_engine, database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["run", "--as", COLP, "help"]) == 0
    out = capsys.readouterr().out
    assert MOST_USED in out and 'action update A-1 rag=green note="..."' in out
    assert "member add" not in out
    assert main(["run", "--as", COLP, "biscuits"]) == 1
    assert "I don't know the command" in (out := capsys.readouterr().out) and MOST_USED in out


@pytest.mark.parametrize(
    ("user", "present", "absent"),
    [
        (COLP, '/soc action update A-1 rag=green note=\\"...\\"', "/soc member add"),
        (OBSERVER, "/soc action status all", "/soc action update"),
        (CHAIR, "/soc member add", "/soc board settings"),
    ],
)
def test_slack_help_is_the_askers_short_help(slack, board_engine, settings, user, present, absent):
    expected = slack_reply(board_engine, settings, user, "help")
    for typed in ("help", "", "biscuits"):
        answer = slack.command(user, typed)
        assert answer.status == 200 and answer.json["response_type"] == "ephemeral"
        assert present in answer.everything and absent not in answer.everything
        assert MOST_USED in answer.everything
    answer = slack.command(user, "help")
    assert answer.text == fallback_text(expected, LONDON)
    assert labels(expected, MOST_USED)[-1] == "/soc rag"


def test_slack_help_topic_shows_full_usages_with_the_slash_command(slack):
    answer = slack.command(OBSERVER, "help meeting")
    assert "/soc meeting reminders [5,1] [at 09:00] [holidays=GB-ENG]" in answer.everything
    assert "/soc meeting schedule" in answer.everything
