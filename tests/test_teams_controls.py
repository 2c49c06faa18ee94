"""Card controls in Teams: the same handlers as Slack's buttons, versioned, answered in place."""

import json

from sqlmodel import Session, select

from bot.teams import ids
from models.tables import Action, ActionChange
from tests.conftest import CHAIR, COLP, CST, OBSERVER, SECRETARIAT
from tests.teams_stub import card_actions, click, control, object_id, texts_of

pytest_plugins = ("tests.teams_fixtures",)


def _action(engine, number: int) -> Action:
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).one()


def _changes(engine, number: int) -> list[ActionChange]:
    with Session(engine) as session:
        action_id = _action(engine, number).id
        query = select(ActionChange).where(ActionChange.action_id == action_id)
        return list(session.exec(query.order_by(ActionChange.id)))


def _card_for(teams, connector, slack_id: str, text: str) -> dict:
    teams.post(teams.personal_message(object_id(slack_id), text))
    return connector.sent()[-1].card


def test_each_item_carries_rag_complete_note_and_due_with_its_version(teams, connector):
    card = _card_for(teams, connector, COLP, "action status")
    verbs = {a["verb"] for a in card_actions(card) if a["data"].get("target") == "A-1:1"}
    assert verbs == {ids.VERB_RAG, ids.VERB_DONE, ids.VERB_NOTE, ids.VERB_DUE, ids.VERB_EDIT}
    rag = control(card, ids.VERB_RAG, "A-1")
    assert rag["data"]["source"] == "action status"


def test_nobody_gets_controls_they_may_not_use(teams, connector):
    for person in (OBSERVER, CST):
        card = _card_for(teams, connector, person, "action status A-1")
        assert not [a for a in card_actions(card) if a["verb"] != ids.VERB_PAGE], person


def test_choosing_a_colour_updates_the_action_and_refreshes_the_card(teams, connector, console):
    card = _card_for(teams, connector, COLP, "action status")
    status, body = click(teams, object_id(COLP), control(card, ids.VERB_RAG, "A-1"), "green")
    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert _action(teams.bot.runtime.engine, 1).rag == "green"
    last = _changes(teams.bot.runtime.engine, 1)[-1]
    assert (last.field, last.new_value, last.actor_name) == ("rag", "green", "Rob Ellis")
    refreshed = body["value"]
    assert "Updated A-1" in texts_of(refreshed)
    assert "Your partner's actions" in texts_of(refreshed)
    assert control(refreshed, ids.VERB_RAG, "A-1")["data"]["target"] == "A-1:2"
    assert "1 Green" in console.as_user(CHAIR).ask("rag").text


def test_the_same_click_twice_changes_the_register_once(teams, connector, board_engine):
    card = _card_for(teams, connector, COLP, "action status")
    rag = control(card, ids.VERB_RAG, "A-1")
    before = len(_changes(board_engine, 1))
    click(teams, object_id(COLP), rag, "red")
    status, body = click(teams, object_id(COLP), rag, "red")
    assert status == 200
    assert len(_changes(board_engine, 1)) == before + 1
    shown = texts_of(body["value"])
    assert "You already changed A-1 a moment ago" in shown
    assert "🔴 Red" in shown


def test_a_change_made_meanwhile_is_not_overwritten_and_says_who(teams, connector, console):
    card = _card_for(teams, connector, COLP, "action status")
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    _, body = click(teams, object_id(COLP), control(card, ids.VERB_RAG, "A-1"), "green")
    assert _action(teams.bot.runtime.engine, 1).rag == "red"
    shown = texts_of(body["value"])
    assert "A-1 was changed by David MacKintosh a moment ago" in shown
    # Fresh controls at the current version, so the next click works.
    assert control(body["value"], ids.VERB_RAG, "A-1")["data"]["target"] == "A-1:2"


def test_someone_else_using_the_control_is_checked_as_the_command_is(teams, connector):
    card = _card_for(teams, connector, COLP, "action status")
    rag = control(card, ids.VERB_RAG, "A-1")
    engine = teams.bot.runtime.engine
    before = len(_changes(engine, 1))
    for person in (CST, OBSERVER):
        _, body = click(teams, object_id(person), rag, "red")
        assert "You can't change A-1" in texts_of(body["value"]), person
    assert len(_changes(engine, 1)) == before


def test_mark_complete_asks_for_and_records_the_outcome(teams, connector, board_engine):
    card = _card_for(teams, connector, COLP, "action status")
    done = control(card, ids.VERB_DONE, "A-1")
    _, body = click(teams, object_id(COLP), done, "   ")
    assert "Say what the action achieved" in texts_of(body["value"])
    assert _action(board_engine, 1).rag == "amber"
    click(teams, object_id(COLP), done, "Dashboard live")
    action = _action(board_engine, 1)
    assert action.rag == "blue"
    assert "Dashboard live" in {c.note for c in _changes(board_engine, 1)}


def test_add_note_and_due_date(teams, connector, board_engine):
    card = _card_for(teams, connector, COLP, "action status")
    click(teams, object_id(COLP), control(card, ids.VERB_NOTE, "A-1"), "Met the SMEs")
    assert "Met the SMEs" in {c.note for c in _changes(board_engine, 1)}
    card = _card_for(teams, connector, COLP, "action status")
    click(teams, object_id(COLP), control(card, ids.VERB_DUE, "A-1"), "2027-03-31")
    assert str(_action(board_engine, 1).due_date) == "2027-03-31"
    _, body = click(teams, object_id(COLP), control(card, ids.VERB_DUE, "A-1"), "31st")
    assert "out of date" in texts_of(body["value"])


def test_tampered_controls_are_refused_and_not_echoed(teams, board_engine):
    before = len(_changes(board_engine, 1))
    forged = [
        {"verb": ids.VERB_RAG, "data": {"target": "<at>all</at>", "input": "rag.0"}},
        {"verb": ids.VERB_RAG, "data": {"target": "A-1:1", "input": "note.0"}},
        {"verb": ids.VERB_RAG, "data": {"target": "A-1:1", "input": "rag.0"}, "value": "blue"},
        {"verb": ids.VERB_PAGE, "data": {"command": 'action update A-1 rag=red note="x"'}},
    ]
    for action in forged:
        _, body = click(teams, object_id(COLP), action, action.get("value", "red"))
        shown = json.dumps(body, ensure_ascii=False)
        assert "out of date" in shown
        assert "<at>all</at>" not in shown
    assert len(_changes(board_engine, 1)) == before


def test_page_buttons_run_the_next_page(teams, connector):
    card = _card_for(teams, connector, CHAIR, "action status all")
    [following] = [a for a in card_actions(card) if a["verb"] == ids.VERB_PAGE]
    assert following["data"]["command"] == "action status all page 2"
    status, body = click(teams, object_id(CHAIR), following)
    assert status == 200
    assert "Page 2 of" in texts_of(body["value"])
