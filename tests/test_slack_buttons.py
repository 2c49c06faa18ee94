"""Buttons: paging, and changing actions from a reply or a reminder DM in one or two clicks."""

import json

import pytest
from sqlmodel import Session, select

from bot.senders.reminders import ReminderSender
from bot.slack import ids as slack_ids
from bot.slack.courier import reminder_client, slack_couriers
from bot.slack.render.blocks import fallback_text
from bot.slack.server import create_wsgi_app
from models.tables import Action, ActionChange
from tests.conftest import CHAIR, COLP, CST, LONDON, OBSERVER, SECRETARIAT
from tests.slack_fixtures import find_button, rag_option
from tests.slack_stub import SlackHarness, buttons_in, slack_settings
from tests.worker_fixtures import FIVE_DAYS

pytest_plugins = ("tests.slack_fixtures",)


def _action(engine, number: int) -> Action:
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).one()


def _changes(engine, number: int) -> list[ActionChange]:
    with Session(engine) as session:
        action_id = _action(engine, number).id
        query = select(ActionChange).where(ActionChange.action_id == action_id)
        return list(session.exec(query.order_by(ActionChange.id)))


# --- paging ------------------------------------------------------------------------------------


def test_long_listing_has_a_next_button_running_page_two(slack):
    first = slack.command(CHAIR, "action status all")
    assert "Page 1 of" in first.text
    next_button = find_button(first.json["blocks"], slack_ids.PAGE_NEXT)
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
    previous = find_button(posted.data["blocks"], slack_ids.PAGE_PREVIOUS)
    assert previous["value"] == "action status all page 1"


def test_paging_runs_as_the_clicker_not_the_original_asker(slack, console):
    first = slack.command(CHAIR, "action status all")
    next_button = find_button(first.json["blocks"], slack_ids.PAGE_NEXT)
    slack.click(OBSERVER, next_button)
    (posted,) = slack.stub.wait_for("response")
    observers_own = console.as_user(OBSERVER).ask("action status all page 2")
    assert posted.data["text"] == fallback_text(observers_own, LONDON)
    assert not [b for b in buttons_in(posted.data["blocks"]) if b["action_id"].startswith("soc_op")]


def test_page_buttons_answer_within_the_request(slack):
    first = slack.command(CHAIR, "action status all")
    slack.click(CHAIR, find_button(first.json["blocks"], slack_ids.PAGE_NEXT))
    # The post landed before the click's HTTP answer returned: no waiting needed.
    assert len(slack.stub.calls_to("response")) == 1


def test_a_page_button_forged_to_change_something_changes_nothing(slack, board_engine):
    first = slack.command(CHAIR, "action status all")
    forged = {**find_button(first.json["blocks"], slack_ids.PAGE_NEXT)}
    forged["value"] = 'action update A-1 rag=red note="forged"'
    before = len(_changes(board_engine, 1))
    assert slack.click(COLP, forged).status == 200
    (told,) = slack.stub.wait_for("response")
    assert "out of date" in told.data["text"].casefold()
    assert _action(board_engine, 1).rag == "amber"
    assert len(_changes(board_engine, 1)) == before


# --- the controls on an item -------------------------------------------------------------------


def test_each_item_has_a_rag_select_complete_note_due_date_and_edit(slack):
    listing = slack.command(COLP, "action status")
    block = next(b for b in listing.json["blocks"] if b["type"] == "actions")
    assert block["block_id"] == "soc_ops|A-1:1|0|action status"
    kinds = [(e["type"], e["action_id"]) for e in block["elements"]]
    assert kinds == [("static_select", slack_ids.OPERATION_RAG),
                     ("button", slack_ids.OPERATION_DONE), ("button", slack_ids.OPERATION_NOTE),
                     ("datepicker", slack_ids.OPERATION_DUE),
                     ("button", slack_ids.OPERATION_UPDATE)]  # fmt: skip
    select_ = block["elements"][0]
    assert [o["value"] for o in select_["options"]] == [
        "A-1:1|red", "A-1:1|amber", "A-1:1|green", "A-1:1|blue"]  # fmt: skip
    assert block["elements"][1]["value"] == "A-1:1"
    labels = [e.get("text", e.get("placeholder"))["text"] for e in block["elements"]]
    assert labels == ["Update RAG", "Mark complete", "Add note", "Change due date", "Edit…"]


def test_nobody_gets_controls_they_may_not_use(slack):
    for user in (OBSERVER, CST):
        listing = slack.command(user, "action status A-1")
        assert not buttons_in(listing.json["blocks"]), user


