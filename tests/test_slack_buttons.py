"""Buttons: Next/Previous re-run the listing for the clicker; item buttons say what to type."""

from bot import slack_ids
from bot.render.blocks import fallback_text
from tests.conftest import CHAIR, COLP, LONDON, OBSERVER
from tests.slack_stub import buttons_in

pytest_plugins = ("tests.slack_fixtures",)


def _button(blocks: list[dict], action_id: str) -> dict:
    return next(b for b in buttons_in(blocks) if b["action_id"] == action_id)


def test_long_listing_has_a_next_button_running_page_two(slack):
    first = slack.command(CHAIR, "action status all")
    assert "Page 1 of" in first.text
    next_button = _button(first.json["blocks"], slack_ids.PAGE_NEXT)
    assert next_button["value"] == "action status all page 2"
    assert not [
        b for b in buttons_in(first.json["blocks"]) if b["action_id"] == "soc_page_previous"
    ]

    click = slack.click(CHAIR, next_button, first.response_url)
    assert click.status == 200
    (posted,) = slack.stub.wait_for("response")
    assert posted.path == first.response_url.removeprefix(slack.stub.base)
    assert posted.data["replace_original"] is True
    assert posted.data["response_type"] == "ephemeral"
    assert "showing 11–11" in posted.data["text"]
    assert "A-11" in posted.data["text"]
    previous = _button(posted.data["blocks"], slack_ids.PAGE_PREVIOUS)
    assert previous["value"] == "action status all page 1"


def test_paging_runs_as_the_clicker_not_the_original_asker(slack, console):
    first = slack.command(CHAIR, "action status all")
    next_button = _button(first.json["blocks"], slack_ids.PAGE_NEXT)
    slack.click(OBSERVER, next_button)
    (posted,) = slack.stub.wait_for("response")
    observers_own = console.as_user(OBSERVER).ask("action status all page 2")
    assert posted.data["text"] == fallback_text(observers_own, LONDON)
    assert not [b for b in buttons_in(posted.data["blocks"]) if b["action_id"].startswith("soc_op")]


def test_page_buttons_answer_within_the_request(slack):
    first = slack.command(CHAIR, "action status all")
    slack.click(CHAIR, _button(first.json["blocks"], slack_ids.PAGE_NEXT))
    # The post landed before the click's HTTP answer returned: no waiting needed.
    assert len(slack.stub.calls_to("response")) == 1


def test_done_button_says_exactly_what_to_type(slack):
    listing = slack.command(COLP, "action status")
    done = _button(listing.json["blocks"], slack_ids.OPERATION_DONE)
    assert done["value"] == "A-1"
    assert slack.click(COLP, done).status == 200
    (posted,) = slack.stub.wait_for("response")
    assert posted.data["replace_original"] is False
    assert posted.data["response_type"] == "ephemeral"
    assert '`/soc action done A-1 note="what was achieved"`' in posted.data["text"]


def test_update_and_note_buttons_say_what_to_type(slack):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, _button(listing.json["blocks"], slack_ids.OPERATION_UPDATE))
    slack.click(COLP, _button(listing.json["blocks"], slack_ids.OPERATION_NOTE))
    update, note = (c.data["text"] for c in slack.stub.wait_for("response", 2))
    assert "/soc action update A-1 rag=green" in update
    assert "/soc action note A-1 " in note


def test_a_tampered_button_value_is_not_echoed(slack):
    button = {"action_id": slack_ids.OPERATION_DONE, "value": "<!channel>",
              "text": {"type": "plain_text", "text": "Mark done"}}  # fmt: skip
    slack.click(COLP, button)
    (posted,) = slack.stub.wait_for("response")
    assert "<!channel>" not in posted.body
    assert "A-&lt;number&gt;" in posted.data["text"]
