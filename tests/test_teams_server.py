"""The Teams server end to end: real aiohttp and SDK, Teams-shaped activities, a local connector."""

import json

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from models.tables import Action, Identity
from tests.conftest import CHAIR, COLP, CST, OBSERVER, STRANGER
from tests.teams_stub import CHANNEL_ID, OUTGOING_TOKEN, TENANT, object_id, texts_of

pytest_plugins = ("tests.teams_fixtures",)


def _identity(engine, teams_id: str) -> Identity:
    with Session(engine) as session:
        query = select(Identity).where(Identity.channel == "teams",
                                       Identity.external_id == teams_id)  # fmt: skip
        return session.exec(query).one()


def test_personal_chat_command_is_answered_in_that_chat_with_a_card(teams, connector):
    message = teams.personal_message(object_id(COLP), "action status")
    status, _ = teams.post(message)
    assert status == 202
    [reply] = connector.sent()
    conversation = message["conversation"]["id"]
    assert reply.path == f"/v3/conversations/{conversation}/activities/{message['id']}"
    assert reply.headers["Authorization"] == f"Bearer {OUTGOING_TOKEN}"
    assert reply.body["textFormat"] == "plain"
    assert reply.text.startswith("Your partner's actions")
    assert "A-1" in texts_of(reply.card)
    assert reply.card["version"] == "1.5"


def test_mention_html_nbsp_and_case_are_normalised(teams, connector):
    message = teams.personal_message(object_id(COLP), "<p><at>soc</at>&nbsp;ACTION status A-1</p>")
    teams.post(message)
    [reply] = connector.sent()
    assert reply.text.startswith("A-1:")


def test_first_message_stores_the_personal_conversation_for_reminders(teams, board_engine):
    teams.post(teams.personal_message(object_id(COLP), "help"))
    reference = json.loads(_identity(board_engine, object_id(COLP)).conversation)
    assert reference["conversation"]["id"] == f"a:personal-29:{object_id(COLP)}"
    assert reference["conversation"]["tenantId"] == TENANT
    assert reference["serviceUrl"] == teams.stub.url
    assert reference["user"]["aadObjectId"] == object_id(COLP)


def test_installation_and_members_added_store_the_conversation(teams, connector, board_engine):
    status, _ = teams.post(teams.installation(object_id(CHAIR)))
    assert status == 202
    assert _identity(board_engine, object_id(CHAIR)).conversation
    assert connector.sent() == []

    status, _ = teams.post(teams.members_added(object_id(COLP)))
    assert status == 202
    assert _identity(board_engine, object_id(COLP)).conversation
    [welcome] = connector.sent()
    assert "help" in welcome.text


def test_someone_not_on_the_board_is_told_so_and_nothing_is_stored(teams, connector):
    stranger = object_id(STRANGER)
    teams.post(teams.personal_message(stranger, "action status"))
    [reply] = connector.sent()
    assert reply.text.startswith("⚠")
    assert "member" in reply.text.casefold()


def test_chair_posts_the_rag_summary_in_the_channel(teams, connector):
    message = teams.channel_message(object_id(CHAIR), "rag")
    status, _ = teams.post(message)
    assert status == 202
    [posted] = connector.sent()
    assert posted.path.startswith(f"/v3/conversations/{CHANNEL_ID};messageid=")
    assert posted.text.startswith("RAG summary")
    assert connector.created() == []


def test_a_private_answer_asked_in_the_channel_goes_to_the_personal_chat(teams, connector):
    message = teams.channel_message(object_id(COLP), "action status")
    teams.post(message)
    [created] = connector.created()
    assert created.body["isGroup"] is False
    assert created.body["members"] == [{"id": f"29:{object_id(COLP)}"}]
    assert created.body["tenantId"] == TENANT
    private, note = connector.sent()
    assert private.path == f"/v3/conversations/a:personal-29:{object_id(COLP)}/activities"
    assert private.text.startswith("Your partner's actions")
    assert note.path.startswith(f"/v3/conversations/{CHANNEL_ID};messageid=")
    assert note.text == "I've sent you the answer in our personal chat."
    assert note.card is None  # nothing of the answer in the channel