def test_choosing_a_colour_updates_the_action_and_redraws_the_reply(slack, board_engine, console):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    assert slack.click(COLP, select_, listing.response_url, choose=rag_option(select_, "green"))
    assert _action(board_engine, 1).rag == "green"
    last = _changes(board_engine, 1)[-1]
    assert (last.field, last.old_value, last.new_value, last.actor_name) == (
        "rag", "amber", "green", "Rob Ellis")  # fmt: skip
    (redrawn,) = slack.stub.wait_for("response")
    assert redrawn.path == listing.response_url.removeprefix(slack.stub.base)
    assert redrawn.data["replace_original"] is True
    assert redrawn.data["text"].startswith("Your partner's actions")
    assert "✓ Updated A-1" in json.dumps(redrawn.data["blocks"], ensure_ascii=False)
    fresh = find_button(redrawn.data["blocks"], slack_ids.OPERATION_RAG, "A-1")
    assert fresh["options"][0]["value"] == "A-1:2|red"  # drawn at the new version
    # The chairman's summary reflects it at once.
    assert "1 Green" in console.as_user(CHAIR).ask("rag").text


def test_the_same_choice_sent_twice_changes_the_register_once(slack, board_engine):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    before = len(_changes(board_engine, 1))
    for _ in range(2):
        slack.click(COLP, select_, listing.response_url, choose=rag_option(select_, "red"))
    assert len(_changes(board_engine, 1)) == before + 1
    assert _action(board_engine, 1).version == 2
    explained = [c for c in slack.stub.calls_to("response") if not c.data["replace_original"]]
    (explanation,) = explained
    assert explanation.data["text"].startswith(
        "⚠ You already changed A-1 a moment ago, so this was not applied again.")  # fmt: skip
    assert "Here is its current state" in explanation.data["text"]
    assert "🔴 Red" in json.dumps(explanation.data["blocks"], ensure_ascii=False)


def test_a_change_made_meanwhile_is_not_overwritten(slack, board_engine, console):
    listing = slack.command(COLP, "action status")
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    slack.click(COLP, select_, listing.response_url, choose=rag_option(select_, "green"))
    assert _action(board_engine, 1).rag == "red"
    explanation = next(c for c in slack.stub.calls_to("response") if not c.data["replace_original"])
    assert explanation.data["response_type"] == "ephemeral"
    assert explanation.data["text"].startswith(
        "⚠ A-1 was changed by David MacKintosh a moment ago, so your change was not saved."
    )
    # The listing itself was redrawn with the current state and fresh controls.
    redrawn = next(c for c in slack.stub.calls_to("response") if c.data["replace_original"])
    assert "A-1:2|green" in json.dumps(redrawn.data["blocks"])


def test_someone_else_using_the_control_is_checked_as_the_command_is(slack, board_engine):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    before = len(_changes(board_engine, 1))
    for user in (CST, OBSERVER):
        slack.click(user, select_, choose=rag_option(select_, "red"))
    assert len(_changes(board_engine, 1)) == before
    texts = [c.data["text"] for c in slack.stub.calls_to("response")]
    assert sum(t.startswith("⚠ You can't change A-1") for t in texts) == 2


def test_the_date_picker_changes_the_due_date(slack, board_engine):
    listing = slack.command(COLP, "action status")
    picker = find_button(listing.json["blocks"], slack_ids.OPERATION_DUE, "A-1")
    slack.click(COLP, picker, listing.response_url, choose="2027-03-31")
    assert str(_action(board_engine, 1).due_date) == "2027-03-31"
    assert _changes(board_engine, 1)[-1].field == "due_date"


def test_a_tampered_value_is_not_echoed_or_run(slack, board_engine):
    button = {"action_id": slack_ids.OPERATION_DONE, "value": "<!channel>",
              "text": {"type": "plain_text", "text": "Mark complete"}}  # fmt: skip
    slack.click(COLP, button)
    (posted,) = slack.stub.wait_for("response")
    assert "<!channel>" not in posted.body
    assert posted.data["text"].startswith("⚠ That button is out of date")
    assert not slack.stub.calls_to("views.open")


def test_a_tampered_source_is_never_run_as_a_command(slack, board_engine):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    forged = {**select_, "block_id": 'soc_ops|A-1:1|0|action done A-1 note="forged"'}
    slack.click(COLP, forged, listing.response_url, choose=rag_option(select_, "green"))
    assert _action(board_engine, 1).rag == "green"  # the choice, and only the choice
    (redrawn,) = slack.stub.calls_to("response")
    assert redrawn.data["text"].startswith("A-1: Dashboard")


# --- the forms behind Mark complete and Add note -----------------------------------------------


