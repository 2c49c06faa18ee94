"""The Block Kit renderer: escaping, Slack's limits, dates, mentions, RAG and paging buttons."""

import json
from datetime import UTC, date, datetime

from bot.slack import ids as slack_ids
from bot.slack.render.blocks import (
    FIELD_TEXT,
    MAX_BLOCKS,
    RAG_LEGEND,
    SECTION_TEXT,
    escape,
    fallback_text,
    render_blocks,
    slack_message,
    truncate,
    unescape,
)
from handlers.replies import Audience, Fact, Item, Mention, Page, Reply, Section
from tests.conftest import LONDON

HOSTILE = "<!channel> <https://evil.example|click> & co"


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_escapes_only_ampersand_and_angle_brackets():
    assert escape(HOSTILE) == "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co"
    assert escape("*_~`\"'") == "*_~`\"'"
    assert unescape(escape(HOSTILE)) == HOSTILE


def test_hostile_text_is_escaped_everywhere_it_appears():
    item = Item(title=HOSTILE, ref="A-1", rag="red", facts=[Fact(HOSTILE, HOSTILE)], body=HOSTILE)
    section = Section(HOSTILE, lines=[HOSTILE], facts=[Fact(HOSTILE, HOSTILE)])
    reply = Reply(title=HOSTILE, text=HOSTILE, notice=HOSTILE, hint=HOSTILE, items=[item],
                  sections=[section])  # fmt: skip
    message = slack_message(reply, LONDON)
    serialised = _texts(message["blocks"]) + message["text"]
    assert "<!channel>" not in serialised
    assert "<https://evil" not in serialised
    assert "&lt;!channel&gt;" in message["text"]
    assert serialised.count("&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co") >= 9


def test_mentions_come_only_from_stored_user_ids():
    reply = Reply(title="People", sections=[Section("Who", facts=[
        Fact("Lead", Mention("Rob <!here>", (("teams", "T-1"), ("slack", "U0LEAD")))),
        Fact("Forged", Mention("Someone", (("slack", "<!channel>"),))),
        Fact("Teams only", Mention("Tia Teams", (("teams", "0b3c7f0e"),))),
        Fact("Typed", "<@U0TYPED>"),
    ])])  # fmt: skip
    text = _texts(render_blocks(reply, LONDON))
    assert "<@U0LEAD>" in text
    assert "<!channel>" not in text and "Someone" in text
    assert "Tia Teams" in text and "0b3c7f0e" not in text
    assert "&lt;@U0TYPED&gt;" in text and "<@U0TYPED>" not in text


def test_dates_are_slack_date_tokens_with_a_uk_fallback():
    moment = datetime(2027, 1, 20, 10, 30, tzinfo=UTC)
    reply = Reply(title="Dates", items=[Item(title="x", facts=[
        Fact("Due", date(2027, 3, 31)), Fact("Updated", moment)])])  # fmt: skip
    fields = render_blocks(reply, LONDON)[1]["fields"]
    due_ts = int(datetime(2027, 3, 31, 12, tzinfo=UTC).timestamp()) - 3600  # BST noon
    assert fields[0]["text"] == f"*Due*\n<!date^{due_ts}^{{date_short_pretty}}|Wed 31 Mar 2027>"
    assert fields[1]["text"] == (f"*Updated*\n<!date^{int(moment.timestamp())}^"
                                 "{date_short_pretty} {time}|Wed 20 Jan 2027 10:30>")  # fmt: skip


def test_rag_is_shown_as_emoji_and_word_with_a_legend():
    reply = Reply(title="RAG", items=[Item(title="t", ref="A-1", rag=r)
                                      for r in ("red", "amber", "green", "blue", "none")],
                  rag_legend=True)  # fmt: skip
    blocks = render_blocks(reply, LONDON)
    heads = [b["text"]["text"].split("\n")[0] for b in blocks[1:6]]
    assert heads == ["*A-1* · 🔴 Red", "*A-1* · 🟠 Amber", "*A-1* · 🟢 Green", "*A-1* · 🔵 Blue",
                     "*A-1* · ⚪ Not rated"]  # fmt: skip
    assert blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": RAG_LEGEND}]}
    assert "🔵 Blue = complete" in RAG_LEGEND


