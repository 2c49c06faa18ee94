"""Adaptive Cards from reply objects: valid schema 1.5, within 28 KB, user text kept inert."""

import json
from datetime import UTC, date, datetime

import pytest

from bot.teams.cards import MAX_CARD_BYTES, card_bytes, fallback_text, render_card
from bot.teams.text import normalise_command
from handlers.replies import Fact, Item, Mention, Page, Reply, Section, error_reply
from tests.conftest import CHAIR, COLP, LONDON, SECRETARIAT
from tests.teams_stub import card_actions, texts_of, valid_card

pytest_plugins = ("tests.teams_fixtures",)

TEAMS_LIMIT = 28 * 1024
NASTY = "**bold** [click](https://evil.example) <at>Everyone</at> &nbsp; \u202e# heading"


def _valid(validator, card: dict) -> dict:
    assert card_bytes(card) <= TEAMS_LIMIT
    return valid_card(validator, card)


@pytest.mark.parametrize(
    ("user", "text"),
    [
        (COLP, "action status"),
        (CHAIR, "action status all"),
        (COLP, "action status A-1"),
        (COLP, "action history A-1"),
        (CHAIR, "rag"),
        (SECRETARIAT, "help"),
        (COLP, "action update A-999 rag=red"),
    ],
)
def test_every_reply_is_a_valid_teams_card(console, validator, user, text):
    reply = console.as_user(user).ask(text)
    _valid(validator, render_card(reply, LONDON))


def test_the_schema_check_itself_rejects_a_bad_card(validator):
    card = render_card(Reply(title="x"), LONDON)
    card["body"].append({"type": "Action.Execute", "verb": 3})
    assert list(validator.iter_errors(card))


def test_user_text_is_drawn_only_as_text_runs(validator):
    lead = Mention(NASTY, (("slack", "U1"),))
    item = Item(title=NASTY, ref="A-1", rag="red", body=NASTY, operations=("update",), version=4,
                facts=[Fact(NASTY, NASTY), Fact("Lead", lead)])  # fmt: skip
    reply = Reply(title=NASTY, text=NASTY, items=[item], hint=NASTY, notice=NASTY,
                  sections=[Section(NASTY, lines=[NASTY])])  # fmt: skip
    card = _valid(validator, render_card(reply, LONDON))

    def blocks(node):
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from blocks(value)
        elif isinstance(node, list):
            for value in node:
                yield from blocks(value)

    kinds = {b["type"] for b in blocks(card) if NASTY.replace("\u202e", "") in str(b.get("text"))}
    assert kinds == {"TextRun"}  # never a TextBlock, which Teams reads as Markdown
    assert "\u202e" not in json.dumps(card, ensure_ascii=False)
    assert "msteams" not in card and "entities" not in json.dumps(card)  # no mention entities


def test_controls_carry_the_ref_and_version_and_blue_needs_the_outcome(validator):
    item = Item(title="Engage SMEs", ref="A-3", rag="amber",
                operations=("update", "done", "note"), version=7)  # fmt: skip
    card = _valid(validator, render_card(Reply(title="t", items=[item], source="action status"),
                                         LONDON))  # fmt: skip
    targets = {a["data"]["target"] for a in card_actions(card)}
    assert targets == {"A-3:7"}
    choices = next(e for e in json.loads(json.dumps(card))["body"][1]["items"]
                   if e["type"] == "Input.ChoiceSet")["choices"]  # fmt: skip
    assert [c["value"] for c in choices] == ["red", "amber", "green"]


def test_no_controls_when_not_interactive_or_not_permitted(validator):
    item = Item(title="x", ref="A-3", operations=("update", "done", "note"), version=1)
    assert (
        card_actions(render_card(Reply(title="t", items=[item]), LONDON, interactive=False)) == []
    )
    plain = Item(title="x", ref="A-3", version=1)
    assert card_actions(render_card(Reply(title="t", items=[plain]), LONDON)) == []


def test_a_huge_reply_is_cut_to_fit_28_kb_with_a_note(validator):
    items = [Item(title="T" * 500, ref=f"A-{n}", rag="green", body="B" * 800,
                  operations=("update", "done", "note"), version=1,
                  facts=[Fact("Due", date(2027, 3, 31)), Fact("Lead", "CoLP")])
             for n in range(1, 201)]  # fmt: skip
    card = _valid(validator, render_card(Reply(title="All", items=items, rag_legend=True), LONDON))
    assert card_bytes(card) <= MAX_CARD_BYTES
    shown = texts_of(card)
    assert "more not shown here" in shown
    assert "A-1\n" in shown + "\n"
    assert "Red · " in shown  # the legend after the cut survives


def test_a_whole_message_stays_within_28_kb(validator):
    from bot.teams.courier import TeamsCourier
    from tests.teams_stub import teams_settings

    items = [
        Item(title="é" * 900, ref=f"A-{n}", rag="green", body="😀" * 900,
             operations=("update", "done", "note"), version=1)
        for n in range(1, 60)
    ]  # fmt: skip
    reply = Reply(title="😀" * 2000, text="t" * 5000, items=items, hint="h" * 3000)
    message = TeamsCourier(teams_settings(), LONDON).message(reply)
    body = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
    size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    assert size <= TEAMS_LIMIT
    _valid(validator, body["attachments"][0]["content"])


def test_dates_errors_pages_and_fallback(validator):
    reply = error_reply("Nope <b>", "Try `help`")
    reply.page = Page(2, 3, "action status all")
    reply.sections = [
        Section("History", facts=[Fact("RAG", "red", at=datetime(2027, 1, 5, 9, tzinfo=UTC))])
    ]
    card = _valid(validator, render_card(reply, LONDON))
    shown = texts_of(card)
    assert "⚠️ Nope <b>" in shown
    assert "Page 2 of 3" in shown
    assert "Tue 05 Jan 2027 09:00" in shown
    assert [a["data"]["command"] for a in card_actions(card)] == [
        "action status all page 1", "action status all page 3"]  # fmt: skip
    assert card["fallbackText"] == fallback_text(reply, LONDON)
    assert fallback_text(reply, LONDON).startswith("⚠ Nope <b>")


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("<at>soc</at>&nbsp;action status", "action status"),
        ("ACTION Status A-1", "action Status A-1"),
        ("<p>rag</p>\n\n", "rag"),
        ("@soc help", "help"),
        (
            "/soc   action  note A-1 first line<br>second &amp; more",
            "action note A-1 first line\nsecond & more",
        ),
        ("&nbsp;", ""),
        (None, ""),
    ],
)
def test_typed_text_is_normalised(typed, command):
    assert normalise_command(typed) == command
