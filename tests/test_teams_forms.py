"""The Edit… and Answer forms in Teams: cards with inputs, saved by the handlers' form use cases."""

from sqlmodel import Session, select

from bot.teams import ids
from bot.teams.cards import render_card
from bot.teams.forms import action_form_card, field_id
from handlers.priorities.forms import answer_operation
from handlers.register.actions import EDIT_FORM
from handlers.register.forms import ActionForm, Target
from handlers.replies import Item, Operation, Reply
from models.tables import (
    Action,
    ActionChange,
    CrimeArea,
    Partner,
    PriorityAnswer,
    PriorityExercise,
)
from tests.conftest import COLP, CST, LONDON, SECRETARIAT
from tests.teams_stub import card_actions, card_inputs, control, object_id, texts_of, valid_card

pytest_plugins = ("tests.teams_fixtures",)


def _action(engine, number: int) -> Action:
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).one()


def _changes(engine, number: int) -> int:
    with Session(engine) as session:
        action_id = _action(engine, number).id
        return len(
            session.exec(select(ActionChange).where(ActionChange.action_id == action_id)).all()
        )


def _invoke(teams, person: str, action: dict, inputs: dict | None = None) -> dict:
    """Click an Action.Execute with these inputs filled in (as Teams merges them into data)."""
    data = {**action["data"], **(inputs or {})}
    status, body = teams.post(teams.invoke(object_id(person), action["verb"], data))
    assert status == 200 and body["statusCode"] == 200
    return body["value"]


def _verb(card: dict, verb: str) -> dict:
    return next(a for a in card_actions(card) if a["verb"] == verb)


def _edit_form(teams, connector, validator, person: str = COLP, shown: str = "action status"):
    teams.post(teams.personal_message(object_id(person), shown))
    card = connector.sent()[-1].card
    return valid_card(validator, _invoke(teams, person, control(card, ids.VERB_EDIT, "A-1")))


# --- the action form ----------------------------------------------------------------------------


def test_edit_opens_the_form_prefilled_with_only_what_the_reader_may_change(
    teams, connector, validator, board_engine
):
    form = _edit_form(teams, connector, validator)
    fields = card_inputs(form)
    action = _action(board_engine, 1)
    assert fields[field_id("title")]["value"] == action.issue
    assert field_id("note") in fields
    # A lead partner's contact does not change area, leads or confidentiality.
    assert not {field_id(k) for k in ("area", "lead", "confidential")} & set(fields)
    assert "The chair, deputy chair or secretariat change area" in texts_of(form)
    save = _verb(form, ids.VERB_SAVE)
    assert save["data"]["target"] == "A-1:1"
    assert _verb(form, ids.VERB_PAGE)["data"]["command"] == "action status"  # Cancel


def test_the_secretariat_edits_area_leads_and_confidentiality(teams, connector, validator):
    form = _edit_form(teams, connector, validator, SECRETARIAT, "action status A-1")
    fields = card_inputs(form)
    assert fields[field_id("lead")]["isMultiSelect"] is True
    assert fields[field_id("lead")]["value"]  # the current leads, as ids
    assert fields[field_id("confidential")]["type"] == "Input.Toggle"


def test_saving_the_form_changes_the_action_and_redraws_the_listing(
    teams, connector, validator, board_engine
):
    form = _edit_form(teams, connector, validator)
    card = _invoke(teams, COLP, _verb(form, ids.VERB_SAVE),
                   {field_id("title"): "Engage SMEs in the Square Mile",
                    field_id("note"): "Retitled after the workshop"})  # fmt: skip
    valid_card(validator, card)
    action = _action(board_engine, 1)
    assert action.issue == "Engage SMEs in the Square Mile"
    assert (action.version, action.rag) == (2, "amber")
    shown = texts_of(card)
    assert "Updated A-1" in shown and "Your partner's actions" in shown
    assert control(card, ids.VERB_EDIT, "A-1")["data"]["target"] == "A-1:2"


