"""Forms: `/soc action add` and `/soc action edit <ref>` open a modal; errors stay on the field."""

import json

from sqlmodel import Session, select

from bot.slack import ids as slack_ids
from bot.slack.render.blocks import MAX_HOME_BLOCKS
from models.tables import Action, ActionChange
from tests.conftest import COLP, CST, OBSERVER, SECRETARIAT
from tests.slack_fixtures import modal_ids
from tests.slack_stub import buttons_in

pytest_plugins = ("tests.slack_fixtures",)


def _action(engine, number: int) -> Action | None:
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).first()


def _changes(engine, number: int) -> list[ActionChange]:
    with Session(engine) as session:
        action_id = _action(engine, number).id
        query = select(ActionChange).where(ActionChange.action_id == action_id)
        return list(session.exec(query.order_by(ActionChange.id)))


def _inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"].removeprefix(slack_ids.FIELD_BLOCK): b["element"]
            for b in view["blocks"] if b["type"] == "input"}  # fmt: skip


def test_action_add_opens_the_form_before_reading_the_database(slack):
    answer = slack.command(SECRETARIAT, "action add")
    assert (answer.status, answer.body) == (200, "")
    methods = [c.method for c in slack.stub.calls if c.method != "auth.test"]
    assert methods[:2] == ["views.open", "views.update"]
    opened = slack.stub.calls_to("views.open")[0].data
    assert opened["trigger_id"] == "1337.42.abcdef"
    assert "Loading" in json.dumps(opened["view"])
    form = slack.stub.view()
    assert form["callback_id"] == slack_ids.VIEW_ACTION_FORM
    assert form["title"]["text"] == "New action" and form["submit"]["text"] == "Add action"
    inputs = _inputs(form)
    assert list(inputs) == ["area", "lead", "title", "action", "barriers", "outcomes", "strand",
                            "due", "confidential"]  # fmt: skip
    kinds = {key: element["type"] for key, element in inputs.items()}
    assert kinds == {"area": "static_select", "lead": "multi_static_select",
                     "title": "plain_text_input", "action": "plain_text_input",
                     "barriers": "plain_text_input", "outcomes": "plain_text_input",
                     "strand": "checkboxes", "due": "datepicker",
                     "confidential": "checkboxes"}  # fmt: skip
    assert "Cyber attack" in [o["text"]["text"] for o in inputs["area"]["options"]]
    assert len(form["blocks"]) <= MAX_HOME_BLOCKS


def test_the_add_form_adds_the_action(slack, board_engine):
    slack.command(SECRETARIAT, "action add")
    cyber, colp, trading = modal_ids(board_engine)
    answer = slack.submit(SECRETARIAT, slack.stub.view(), {
        "area": str(cyber), "lead": [str(colp), str(trading)], "title": "Phishing drill",
        "action": "Run it & report <back>", "strand": ["protect", "prevent"], "due": "2027-03-31",
        "confidential": ["yes"]})  # fmt: skip
    assert (answer.status, answer.body) == (200, "")
    action = _action(board_engine, 12)
    assert (action.issue, action.action_text, str(action.due_date), action.confidential) == (
        "Phishing drill", "Run it & report <back>", "2027-03-31", True)  # fmt: skip
    assert action.area_id == cyber
    (told,) = slack.stub.calls_to("response")
    assert told.data["text"].startswith("Added A-12: 🔒 Phishing drill")
    assert told.data["response_type"] == "ephemeral"


def test_add_form_mistakes_show_on_their_fields_and_nothing_is_saved(slack, board_engine):
    slack.command(SECRETARIAT, "action add")
    answer = slack.submit(SECRETARIAT, slack.stub.view(), {"title": "   "})
    assert answer.json == {"response_action": "errors", "errors": {
        "soc_field_area": "Choose the key crime area.",
        "soc_field_lead": "Choose at least one lead partner.",
        "soc_field_title": "Give the action a title."}}  # fmt: skip
    assert _action(board_engine, 12) is None


def test_a_partner_asking_for_the_add_form_is_told_in_it(slack):
    slack.command(COLP, "action add")
    shown = json.dumps(slack.stub.view(), ensure_ascii=False)
    assert "Only the chair, deputy chair or secretariat can add actions" in shown
    assert "soc_field_" not in shown


def test_action_add_with_options_is_still_the_typed_command(slack):
    answer = slack.command(SECRETARIAT, 'action add area=cyber lead=CoLP title="Typed"')
    assert answer.text.startswith("Added A-12")
    assert not slack.stub.calls_to("views.open")


def test_action_edit_opens_the_form_prefilled_without_admin_fields_for_a_partner(slack):
    slack.command(COLP, "action edit A-1")
    form = slack.stub.view()
    assert form["title"]["text"] == "Edit A-1"
    inputs = _inputs(form)
    assert list(inputs) == ["title", "action", "barriers", "outcomes", "strand", "due", "note"]
    assert inputs["title"]["initial_value"].startswith("Dashboard of Serious and Organised Crime")
    assert json.loads(form["private_metadata"])["target"] == "A-1:1"
    assert "change area, leads and confidential" in json.dumps(form["blocks"])


