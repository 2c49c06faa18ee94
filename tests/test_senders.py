"""The exactly-once senders over an in-memory courier: no HTTP, no Slack, every crash case."""

from datetime import timedelta

import pytest
from sqlmodel import Session, delete

from bot.senders.courier import Result
from bot.senders.exactly_once import RESENT_LINE
from bot.senders.reminders import ReminderSender
from models.ledger import CLAIMED, FAILED, FAILURES, RETRY, SENT, deployment_id, key_of
from models.people import attach_identity, find_member_by_identity
from models.tables import Identity
from tests.conftest import COLP, CST, LONDON, SECRETARIAT, TRADING
from tests.fake_courier import FakeCourier, Sent, die_after_first_send
from tests.worker_fixtures import (  # noqa: F401  (board: a fixture)
    CONTACTS,
    FIVE_DAYS,
    board,
    ledger,
    statuses,
)

TEAMS_ID = "0b3c7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def sender(engine, *couriers: FakeCourier, lease=timedelta(minutes=10)) -> ReminderSender:
    """A reminder sender whose only ways out are these fake couriers."""
    return ReminderSender(engine, {c.channel: c for c in couriers}, LONDON, lease=lease)


def move_to_teams(engine, user_id: str, *, prefer: bool) -> None:
    """Give the member a Teams identity (dropping their Slack one unless `prefer`)."""
    with Session(engine) as session:
        member = find_member_by_identity(
            session=session, board_id=1, channel="slack", external_id=user_id
        )
        attach_identity(session=session, member=member, channel="teams",
                        external_id=TEAMS_ID, tenant="tenant-1")  # fmt: skip
        if prefer:
            member.channel = "teams"
            session.add(member)
        else:
            session.exec(delete(Identity).where(Identity.member_id == member.id,
                                                Identity.channel == "slack"))  # fmt: skip
        session.commit()


def test_a_pass_sends_each_reminder_once_and_records_where_it_went(board):  # noqa: F811
    slack = FakeCourier()
    report = sender(board.engine, slack).run_pass(FIVE_DAYS)
    assert report.sent == 5 and report.failed == report.retry == 0
    assert slack.received() == dict.fromkeys(CONTACTS, 1)
    rows = {row.address: row for row in ledger(board.engine)}
    colp = rows[f"slack::{COLP}"]
    assert colp.status == SENT and colp.message_ref in {m.ref for m in slack.sent}
    with Session(board.engine) as session:
        deployment = deployment_id(session=session)
    sent = next(m for m in slack.sent if m.ref == colp.message_ref)
    assert sent.key == f"{deployment}:reminder:{key_of(colp).text()}"
    assert "A-" in " ".join(item.ref or "" for item in sent.reply.items)


def test_two_passes_in_a_row_send_nothing_twice(board):  # noqa: F811
    slack = FakeCourier()
    first = sender(board.engine, slack).run_pass(FIVE_DAYS)
    second = sender(board.engine, slack).run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert first.sent == 5 and second.sent == 0 and second.reconciled == 0
    assert slack.received() == dict.fromkeys(CONTACTS, 1)


def test_a_crash_between_send_and_record_is_found_by_the_successor_not_resent(board):  # noqa: F811
    slack = FakeCourier(die_after=die_after_first_send)
    with pytest.raises(BaseException, match="killed between the send|the process is gone"):
        sender(board.engine, slack).run_pass(FIVE_DAYS)
    assert len(slack.sent) == 1 and statuses(board.engine) == {CLAIMED: 5}
    slack.revive()
    # The dead pass's lock went with it: the very next pass (lease or not) takes its claims over,
    # asks the courier first and sends only what did not go out.
    report = sender(board.engine, slack).run_pass(FIVE_DAYS)
    assert report.reconciled == 1 and report.sent == 4 and report.busy == 0
    assert slack.received() == dict.fromkeys(CONTACTS, 1)
    assert statuses(board.engine) == {SENT: 5}
    assert all(RESENT_LINE not in m.reply.notice for m in slack.sent)
    first = next(r for r in ledger(board.engine) if r.message_ref == slack.sent[0].ref)
    assert first.attempts == 2


