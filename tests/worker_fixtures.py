"""Reminder moments, the scheduled `board` fixture and reminder-sender helpers shared by worker
and Slack tests."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import func
from sqlmodel import Session, select

from bot.senders.reminders import ReminderSender
from bot.slack.courier import reminder_client, slack_couriers
from models.boards import get_board
from models.tables import ReminderDelivery
from tests.conftest import (
    COLP,
    COOPTEE,
    CST,
    LONDON,
    SECRETARIAT,
    TRADING,
)
from tests.slack_stub import slack_settings

# The second-Tuesday rule from NOW (Wed 20 Jan 2027): the next meeting is Tue 9 Feb 2027 10:00,
# reminded on Tue 2 Feb (5 working days) and Mon 8 Feb (1 working day, with the digest) at 09:00.
FIVE_DAYS = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)

ONE_DAY = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)

CONTACTS = {SECRETARIAT, COLP, CST, TRADING, COOPTEE}

FAST = FixedValueRetryIntervalCalculator(0.01)


@pytest.fixture
def board(console):
    """The test Board meeting on second Tuesdays; `console` acts as the secretariat."""
    console.as_user(SECRETARIAT)
    assert not console.ask('meeting schedule "second tuesday 10:00"').error
    return console


def ledger(engine) -> list[ReminderDelivery]:
    """Every reminder ledger row."""
    with Session(engine) as session:
        return list(session.exec(select(ReminderDelivery).order_by(ReminderDelivery.id)))


def board_statuses(engine, slug: str) -> dict[str, int]:
    """How many of a Board's reminder ledger rows are in each status."""
    with Session(engine) as session:
        board = get_board(session=session, slug=slug)
        rows = session.exec(
            select(ReminderDelivery.status, func.count())
            .where(ReminderDelivery.board_id == board.id)
            .group_by(ReminderDelivery.status)
        ).all()
    return dict(rows)


def statuses(engine, kind: str = "reminder") -> dict[str, int]:
    """How many reminder ledger rows of a kind are in each status."""
    counts: dict[str, int] = {}
    for row in ledger(engine):
        if row.kind == kind:
            counts[row.status] = counts.get(row.status, 0) + 1
    return counts


class Killed(BaseException):
    """The process dying: nothing after it runs (not even `except Exception`)."""


def make_sender(engine, settings, stub, *, lease=timedelta(minutes=10), chunk=25):
    """A sender talking to the stand-in, with fast retries."""
    client = reminder_client(slack_settings(settings, stub), retry_interval=FAST)
    return ReminderSender(engine, slack_couriers(client, LONDON), LONDON, lease=lease, chunk=chunk)


def dms(stub) -> dict[str, list[dict]]:
    """Delivered messages by Slack user (their DM channel is D + the id without its U)."""
    found: dict[str, list[dict]] = {}
    for message in stub.delivered():
        found.setdefault("U" + message["channel"][1:], []).append(message)
    return found


def crash_after_first_send(sender) -> None:
    """Make the sender's process die right after Slack accepted its first message."""
    post = sender.couriers["slack"].client.chat_postMessage
    dead = []

    def post_then_die(**kwargs):
        if dead:
            raise Killed("the process is gone: nothing more is sent")
        post(**kwargs)
        dead.append(True)
        raise Killed("killed between chat.postMessage and the ledger update")

    sender.couriers["slack"].client.chat_postMessage = post_then_die


def race(senders, now) -> list:
    """Run one pass on each sender at the same moment, in threads; their reports."""
    start = threading.Barrier(len(senders))
    reports = [None] * len(senders)
    errors = []

    def run(index, sender) -> None:
        start.wait()
        try:
            reports[index] = sender.run_pass(now)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return reports


def slow_slack(stub) -> None:
    """Make Slack answer each message after 20 ms, so two workers overlap."""
    original = stub._direct

    def slowly(call):
        time.sleep(0.02)
        return original(call)

    stub._direct = slowly