def test_long_text_is_escaped_then_truncated_without_breaking_entities():
    long = "&" * 5000
    block = render_blocks(Reply(title="t", text=long), LONDON)[1]
    text = block["text"]["text"]
    assert len(text) <= SECTION_TEXT
    assert text.endswith("&amp;…")
    assert truncate("ab&amp;cd", 5) == "ab…"
    assert truncate("ab<!date^1^{x}|y>cd", 8) == "ab…"


def test_fields_are_at_most_ten_and_each_within_the_limit():
    facts = [Fact(f"F{i}", "x" * 3000) for i in range(13)]
    blocks = render_blocks(Reply(title="t", items=[Item(title="i", facts=facts)]), LONDON)
    assert len(blocks[1]["fields"]) == 10
    assert all(len(f["text"]) <= FIELD_TEXT for f in blocks[1]["fields"])
    assert "*F12*" in _texts(blocks[2:])  # the rest follow as lines


def test_long_sections_split_into_several_blocks():
    lines = [f"line {i} " + "y" * 200 for i in range(40)]
    blocks = render_blocks(Reply(title="t", sections=[Section("Many", lines=lines)]), LONDON)
    assert len(blocks) > 2
    assert all(len(b["text"]["text"]) <= SECTION_TEXT for b in blocks)
    assert "line 39" in blocks[-1]["text"]["text"]


def test_more_than_fifty_blocks_are_trimmed_with_a_note():
    items = [Item(title=f"t{i}", ref=f"A-{i}", operations=("update",)) for i in range(60)]
    reply = Reply(title="t", items=items, rag_legend=True, page=Page(1, 3, "action status all"))
    blocks = render_blocks(reply, LONDON)
    assert MAX_BLOCKS - 2 <= len(blocks) <= MAX_BLOCKS
    notes = [b for b in blocks if b["type"] == "context" and "more not shown" in _texts([b])]
    assert len(notes) == 1
    assert blocks[-1]["elements"][0]["text"] == RAG_LEGEND  # the footer survives
    assert any(b.get("block_id") == slack_ids.PAGE_BLOCK for b in blocks)


def test_paging_buttons_carry_the_command_to_run():
    reply = Reply(title="t", page=Page(2, 3, "action status all"))
    page_block = next(b for b in render_blocks(reply, LONDON) if b["type"] == "actions")
    buttons = {b["action_id"]: b["value"] for b in page_block["elements"]}
    assert buttons == {slack_ids.PAGE_PREVIOUS: "action status all page 1",
                       slack_ids.PAGE_NEXT: "action status all page 3"}  # fmt: skip


def test_item_operations_become_controls_carrying_the_ref_and_version():
    item = Item(title="x", ref="A-3", operations=("update", "done"), version=7)
    reply = Reply(title="t", items=[item], source="action status")
    ops = next(b for b in render_blocks(reply, LONDON) if b["type"] == "actions")
    assert ops["block_id"] == "soc_ops|A-3:7|0|action status"
    assert [(b["action_id"], b.get("value")) for b in ops["elements"]] == [
        (slack_ids.OPERATION_RAG, None), (slack_ids.OPERATION_DONE, "A-3:7"),
        (slack_ids.OPERATION_DUE, None), (slack_ids.OPERATION_UPDATE, "A-3:7")]  # fmt: skip
    assert ops["elements"][0]["options"][1]["value"] == "A-3:7|amber"


def test_home_tab_rendering_has_no_buttons_but_says_what_to_type():
    reply = Reply(title="t", items=[Item(title="x", ref="A-3", operations=("update",))],
                  page=Page(1, 2, "action status"))  # fmt: skip
    blocks = render_blocks(reply, LONDON, interactive=False)
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "`/soc action status page 2`" in _texts(blocks)


def test_message_audience_and_fallback_text():
    reply = Reply(title="RAG summary", text="a & b", audience=Audience.IN_CHANNEL)
    message = slack_message(reply, LONDON)
    assert message["response_type"] == "in_channel"
    assert message["text"] == "RAG summary\na &amp; b" == fallback_text(reply, LONDON)