def test_a_member_asking_for_rag_in_the_channel_gets_it_privately(teams, connector):
    teams.post(teams.channel_message(object_id(COLP), "rag"))
    private, note = connector.sent()
    assert private.path.startswith("/v3/conversations/a:personal-")
    assert "Only you can see this" in private.text
    assert "personal chat" in note.text


def test_when_no_personal_chat_can_be_opened_the_channel_says_where_to_ask(teams, connector):
    connector.fail_next(403)
    teams.post(teams.channel_message(object_id(COLP), "action status"))
    [note] = connector.sent()
    assert note.path.startswith(f"/v3/conversations/{CHANNEL_ID}")
    assert "could not open one" in note.text
    assert "A-1" not in note.text


def test_a_busy_connector_is_retried_after_retry_after(teams, connector):
    connector.fail_next(429, retry_after=0)
    connector.fail_next(503)
    status, _ = teams.post(teams.personal_message(object_id(COLP), "action status"))
    assert status == 202
    attempts = connector.sent()
    assert len(attempts) == 3
    assert attempts[-1].text.startswith("Your partner's actions")


def test_healthz_is_open_and_checks_the_database(teams):
    status, body = teams.request("GET", "/healthz")
    assert (status, body) == (200, {"ok": True})


def test_malformed_activity_is_refused_without_a_traceback(teams, connector):
    status, body = teams.request("POST", "/api/messages", b"{not json",
                                 {"Authorization": f"Bearer {teams.signer.token()}",
                                  "Content-Type": "application/json"})  # fmt: skip
    assert status == 400
    assert "Traceback" not in json.dumps(body)
    status, _ = teams.post({"type": "message"})  # no conversation
    assert status == 400
    assert connector.calls == []


def test_an_invoke_nothing_handles_is_still_answered(teams):
    activity = teams.invoke(object_id(COLP), "someone.else", {"x": 1})
    status, body = teams.post(activity)
    assert status == 200
    assert body["statusCode"] == 200
    assert "out of date" in texts_of(body["value"])
    other = teams.invoke(object_id(COLP), "x", {})
    other["name"] = "composeExtension/query"
    assert teams.post(other)[0] == 200


def test_typed_update_in_teams_changes_the_register(teams, connector, board_engine):
    teams.post(teams.personal_message(object_id(COLP), "action update A-1 rag=green"))
    with Session(board_engine) as session:
        action = session.exec(select(Action).where(Action.number == 1)).one()
    assert action.rag == "green"
    [reply] = connector.sent()
    assert "Updated A-1" in reply.text


def test_a_failure_inside_a_turn_shows_no_internals(teams, connector, monkeypatch):
    def broken(object_id, text):
        raise RuntimeError(f"internal detail {connector.url}")

    monkeypatch.setattr(teams.bot.runtime, "run", broken)
    status, _ = teams.post(teams.personal_message(object_id(COLP), "action status"))
    assert status == 202
    [reply] = connector.sent()
    assert reply.text.startswith("Sorry, something went wrong")
    assert "internal detail" not in json.dumps(reply.body)
    assert connector.url not in reply.text


@pytest.mark.parametrize(
    ("person", "allowed"),
    [(COLP, True), (CHAIR, True), (CST, False), (OBSERVER, False), (STRANGER, False)],
)
def test_typed_changes_are_authorised_by_the_same_handlers(teams, connector, person, allowed):
    engine = teams.bot.runtime.engine
    teams.post(teams.personal_message(object_id(person), 'action update A-1 rag=red note="x"'))
    with Session(engine) as session:
        action = session.exec(select(Action).where(Action.number == 1)).one()
    assert (action.rag == "red") is allowed
    [reply] = connector.sent()
    assert reply.text.startswith("⚠") is not allowed


def test_an_unchanged_conversation_is_not_written_again_on_every_message(teams, board_engine):
    teams.post(teams.personal_message(object_id(COLP), "help"))
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            writes.append(statement)

    event.listen(board_engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            teams.post(teams.personal_message(object_id(COLP), "help"))
    finally:
        event.remove(board_engine, "before_cursor_execute", count)
    assert [w for w in writes if "identity" in w.lower()] == []