def test_a_refused_value_comes_back_under_its_field_with_what_was_typed(
    teams, connector, validator, board_engine
):
    form = _edit_form(teams, connector, validator)
    before = _changes(board_engine, 1)
    typed = {field_id("title"): "", field_id("note"): "keep this"}
    card = valid_card(validator, _invoke(teams, COLP, _verb(form, ids.VERB_SAVE), typed))
    assert _changes(board_engine, 1) == before
    shown = texts_of(card)
    assert "Please check the form: nothing was saved." in shown
    fields = card_inputs(card)
    assert fields[field_id("note")]["value"] == "keep this"
    assert "value" not in fields[field_id("title")]  # emptied, as typed
    body = card["body"]
    title_at = next(i for i, e in enumerate(body) if e.get("id") == field_id("title"))
    assert body[title_at + 1]["inlines"][0]["color"] == "Attention"  # the error under it
    # Nothing changed at all is said too, and the form stays open.
    card = _invoke(teams, COLP, _verb(form, ids.VERB_SAVE), {field_id("note"): ""})
    assert "Nothing has changed" in texts_of(card)
    assert _verb(card, ids.VERB_SAVE)["data"]["target"] == "A-1:1"


def test_a_date_no_date_picker_sends_is_refused_on_its_field(teams, connector, validator):
    form = _edit_form(teams, connector, validator)
    card = _invoke(teams, COLP, _verb(form, ids.VERB_SAVE), {field_id("due"): "31st March"})
    assert "Choose the date with the date picker." in texts_of(card)


def test_a_form_drawn_before_someone_else_changed_the_action_saves_nothing_and_says_who(
    teams, connector, validator, console, board_engine
):
    form = _edit_form(teams, connector, validator)
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    card = _invoke(teams, COLP, _verb(form, ids.VERB_SAVE), {field_id("title"): "Mine"})
    valid_card(validator, card)
    assert _action(board_engine, 1).issue != "Mine"
    shown = texts_of(card)
    assert "A-1 was changed by David MacKintosh" in shown
    assert control(card, ids.VERB_EDIT, "A-1")["data"]["target"] == "A-1:2"  # fresh controls


def test_someone_who_may_not_change_the_action_cannot_open_or_save_the_form(
    teams, connector, validator, board_engine
):
    form = _edit_form(teams, connector, validator)
    before = _changes(board_engine, 1)
    opened = _invoke(teams, CST, {"verb": ids.VERB_EDIT, "data": {"target": "A-1:1"}})
    assert "You can't change A-1" in texts_of(opened)
    saved = _invoke(teams, CST, _verb(form, ids.VERB_SAVE), {field_id("title"): "Hijacked"})
    assert "You can't change A-1" in texts_of(saved)
    forged = _invoke(teams, COLP, {"verb": ids.VERB_SAVE, "data": {"target": "A-1"}},
                     {field_id("title"): "No version"})  # fmt: skip
    assert "out of date" in texts_of(forged)
    assert _changes(board_engine, 1) == before


def test_action_edit_typed_in_teams_offers_the_form_once(teams, connector, validator):
    teams.post(teams.personal_message(object_id(COLP), "action edit A-1"))
    card = valid_card(validator, connector.sent()[-1].card)
    [edit] = [a for a in card_actions(card) if a["title"] == "Edit…"]  # one, not one per source
    assert edit["data"]["target"] == "A-1:1"
    form = _invoke(teams, COLP, edit)
    assert _verb(form, ids.VERB_SAVE)["data"]["target"] == "A-1:1"


# --- the priorities answer form -----------------------------------------------------------------


def _answer_button(board_engine, validator) -> dict:
    """The Answer control of CoLP's invitation, as the Teams card draws it."""
    with Session(board_engine) as session:
        colp = session.exec(select(Partner).where(Partner.name == "City of London Police")).one()
        exercise = session.exec(select(PriorityExercise)).one()
    reply = Reply(title="Priorities", operations=[answer_operation(exercise.id, colp.id)])
    card = valid_card(validator, render_card(reply, LONDON))
    return _verb(card, ids.VERB_ANSWER)


def _area_id(board_engine, name: str) -> int:
    with Session(board_engine) as session:
        return session.exec(select(CrimeArea).where(CrimeArea.name == name)).one().id