def test_a_courier_that_cannot_find_sent_messages_resends_once_and_says_so(board):  # noqa: F811
    # A Slack-like channel whose courier, like Teams', cannot look for sent messages.
    teams = FakeCourier(can_find_sent=False, die_after=die_after_first_send)
    with pytest.raises(BaseException, match="killed between the send|the process is gone"):
        sender(board.engine, teams).run_pass(FIVE_DAYS)
    first_to = teams.sent[0].to.id
    teams.revive()
    report = sender(board.engine, teams, lease=timedelta(0)).run_pass(FIVE_DAYS)
    assert report.sent == 5 and report.reconciled == 0 and teams.finds == 0
    assert teams.received() == {**dict.fromkeys(CONTACTS, 1), first_to: 2}
    # Every claim the dead worker left may have gone out: each is sent again, saying so.
    again = [m for m in teams.sent if RESENT_LINE in m.reply.notice]
    assert sorted(m.to.id for m in again) == sorted(CONTACTS)
    assert teams.sent[0].key in {m.key for m in again}
    # Settled: a third pass sends nothing.
    assert sender(board.engine, teams, lease=timedelta(0)).run_pass(FIVE_DAYS).sent == 0
    assert len(teams.sent) == 6


def test_another_deployments_message_with_the_same_ledger_key_is_not_taken_for_ours(board):  # noqa: F811
    slack = FakeCourier(die_after=die_after_first_send)
    with pytest.raises(BaseException, match="killed between the send|the process is gone"):
        sender(board.engine, slack).run_pass(FIVE_DAYS)
    ours = slack.sent.pop()  # as if it never arrived: only staging's copy is in the DM
    staging_key = "0" * 32 + ours.key[32:]
    slack.sent.append(Sent(ours.to, ours.reply, staging_key, "staging-1"))
    slack.revive()
    report = sender(board.engine, slack, lease=timedelta(0)).run_pass(FIVE_DAYS)
    assert report.reconciled == 0 and report.sent == 5
    assert {m.key for m in slack.sent if m.to.id == ours.to.id} == {staging_key, ours.key}


def test_a_retry_from_the_courier_is_sent_on_a_later_pass(board):  # noqa: F811
    slack = FakeCourier(refuse={TRADING: Result(RETRY, error="ratelimited")})
    first = sender(board.engine, slack).run_pass(FIVE_DAYS)
    assert first.retry == 1 and TRADING not in slack.received()
    slack.refuse.clear()
    later = sender(board.engine, slack).run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert later.sent == 1 and slack.received() == dict.fromkeys(CONTACTS, 1)


def test_a_member_nobody_can_reach_is_recorded_failed_and_reported_once(board):  # noqa: F811
    move_to_teams(board.engine, COLP, prefer=False)
    slack = FakeCourier()
    report = sender(board.engine, slack).run_pass(FIVE_DAYS)
    assert report.sent == 4 and report.failed == 1 and report.notices == 1
    failed = next(r for r in ledger(board.engine) if r.status == FAILED and r.kind != FAILURES)
    assert (
        failed.address == "" and failed.error == "Rob Ellis is only on teams (channels here: slack)"
    )
    notice = [m for m in slack.sent if m.to.id == SECRETARIAT and "could not" in m.reply.title]
    assert len(notice) == 1 and "Rob Ellis" in " ".join(notice[0].reply.sections[0].lines)
    again = sender(board.engine, slack).run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert again.notices == 0 and again.sent == 0


def test_each_member_is_reached_on_their_preferred_channel(board):  # noqa: F811
    move_to_teams(board.engine, CST, prefer=True)  # on both, prefers Teams
    slack, teams = FakeCourier(), FakeCourier(channel="teams", can_find_sent=False)
    report = sender(board.engine, slack, teams).run_pass(FIVE_DAYS)
    assert report.sent == 5
    assert teams.received() == {TEAMS_ID: 1}
    assert teams.sent[0].to.tenant == "tenant-1"
    assert slack.received() == dict.fromkeys(CONTACTS - {CST}, 1)


def test_a_member_whose_preferred_channel_has_no_courier_here_is_reached_on_another(board):  # noqa: F811
    move_to_teams(board.engine, CST, prefer=True)
    slack = FakeCourier()
    assert sender(board.engine, slack).run_pass(FIVE_DAYS).sent == 5
    assert slack.received() == dict.fromkeys(CONTACTS, 1)
