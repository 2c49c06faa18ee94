"""Invitations already sent are updated in place when the exercise is extended or closed early."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.senders.priorities import PrioritySender
from bot.slack.courier import reminder_client, slack_couriers
from bot.slack.ids import ANSWER_BUTTON
from bot.teams.courier import TeamsCourier
from models.ledger import SENT
from models.tables import PriorityDelivery, PriorityExercise
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    LONDON,
    NOW,
    SECRETARIAT,
    TRADING,
)
from tests.model_fixtures import EACH_KIND, database_of_kind
from tests.slack_stub import buttons_in, slack_settings
from tests.teams_stub import link_teams, local_connection_manager, object_id, teams_settings
from tests.worker_fixtures import FAST, dms, race, slow_slack

pytest_plugins = ("tests.slack_fixtures", "tests.teams_fixtures")

ASKED = {SECRETARIAT, COLP, TRADING, COOPTEE}  # one contact per partner with a member
LATER = NOW + timedelta(minutes=1)
NEW_CLOSE = datetime(2027, 2, 13, 0, 0, tzinfo=UTC)  # the end of Fri 12 Feb 2027 in London


@pytest.fixture(params=EACH_KIND)
def database_url(request, tmp_path):
    """Each test on SQLite, and on PostgreSQL where SOC_TEST_POSTGRES_URL is set."""
    with database_of_kind(request.param, tmp_path, "soc_extend") as url:
        yield url


def slack_sender(engine, settings, stub) -> PrioritySender:
    """A priorities sender talking to the Slack stand-in, with fast retries."""
    client = reminder_client(slack_settings(settings, stub), retry_interval=FAST)
    return PrioritySender(engine, slack_couriers(client, LONDON), lease=timedelta(minutes=10))


def invitations(engine) -> list[PriorityDelivery]:
    """The exercise's invitation ledger rows, oldest first."""
    with Session(engine) as session:
        query = select(PriorityDelivery).where(PriorityDelivery.kind == "invitation")
        return list(session.exec(query.order_by(PriorityDelivery.id)))


def closes_at(engine) -> datetime:
    """The exercise's closing moment, as stored."""
    with Session(engine) as session:
        return session.exec(select(PriorityExercise.closes_at)).one()


def answer_buttons(message: dict) -> list[dict]:
    """The Answer buttons of a Slack message."""
    return [b for b in buttons_in(message["blocks"]) if b["action_id"] == ANSWER_BUTTON]


@pytest.fixture
def invited(slack, board_engine, settings, stub):
    """An exercise closing Fri 5 Feb 2027, its four invitations sent through the Slack stand-in."""
    slack.command(SECRETARIAT, "priorities open closes=5/2/2027")
    assert slack_sender(board_engine, settings, stub).run_pass(NOW).sent == len(ASKED)
    assert all("Fri 5 Feb 2027" in m["text"] for m in stub.delivered())
    return slack


# --- Slack ---------------------------------------------------------------------------------------


def test_an_extension_updates_each_invitation_once(invited, board_engine, settings, stub):
    answer = invited.command(CHAIR, "priorities extend closes=12/2/2027")
    assert "Invitations already sent are being updated with the new closing day." in answer.text
    assert "still show the old closing day" not in answer.everything
    sender = slack_sender(board_engine, settings, stub)
    assert sender.run_pass(LATER).sent == 0  # nothing new is sent: the messages are updated
    updates = stub.calls_to("chat.update")
    refs = {f"{c.data['channel']}:{c.data['ts']}" for c in updates}
    rows = invitations(board_engine)
    assert len(updates) == len(ASKED) and refs == {r.message_ref for r in rows}
    for user, [message] in dms(stub).items():  # the same four messages, rewritten
        assert "Answers close Fri 12 Feb 2027 (end of the day)" in message["text"], user
        assert "5 Feb" not in message["text"]
        assert len(answer_buttons(message)) == 1  # still answerable
    assert {r.due_at for r in rows} == {NEW_CLOSE} == {closes_at(board_engine)}
    assert {(r.status, r.error) for r in rows} == {(SENT, "")}
    # The next pass, and another worker's, find every invitation current.
    sender.run_pass(LATER + timedelta(minutes=1))
    slack_sender(board_engine, settings, stub).run_pass(LATER + timedelta(minutes=2))
    assert len(stub.calls_to("chat.update")) == len(ASKED)
    assert len(stub.delivered()) == len(ASKED)


def test_two_workers_at_once_update_each_invitation_once(invited, board_engine, settings, stub):
    invited.command(CHAIR, "priorities extend closes=12/2/2027")
    slow_slack(stub)  # each update takes a while, so the two passes overlap
    senders = [slack_sender(board_engine, settings, stub) for _ in range(2)]
    race(senders, LATER)
    updated = [(c.data["channel"], c.data["ts"]) for c in stub.calls_to("chat.update")]
    assert len(updated) == len(set(updated)) == len(ASKED)
    assert {r.due_at for r in invitations(board_engine)} == {NEW_CLOSE}