def test_answer_opens_the_form_with_the_current_answer_and_records_a_new_one(
    teams, console, validator, board_engine
):
    assert not console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027").error
    assert not console.as_user(COLP).ask('priorities answer cyber=lead note="Fraud first"').error
    form = valid_card(validator, _invoke(teams, COLP, _answer_button(board_engine, validator)))
    cyber = f"{ids.STANCE_PREFIX}{_area_id(board_engine, 'Cyber attack')}"
    fields = card_inputs(form)
    assert fields[cyber]["value"] == "lead"
    assert fields[ids.ANSWER_NOTE]["value"] == "Fraud first"
    fraud = f"{ids.STANCE_PREFIX}{_area_id(board_engine, 'Fraud and cyber enabled crime')}"
    typed = {cyber: "contribute", fraud: "lead", ids.ANSWER_NOTE: "Fraud & cyber"}
    card = _invoke(teams, COLP, _verb(form, ids.VERB_SEND_ANSWER), typed)
    valid_card(validator, card)
    assert "Recorded City of London Police's answer" in texts_of(card)
    with Session(board_engine) as session:
        answers = session.exec(select(PriorityAnswer).order_by(PriorityAnswer.version)).all()
    assert [(a.version, a.note) for a in answers] == [(1, "Fraud first"), (2, "Fraud & cyber")]


def test_an_empty_answer_keeps_the_form_open_saying_why(teams, console, validator, board_engine):
    assert not console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027").error
    form = _invoke(teams, COLP, _answer_button(board_engine, validator))
    card = valid_card(validator, _invoke(teams, COLP, _verb(form, ids.VERB_SEND_ANSWER)))
    assert "Nothing was chosen, so nothing was saved." in texts_of(card)
    assert _verb(card, ids.VERB_SEND_ANSWER)["data"] == _verb(form, ids.VERB_SEND_ANSWER)["data"]
    with Session(board_engine) as session:
        assert session.exec(select(PriorityAnswer)).all() == []


def test_someone_from_another_partner_cannot_answer(teams, console, validator, board_engine):
    assert not console.as_user(SECRETARIAT).ask("priorities open closes=5/2/2027").error
    button = _answer_button(board_engine, validator)
    opened = _invoke(teams, CST, button)
    assert "You can't answer for City of London Police" in texts_of(opened)
    cyber = f"{ids.STANCE_PREFIX}{_area_id(board_engine, 'Cyber attack')}"
    sent = _invoke(teams, CST, {"verb": ids.VERB_SEND_ANSWER, "data": button["data"]},
                   {cyber: "lead"})  # fmt: skip
    assert "You can't answer for City of London Police" in texts_of(sent)
    tampered = _invoke(teams, COLP, {"verb": ids.VERB_ANSWER, "data": {"target": "x"}})
    assert "out of date" in texts_of(tampered)
    with Session(board_engine) as session:
        assert session.exec(select(PriorityAnswer)).all() == []


def test_a_reply_level_edit_button_is_drawn_where_no_item_has_one(validator):
    plain = Item(title="Engage SMEs", ref="A-3", version=7)
    reply = Reply(title="Edit A-3", items=[plain], source="action status A-3",
                  operations=[Operation(EDIT_FORM, "Edit…", "A-3:7")])  # fmt: skip
    [edit] = card_actions(valid_card(validator, render_card(reply, LONDON)))
    assert (edit["verb"], edit["data"]) == (
        ids.VERB_EDIT, {"target": "A-3:7", "source": "action status A-3"})  # fmt: skip


def test_a_text_too_long_for_the_card_input_is_left_out_never_cut(validator):
    long_text = "Partners to share information. " * 160  # about 5,000 characters
    values = {"title": "Engage SMEs", "action": long_text, "barriers": "None"}
    form = ActionForm(areas=[(1, "Fraud")], partners=[(1, "CoLP")], values=values,
                      editable=tuple(values), target=Target("A-3", 7))  # fmt: skip
    card = valid_card(validator, action_form_card(form, "action status A-3"))
    inputs = card_inputs(card)
    assert field_id("action") not in inputs  # not offered, so a save cannot write it back cut
    assert inputs[field_id("title")]["value"] == "Engage SMEs"
    assert inputs[field_id("barriers")]["value"] == "None"
    assert "Too long to edit here: actions" in texts_of(card)