def test_mark_complete_asks_for_the_outcome_then_closes_the_action(slack, board_engine):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_DONE, "A-1"),
                listing.response_url)  # fmt: skip
    form = slack.stub.view()
    assert form["callback_id"] == slack_ids.VIEW_COMPLETE
    assert "A-1* will be marked complete" in json.dumps(form["blocks"], ensure_ascii=False)
    assert len(form["title"]["text"]) <= 24
    answer = slack.submit(COLP, form, {"outcome": "Dashboard live & shared"})
    assert (answer.status, answer.body) == (200, "")  # closes the form
    action = _action(board_engine, 1)
    assert action.rag == "blue"
    last = _changes(board_engine, 1)[-1]
    assert (last.field, last.new_value, last.note) == ("rag", "blue", "Dashboard live & shared")
    (redrawn,) = slack.stub.calls_to("response")
    blocks = redrawn.data["blocks"]
    assert "🔵 Blue" in json.dumps(blocks, ensure_ascii=False)
    assert not [b for b in buttons_in(blocks) if slack_ids.block_ref(b["block_id"]) == "A-1"]


def test_mark_complete_without_an_outcome_keeps_the_form_open_with_the_error(slack, board_engine):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_DONE, "A-1"))
    answer = slack.submit(COLP, slack.stub.view(), {"outcome": "   "})
    errors = {"soc_field_outcome": "Say what the action achieved."}
    assert answer.json == {"response_action": "errors", "errors": errors}
    assert _action(board_engine, 1).rag == "amber"


def test_the_same_completion_submitted_twice_closes_the_action_once(slack, board_engine):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_DONE, "A-1"))
    form = slack.stub.view()
    before = len(_changes(board_engine, 1))
    assert slack.submit(COLP, form, {"outcome": "Done"}).body == ""
    again = slack.submit(COLP, form, {"outcome": "Done"})
    assert again.json["response_action"] == "update"
    assert "You already marked A-1 complete" in json.dumps(again.json["view"])
    assert len(_changes(board_engine, 1)) == before + 1


def test_choosing_blue_opens_the_mark_complete_form(slack, board_engine):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], slack_ids.OPERATION_RAG, "A-1")
    slack.click(COLP, select_, choose=rag_option(select_, "blue"))
    assert slack.stub.view()["callback_id"] == slack_ids.VIEW_COMPLETE
    assert _action(board_engine, 1).rag == "amber"


def test_add_note_records_the_note_as_an_update(slack, board_engine):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_NOTE, "A-1"),
                listing.response_url)  # fmt: skip
    form = slack.stub.view()
    assert form["callback_id"] == slack_ids.VIEW_NOTE
    assert slack.submit(COLP, form, {"note": "Met the NCA <and> HMRC"}).body == ""
    last = _changes(board_engine, 1)[-1]
    assert (last.field, last.note) == ("note", "Met the NCA <and> HMRC")


def test_a_note_whose_action_changed_meanwhile_is_kept_in_the_form_to_send_again(
    slack, board_engine, console
):
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_NOTE, "A-1"))
    form = slack.stub.view()
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    answer = slack.submit(COLP, form, {"note": "Met the analysts"})
    assert answer.json["response_action"] == "update"
    again = answer.json["view"]
    shown = json.dumps(again, ensure_ascii=False)
    assert "A-1 was changed by David MacKintosh a moment ago" in shown and "🔴 Red" in shown
    (box,) = [b for b in again["blocks"] if b["type"] == "input"]
    assert box["element"]["initial_value"] == "Met the analysts"
    assert json.loads(again["private_metadata"])["target"] == "A-1:2"
    assert _changes(board_engine, 1)[-1].field == "rag"  # nothing added yet
    assert slack.submit(COLP, again).body == ""
    assert (_changes(board_engine, 1)[-1].field, _changes(board_engine, 1)[-1].note) == (
        "note", "Met the analysts")  # fmt: skip


def test_mark_complete_drawn_before_a_change_starts_again_at_the_current_version(
    slack, board_engine, console
):
    listing = slack.command(COLP, "action status")
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_DONE, "A-1"),
                listing.response_url)  # fmt: skip
    form = slack.stub.view()  # as updated once the click was checked
    assert json.loads(form["private_metadata"])["target"] == "A-1:2"
    assert "A-1 was changed by David MacKintosh" in json.dumps(form["blocks"])
    (redrawn,) = slack.stub.calls_to("response")  # the stale listing, drawn afresh
    assert "A-1:2|green" in json.dumps(redrawn.data["blocks"])
    assert slack.submit(COLP, form, {"outcome": "Done anyway"}).body == ""
    assert _action(board_engine, 1).rag == "blue"