def test_the_edit_form_saves_only_what_changed(slack, board_engine):
    slack.command(COLP, "action edit A-1")
    before = len(_changes(board_engine, 1))
    answers = {"barriers": "None left", "due": "2027-04-30", "note": "Agreed at the NCA meeting"}
    answer = slack.submit(COLP, slack.stub.view(), answers)
    assert answer.body == ""
    new = _changes(board_engine, 1)[before:]
    assert [(c.field, c.new_value, c.note) for c in new] == [
        ("barriers", "None left", "Agreed at the NCA meeting"),
        ("due_date", "2027-04-30", "Agreed at the NCA meeting")]  # fmt: skip
    (told,) = slack.stub.calls_to("response")
    assert told.data["text"].startswith("Updated A-1")


def test_an_unchanged_edit_form_says_so_on_the_note(slack, board_engine):
    slack.command(COLP, "action edit A-1")
    answer = slack.submit(COLP, slack.stub.view())
    assert answer.json["errors"] == {
        "soc_field_note": "Nothing has changed: change something, or cancel."}  # fmt: skip


def test_a_refused_value_is_shown_on_its_field(slack):
    slack.command(COLP, "action edit A-1")
    answer = slack.submit(COLP, slack.stub.view(), {"due": "1999-01-01"})
    assert answer.json["response_action"] == "errors"
    assert "2000" in answer.json["errors"]["soc_field_due"]


def test_editing_after_someone_else_changed_it_says_who_and_keeps_their_change(
    slack, board_engine, console
):
    slack.command(COLP, "action edit A-1")
    form = slack.stub.view()
    assert not console.as_user(SECRETARIAT).ask('action update A-1 title="Their title"').error
    answer = slack.submit(COLP, form, {"title": "My title"})
    assert answer.json["response_action"] == "update"
    shown = json.dumps(answer.json["view"], ensure_ascii=False)
    assert "A-1 was changed by David MacKintosh a moment ago" in shown
    assert "Their title" in shown  # here is the current state
    assert _action(board_engine, 1).issue == "Their title"


def test_the_secretariat_edits_area_leads_and_confidentiality(slack, board_engine):
    slack.command(SECRETARIAT, "action edit A-1")
    form = slack.stub.view()
    inputs = _inputs(form)
    assert {"area", "lead", "confidential"} <= set(inputs)
    cyber, colp, trading = modal_ids(board_engine)
    assert [o["value"] for o in inputs["lead"]["initial_options"]] == [str(colp)]
    slack.submit(SECRETARIAT, form, {"lead": [str(trading)], "confidential": ["yes"]})
    action = _action(board_engine, 1)
    assert action.confidential
    assert {c.field for c in _changes(board_engine, 1)[-2:]} == {"leads", "confidential"}


def test_a_forged_admin_field_from_a_partner_is_refused_as_the_command_refuses_it(
    slack, board_engine
):
    slack.command(COLP, "action edit A-1")
    form = slack.stub.view()
    cyber, _, trading = modal_ids(board_engine)
    forged = {**form, "blocks": [*form["blocks"], {
        "type": "input", "block_id": "soc_field_lead",
        "element": {"type": "multi_static_select", "action_id": "value",
                    "options": [{"text": {"type": "plain_text", "text": "TS"},
                                 "value": str(trading)}]}}]}  # fmt: skip
    before = len(_changes(board_engine, 1))
    answer = slack.submit(COLP, forged, {"lead": [str(trading)]})
    # The form stays open with what was typed, the command's refusal under a field.
    assert answer.json["response_action"] == "errors"
    assert answer.json["errors"]["soc_field_note"].startswith(
        "Only the chair, deputy chair or secretariat can change lead."
    )
    assert len(_changes(board_engine, 1)) == before


def test_others_cannot_edit(slack):
    for user in (CST, OBSERVER):
        slack.command(user, "action edit A-1")
        assert "You can't change A-1" in json.dumps(slack.stub.view())


def test_edit_from_a_listing_redraws_the_listing(slack, board_engine):
    listing = slack.command(COLP, "action status")
    edit = next(b for b in buttons_in(listing.json["blocks"])
                if b["action_id"] == slack_ids.OPERATION_UPDATE)  # fmt: skip
    slack.click(COLP, edit, listing.response_url)
    assert slack.submit(COLP, slack.stub.view(), {"title": "Dashboard v2"}).body == ""
    (redrawn,) = slack.stub.calls_to("response")
    assert redrawn.data["replace_original"] is True
    assert "Dashboard v2" in redrawn.data["text"]


def test_a_form_with_broken_metadata_saves_nothing(slack, board_engine):
    slack.command(COLP, "action edit A-1")
    form = {**slack.stub.view(), "private_metadata": "not json"}
    answer = slack.submit(COLP, form, {"title": "Nope"})
    assert "out of date" in json.dumps(answer.json["view"])
    assert _action(board_engine, 1).issue != "Nope"