def test_an_early_close_updates_the_invitations_to_say_so_without_the_answer_button(
    invited, board_engine, settings, stub
):
    answer = invited.command(CHAIR, "priorities close")
    assert "Invitations already sent are being updated to say it closed." in answer.text
    slack_sender(board_engine, settings, stub).run_pass(LATER)
    assert len(stub.calls_to("chat.update")) == len(ASKED)
    closed = "The exercise closed early, Wed 20 Jan 2027 10:00: answers are no longer taken."
    for message in stub.delivered():
        assert closed in message["text"]
        assert answer_buttons(message) == []
    assert {r.due_at for r in invitations(board_engine)} == {NOW}
    slack_sender(board_engine, settings, stub).run_pass(LATER + timedelta(minutes=1))
    assert len(stub.calls_to("chat.update")) == len(ASKED)


def test_an_update_slack_asks_to_retry_is_made_on_the_next_pass(
    invited, board_engine, settings, stub
):
    invited.command(CHAIR, "priorities extend closes=12/2/2027")
    # The client's own three retries and the first try: one invitation's update gives up.
    stub.fail("chat.update", 429, retry_after=0, times=4)
    slack_sender(board_engine, settings, stub).run_pass(LATER)
    shown = sorted(r.due_at for r in invitations(board_engine))
    assert shown[0] < NEW_CLOSE and shown[1:] == [NEW_CLOSE] * (len(ASKED) - 1)
    assert sum("Fri 12 Feb 2027" in m["text"] for m in stub.delivered()) == len(ASKED) - 1
    slack_sender(board_engine, settings, stub).run_pass(LATER + timedelta(minutes=1))
    assert {r.due_at for r in invitations(board_engine)} == {NEW_CLOSE}
    assert all("Fri 12 Feb 2027" in m["text"] for m in stub.delivered())
    tried = len(stub.calls_to("chat.update"))
    slack_sender(board_engine, settings, stub).run_pass(LATER + timedelta(minutes=2))
    assert len(stub.calls_to("chat.update")) == tried


def test_a_deleted_invitation_is_left_logged_and_not_tried_again(
    invited, board_engine, settings, stub, caplog
):
    [deleted] = [m for m in stub.messages if m["channel"] == "D" + COLP[1:]]
    stub.messages.remove(deleted)  # the person deleted the conversation's message
    invited.command(CHAIR, "priorities extend closes=12/2/2027")
    with caplog.at_level(logging.WARNING, logger="bot.senders.priorities"):
        slack_sender(board_engine, settings, stub).run_pass(LATER)
    assert "cannot be updated: message_not_found" in caplog.text
    rows = {r.message_ref: r for r in invitations(board_engine)}
    gone = rows[f"{deleted['channel']}:{deleted['ts']}"]
    assert gone.status == SENT and "message_not_found" in gone.error
    assert all(r.error == "" for r in rows.values() if r is not gone)
    assert all("Fri 12 Feb 2027" in m["text"] for m in stub.delivered())
    slack_sender(board_engine, settings, stub).run_pass(LATER + timedelta(minutes=1))
    assert len(stub.calls_to("chat.update")) == len(ASKED)  # not tried again


# --- Teams ---------------------------------------------------------------------------------------


def teams_sender(engine, connector) -> PrioritySender:
    """A priorities sender whose only channel is Teams, through the connector stand-in."""
    config = teams_settings()
    courier = TeamsCourier(config, LONDON, connections=local_connection_manager(config),
                           service_url=connector.url)  # fmt: skip
    return PrioritySender(engine, {courier.channel: courier}, lease=timedelta(minutes=10))


def test_teams_invitations_are_updated_once_after_an_extension(
    slack, board_engine, settings, connector
):
    link_teams(board_engine, settings.board_slug, {p: object_id(p) for p in ASKED})
    slack.command(SECRETARIAT, "priorities open closes=5/2/2027")
    assert teams_sender(board_engine, connector).run_pass(NOW).sent == len(ASKED)
    sent = {c.path: c for c in connector.sent()}
    slack.command(CHAIR, "priorities extend closes=12/2/2027")
    teams_sender(board_engine, connector).run_pass(LATER)
    updates = connector.sent("PUT")
    assert len(updates) == len(ASKED)
    refs = [json.loads(r.message_ref) for r in invitations(board_engine)]
    assert {u.path for u in updates} == {
        f"/v3/conversations/{ref['conversation']}/activities/{ref['activity']}" for ref in refs
    }
    for update in updates:
        assert "Fri 12 Feb 2027" in update.text and "5 Feb" not in update.text
        assert update.path.rsplit("/", 1)[0] in sent  # the same chat the invitation went to
    assert {r.due_at for r in invitations(board_engine)} == {NEW_CLOSE}
    teams_sender(board_engine, connector).run_pass(LATER + timedelta(minutes=1))
    assert len(connector.sent("PUT")) == len(ASKED)
    assert len(connector.sent()) == len(ASKED)