def test_a_click_after_losing_permission_is_explained_in_the_form(slack, board_engine, console):
    listing = slack.command(COLP, "action status")
    assert not console.as_user(SECRETARIAT).ask("action update A-1 lead=CST").error
    slack.click(COLP, find_button(listing.json["blocks"], slack_ids.OPERATION_NOTE, "A-1"))
    (update,) = slack.stub.calls_to("views.update")
    shown = json.dumps(slack.stub.view("views.update"), ensure_ascii=False)
    assert update.data["view_id"] == slack.stub.view()["id"]
    assert "You can't change A-1" in shown
    before = len(_changes(board_engine, 1))
    form_as_opened = slack.stub.calls_to("views.open")[0].data["view"]
    answer = slack.submit(COLP, form_as_opened, {"note": "sneaky"})
    assert "You can't change A-1" in json.dumps(answer.json["view"])
    assert len(_changes(board_engine, 1)) == before


# --- a reminder DM -----------------------------------------------------------------------------


@pytest.fixture
def reminder(board_engine, settings, stub, console) -> dict:
    """CoLP's pre-meeting reminder DM, as the worker posts it."""
    assert not console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"').error
    client = reminder_client(slack_settings(settings, stub))
    ReminderSender(board_engine, slack_couriers(client, LONDON), LONDON).run_pass(FIVE_DAYS)
    return stub.delivered(COLP)[0]


@pytest.fixture
def dm_slack(board_engine, settings, stub) -> SlackHarness:
    """The app at the reminder's time."""
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine,
                              clock=lambda: FIVE_DAYS)  # fmt: skip
    return SlackHarness(web_app, stub)


def test_a_colour_chosen_in_a_reminder_redraws_that_item_in_the_dm(
    dm_slack, reminder, board_engine
):
    select_ = find_button(reminder["blocks"], slack_ids.OPERATION_RAG, "A-1")
    dm_slack.click(COLP, select_, choose=rag_option(select_, "green"), message=reminder)
    assert _action(board_engine, 1).rag == "green"
    (update,) = dm_slack.stub.calls_to("chat.update")
    assert (update.data["channel"], update.data["ts"]) == (reminder["channel"], reminder["ts"])
    kept = dm_slack.stub.delivered(COLP)[0]
    assert len(kept["blocks"]) == len(reminder["blocks"])
    assert kept["blocks"][0] == reminder["blocks"][0]  # the rest of the reminder is unchanged
    item = [b for b in kept["blocks"] if slack_ids.block_ref(b.get("block_id", "")) == "A-1"]
    assert "🟢 Green" in item[0]["text"]["text"]
    assert "A-1:2|red" in json.dumps(item)  # fresh controls at the new version
    dm_slack.stub.wait_for("views.publish")  # and their Home tab is up to date


def test_mark_complete_from_a_reminder_redraws_the_dm_after_the_form(
    dm_slack, reminder, board_engine
):
    done = find_button(reminder["blocks"], slack_ids.OPERATION_DONE, "A-1")
    dm_slack.click(COLP, done, message=reminder)
    assert dm_slack.submit(COLP, dm_slack.stub.view(), {"outcome": "Live"}).body == ""
    assert _action(board_engine, 1).rag == "blue"
    kept = dm_slack.stub.delivered(COLP)[0]
    item = [b for b in kept["blocks"] if slack_ids.block_ref(b.get("block_id", "")) == "A-1"]
    assert "🔵 Blue" in item[0]["text"]["text"]
    assert not [b for b in item if b["type"] == "actions"]  # nothing left to press twice


def test_an_older_control_never_reopens_an_action_completed_since(dm_slack, reminder, board_engine):
    assert dm_slack.command(COLP, 'action done A-1 note="Live"').text.startswith("Updated A-1")
    select_ = find_button(reminder["blocks"], slack_ids.OPERATION_RAG, "A-1")
    # A control drawn without a version, as by older versions of the app.
    dm_slack.click(COLP, select_, choose="A-1|green", message=reminder)
    assert _action(board_engine, 1).rag == "blue"
    told = next(c for c in dm_slack.stub.calls_to("response") if c.data.get("text"))
    assert told.data["text"].startswith("⚠ A-1 was marked complete since this was shown")


def test_a_reminder_click_after_someone_else_changed_the_action_is_refused(
    dm_slack, reminder, board_engine
):
    select_ = find_button(reminder["blocks"], slack_ids.OPERATION_RAG, "A-1")
    assert "A-1:1|green" in json.dumps(select_)  # the DM's controls carry the version shown
    assert dm_slack.command(COLP, "action update A-1 due=31/03/2027").text.startswith("Updated")
    dm_slack.click(COLP, select_, choose=rag_option(select_, "green"), message=reminder)
    assert _action(board_engine, 1).rag == "amber"  # nothing overwritten
    told = [c.data.get("text", "") for c in dm_slack.stub.calls_to("response")]
    assert any("changed" in text and "A-1" in text for text in told), told
