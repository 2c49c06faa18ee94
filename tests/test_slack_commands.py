"""Every `/soc` subcommand typed in Slack reaches its handler and comes back as Block Kit."""

import pytest

from bot.slack.render.blocks import MAX_BLOCKS, fallback_text
from tests.conftest import CHAIR, COLP, LONDON, OBSERVER, SECRETARIAT, STRANGER

pytest_plugins = ("tests.slack_fixtures",)

# Help shows commands with Slack's `/soc`, so it differs from the console's: see tests/test_help.py.
READ_COMMANDS = [
    (COLP, "action status", "Your partner's actions"),
    (COLP, "action status all", "All actions"),
    (COLP, "action status A-1", "A-1: Dashboard of Serious and Organised Crime"),
    (COLP, "action 1", "A-1: Dashboard of Serious and Organised Crime"),
    (COLP, "action status overdue", "Overdue actions"),
    (COLP, "action status area cyber", "Actions: Cyber attack"),
    (COLP, "action status partner CoLP", "Actions led by City of London Police"),
    (COLP, "action history A-1", "History of A-1"),
    (COLP, "rag", "RAG summary"),
    (COLP, "area list", "Key crime areas"),
    (COLP, "member list", "Board members"),
    (COLP, "partner list", "Partners"),
]


@pytest.mark.parametrize(("user", "text", "title"), READ_COMMANDS)
def test_read_command_reaches_its_handler(slack, console, user, text, title):
    answer = slack.command(user, text)
    assert answer.status == 200
    expected = console.as_user(user).ask(text)
    assert expected.title.startswith(title)
    assert answer.json["response_type"] == "ephemeral"
    assert answer.text == fallback_text(expected, LONDON)
    assert answer.json["blocks"][0]["text"]["text"].startswith(f"*{title}")
    assert len(answer.json["blocks"]) <= MAX_BLOCKS


def test_secretariat_adds_an_action(slack, console):
    answer = slack.command(
        SECRETARIAT, 'action add area=cyber lead=CoLP title="Phishing drill" due=31/03/2027'
    )
    assert answer.text.startswith("Added A-"), answer.text
    ref = answer.text.split(":")[0].removeprefix("Added ")
    assert console.as_user(SECRETARIAT).ask(f"action status {ref}").title.endswith("Phishing drill")


def test_partner_updates_their_action(slack, console):
    answer = slack.command(COLP, 'action update A-1 rag=green note="Dashboard shared"')
    assert answer.text.startswith("Updated A-1"), answer.text
    assert "🟢 Green" in answer.everything
    history = console.ask("action history A-1")
    assert "rag: amber → green" in "\n".join(f.value for s in history.sections for f in s.facts)


def test_partner_marks_an_action_done(slack, console):
    answer = slack.command(COLP, 'action done A-9 note="Assets frozen"')
    assert answer.text.startswith("Updated A-9"), answer.text
    assert console.ask("action status A-9").items[0].rag == "blue"


@pytest.mark.parametrize(
    ("user", "command", "answer_starts", "listing", "listed"),
    [
        pytest.param(
            COLP, "action note A-1 Met the analysts", "Updated A-1", "action history A-1",
            "Met the analysts", id="partner-adds-a-note",
        ),
        pytest.param(
            CHAIR, 'area add "Knife crime"', "Key crime area: Knife crime", "area list",
            "Knife crime", id="chair-adds-an-area",
        ),
        pytest.param(
            CHAIR, 'partner add "Home Office" aliases="HO"', "Added partner Home Office",
            "partner list", "Home Office", id="chair-adds-a-partner",
        ),
    ],
)  # fmt: skip
def test_a_command_changes_what_the_listing_shows(
    slack, console, user, command, answer_starts, listing, listed
):
    answer = slack.command(user, command)
    assert answer.text.startswith(answer_starts), answer.text
    assert listed in fallback_text(console.ask(listing), LONDON)


def test_chair_adds_a_member_by_mentioning_them(slack, console):
    # Slack sends a mention as `<@U…|name>`, unescaped, when the command escapes entities.
    sent = "&lt;@UNEWBIE|newbie&gt;".replace("&lt;", "<").replace("&gt;", ">")
    answer = slack.command(CHAIR, "", as_sent=f'member add {sent} name="Nell Newbie" role=member')
    assert answer.text.startswith("Added Nell Newbie"), answer.text
    assert "Nell Newbie" in fallback_text(console.ask("member list"), LONDON)


def test_note_with_arbitrary_punctuation_is_stored_exactly_as_typed(slack, console):
    note = 'Met NCA & HMRC: "phase 2" = agreed 👍 <3 (50% done; £1,000) \\o/ `x` *b* #t @here'
    answer = slack.command(COLP, f"action note A-1 {note}")
    assert answer.text.startswith("Updated A-1"), answer.text
    history = console.ask("action history A-1")
    notes = [f.value for s in history.sections for f in s.facts]
    assert any(note in value for value in notes), notes


def test_option_values_with_equals_signs_and_quotes_arrive_intact(slack, console):
    answer = slack.command(COLP, "action update A-1 note=“x = y & z <ok>”")
    assert answer.text.startswith("Updated A-1"), answer.text
    notes = [f.value for s in console.ask("action history A-1").sections for f in s.facts]
    assert any("x = y & z <ok>" in value for value in notes), notes


def test_observer_is_refused_ephemerally(slack, console):
    before = fallback_text(console.ask("action history A-1"), LONDON)
    answer = slack.command(OBSERVER, "action update A-1 rag=red")
    assert answer.json["response_type"] == "ephemeral"
    assert answer.text.startswith("⚠ You can't change A-1")
    assert answer.json["blocks"][0]["text"]["text"].startswith("*⚠️ You can't change A-1")
    assert fallback_text(console.ask("action history A-1"), LONDON) == before


def test_partner_cannot_add_actions(slack):
    answer = slack.command(COLP, 'action add area=cyber lead=CoLP title="Mine"')
    assert answer.json["response_type"] == "ephemeral"
    assert "Only the chair, deputy chair or secretariat can add actions" in answer.text


def test_stranger_is_told_to_ask_the_secretariat(slack):
    answer = slack.command(STRANGER, "action status")
    assert answer.json["response_type"] == "ephemeral"
    assert "not on this Board's member list" in answer.text


def test_unknown_command_suggests_the_nearest(slack):
    answer = slack.command(COLP, "actoin status")
    assert answer.json["response_type"] == "ephemeral"
    assert "Did you mean `/soc action status`" in answer.text


def test_empty_command_shows_help(slack):
    answer = slack.command(COLP, "")
    assert answer.text.startswith("soc-bot: the Board's action register")
