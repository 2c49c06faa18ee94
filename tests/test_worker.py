"""Reminders through the Slack stand-in: exactly once through errors, crashes and two workers."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from bot.cli.main import main
from bot.config import SettingsError
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.courier import EVENT_TYPE
from bot.worker import WorkerOptions, serve_board, worker_options
from handlers.meetings.commands import top_up_meetings
from handlers.meetings.rules import parse_meeting_rule
from handlers.register.admin import set_member
from models.boards import change_board_settings, get_board
from models.db import make_engine
from models.ledger import FAILED, FAILURES, NOTHING, RETRY, SENT, SUPERSEDED
from models.migrate import upgrade
from models.schedule import add_manual_meeting, save_schedule
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    DEPUTY,
    IMPORTED_AT,
    NOW,
    PG_URL,
    SECRETARIAT,
    TRADING,
    fresh_postgres_database,
)
from tests.worker_fixtures import (
    CONTACTS,
    FIVE_DAYS,
    ONE_DAY,
    Killed,
    crash_after_first_send,
    dms,
    ledger,
    make_sender,
    race,
    slow_slack,
    statuses,
)

pytest_plugins = ("tests.slack_fixtures",)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def board(console):
    """The test Board meeting on second Tuesdays; `console` acts as the secretariat."""
    console.as_user(SECRETARIAT)
    assert not console.ask('meeting schedule "second tuesday 10:00"').error
    return console


def assert_exactly_once(stub, users) -> None:
    """Each user got exactly one message, and nobody else got any."""
    got = {user: len(messages) for user, messages in dms(stub).items()}
    assert got == dict.fromkeys(users, 1)


# --- a pass --------------------------------------------------------------------------------------


def test_a_pass_sends_one_dm_to_each_lead_partner_with_buttons_and_the_key(board, settings, stub):
    report = make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
    assert report.sent == 5 and report.failed == report.retry == 0
    assert_exactly_once(stub, CONTACTS)
    message = dms(stub)[COLP][0]
    assert message["metadata"]["event_type"] == EVENT_TYPE
    rows = {r.address: r for r in ledger(board.engine)}
    colp = rows[f"slack::{COLP}"]
    assert colp.status == SENT and colp.message_ref == f"{message['channel']}:{message['ts']}"
    assert message["metadata"]["event_payload"]["key"].endswith(
        f":reminder:{colp.meeting_id}/2027-02-02/{colp.recipient_member_id}/reminder"
    )
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {b["action_id"] for b in buttons} == {"soc_op_rag", "soc_op_done", "soc_op_note",
                                                 "soc_op_due", "soc_op_update"}  # fmt: skip
    assert "A-1" in message["text"] and "&lt;" not in message["text"][:200]


def test_a_second_pass_sends_nothing_more(board, settings, stub):
    sender = make_sender(board.engine, settings, stub)
    sender.run_pass(FIVE_DAYS)
    again = sender.run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert again.sent == 0
    assert_exactly_once(stub, CONTACTS)


def test_the_last_point_adds_the_digest_for_chair_deputy_and_secretariat(board, settings, stub):
    make_sender(board.engine, settings, stub).run_pass(ONE_DAY)
    got = dms(stub)
    assert {user for user, messages in got.items()} == CONTACTS | {CHAIR, DEPUTY}
    assert len(got[SECRETARIAT]) == 2  # their partner's reminder and the digest
    assert "Digest for the Board meeting" in got[CHAIR][0]["text"]


def test_a_worker_down_through_both_points_sends_only_the_latest(board, settings, stub):
    make_sender(board.engine, settings, stub).run_pass(ONE_DAY + timedelta(hours=5))
    assert all(len(m) == 1 for u, m in dms(stub).items() if u != SECRETARIAT)
    assert statuses(board.engine) == {SENT: 5, SUPERSEDED: 5}
    superseded = [r for r in ledger(board.engine) if r.status == SUPERSEDED]
    assert {r.point for r in superseded} == {"2027-02-02"}
    assert superseded[0].error == "superseded by the reminder of 2027-02-08"


def test_nothing_to_report_is_recorded_and_not_sent(board, settings, stub):
    board.as_user(TRADING)
    for ref in ("A-2", "A-3", "A-5", "A-6", "A-8"):
        assert not board.ask(f"action update {ref} due=1/3/2027").error
    make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
    # Dated after the meeting and no meeting before: Trading Standards and NCA have nothing.
    assert set(dms(stub)) == {SECRETARIAT, COLP, CST}
    nothing = {r.recipient_member_id for r in ledger(board.engine) if r.status == NOTHING}
    assert len(nothing) == 2


def test_an_away_members_reminder_goes_to_their_deputy(board, settings, stub):
    assert not board.ask(f"member add {COLP} away=yes deputy={DEPUTY}").error
    make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
    got = dms(stub)
    assert COLP not in got
    assert "Sent to you as deputy for Rob Ellis" in got[DEPUTY][0]["text"]


# --- Slack errors ------------------------------------------------------------------------------


def test_rate_limits_are_waited_out_into_one_message(board, settings, stub):
    stub.fail("chat.postMessage", 429, retry_after=0, times=2)
    report = make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
    assert report.sent == 5
    assert len(stub.calls_to("chat.postMessage")) == 7
    assert_exactly_once(stub, CONTACTS)


def test_server_errors_are_retried_into_one_message(board, settings, stub):
    stub.fail("chat.postMessage", 500, retry_after=None, times=3)
    report = make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
    assert report.sent == 5 and report.retry == 0
    assert_exactly_once(stub, CONTACTS)


def test_errors_that_outlast_the_retries_are_picked_up_by_the_next_tick(board, settings, stub):
    stub.fail("chat.postMessage", 503, retry_after=None, times=4)  # 1 try + 3 retries
    sender = make_sender(board.engine, settings, stub)
    first = sender.run_pass(FIVE_DAYS)
    assert (first.sent, first.retry) == (4, 1)
    assert statuses(board.engine) == {SENT: 4, RETRY: 1}
    second = sender.run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert second.sent == 1 and second.reconciled == 0
    assert len(stub.calls_to("conversations.history")) == 1  # checked before resending
    assert_exactly_once(stub, CONTACTS)


def test_a_timeout_that_did_deliver_is_not_sent_twice(board, settings, stub):
    sender = make_sender(board.engine, settings, stub)
    post = sender.couriers["slack"].client.chat_postMessage

    def answer_lost_once(**kwargs):
        response = post(**kwargs)
        if len(stub.delivered()) == 1:
            raise TimeoutError("Slack took the message but its answer never came")
        return response

    sender.couriers["slack"].client.chat_postMessage = answer_lost_once
    first = sender.run_pass(FIVE_DAYS)
    assert first.retry == 1 and first.sent == 4
    second = sender.run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert second.reconciled == 1 and second.sent == 0
    assert_exactly_once(stub, CONTACTS)
    assert statuses(board.engine) == {SENT: 5}


def test_a_permanent_failure_is_recorded_and_the_secretariat_told_once(board, settings, stub):
    stub.refuse(TRADING, "user_not_found")
    sender = make_sender(board.engine, settings, stub)
    report = sender.run_pass(FIVE_DAYS)
    assert report.failed == 1 and report.notices == 1
    failed = next(r for r in ledger(board.engine) if r.status == FAILED)
    assert failed.address == f"slack::{TRADING}" and failed.error == "user_not_found"
    notice = [m for m in dms(stub)[SECRETARIAT] if "could not be delivered" in m["text"]]
    assert len(notice) == 1
    assert (
        "Steve Playle: reminder of Tue 2 Feb 2027 for the meeting Tue 9 Feb 2027 10:00 "
        "(user_not_found)" in notice[0]["text"]
    )
    assert sender.run_pass(FIVE_DAYS + timedelta(minutes=1)).notices == 0
    # A new failure later gets a notice of its own, naming only it.
    stub.refuse(CST, "account_inactive")
    assert sender.run_pass(ONE_DAY).notices == 1
    notices = [m for m in dms(stub)[SECRETARIAT] if "could not be delivered" in m["text"]]
    assert len(notices) == 2
    assert notices[1]["text"].startswith("2 reminders could not be delivered")
    assert "Jane Anson: reminder of Mon 8 Feb 2027" in notices[1]["text"]
    assert "Steve Playle: reminder of Mon 8 Feb 2027" in notices[1]["text"]
    assert "of Tue 2 Feb 2027" not in notices[1]["text"]
    assert statuses(board.engine, FAILURES) == {SENT: 2}


# --- crashes and restarts -----------------------------------------------------------------------


def test_a_restart_after_a_crash_between_send_and_ledger_does_not_resend(board, settings, stub):
    crashing = make_sender(board.engine, settings, stub)
    crash_after_first_send(crashing)
    with pytest.raises(Killed):
        crashing.run_pass(FIVE_DAYS)
    assert len(stub.delivered()) == 1
    assert statuses(board.engine) == {"claimed": 5}
    # The dead pass's lock went with it: the next pass takes its claims over within the lease,
    # and asks Slack first.
    restarted = make_sender(board.engine, settings, stub)
    report = restarted.run_pass(FIVE_DAYS + timedelta(minutes=1))
    assert report.reconciled == 1 and report.sent == 4 and report.busy == 0
    assert_exactly_once(stub, CONTACTS)
    assert len(stub.calls_to("chat.postMessage")) == 5
    assert statuses(board.engine) == {SENT: 5}
    first = stub.delivered()[0]
    row = next(r for r in ledger(board.engine) if r.message_ref.endswith(f":{first['ts']}"))
    assert row.message_ref == f"{first['channel']}:{first['ts']}" and row.attempts == 2


def test_a_crash_before_sending_anything_is_sent_after_the_lease(board, settings, stub):
    crashing = make_sender(board.engine, settings, stub)
    slack_client = crashing.couriers["slack"].client
    slack_client.chat_postMessage = lambda **kwargs: (_ for _ in ()).throw(Killed())
    with pytest.raises(Killed):
        crashing.run_pass(FIVE_DAYS)
    assert stub.delivered() == []
    make_sender(board.engine, settings, stub, lease=timedelta(0)).run_pass(FIVE_DAYS)
    assert_exactly_once(stub, CONTACTS)


def test_a_claim_overtaken_by_a_later_point_is_superseded_not_sent(board, settings, stub):
    crashing = make_sender(board.engine, settings, stub)
    slack_client = crashing.couriers["slack"].client
    slack_client.chat_postMessage = lambda **kwargs: (_ for _ in ()).throw(Killed())
    with pytest.raises(Killed):
        crashing.run_pass(FIVE_DAYS)
    make_sender(board.engine, settings, stub, lease=timedelta(0)).run_pass(ONE_DAY)
    rows = ledger(board.engine)
    assert {(r.point, r.status) for r in rows if r.kind == "reminder"} == {
        ("2027-02-02", SUPERSEDED),
        ("2027-02-08", SENT),
    }
    assert all(len(m) == 1 for u, m in dms(stub).items() if u != SECRETARIAT)


# --- two workers at once -------------------------------------------------------------------------


def test_two_workers_send_every_reminder_exactly_once(board, settings, stub):
    slow_slack(stub)
    engines = [make_engine(settings.database_url) for _ in range(3)]
    try:
        senders = [make_sender(e, settings, stub, chunk=2) for e in engines]
        reports = race(senders, FIVE_DAYS)
        assert sum(r.sent for r in reports) == 5
        assert_exactly_once(stub, CONTACTS)
        race(senders, ONE_DAY)
        got = dms(stub)
        assert {u: len(m) for u, m in got.items()} == {
            **dict.fromkeys(CONTACTS, 2),
            SECRETARIAT: 3,
            CHAIR: 1,
            DEPUTY: 1,
        }
        assert len(stub.calls_to("chat.postMessage")) == 5 + 5 + 3
    finally:
        for engine in engines:
            engine.dispose()


@pytest.fixture
def postgres_board(settings):
    """The test Board in a PostgreSQL database of its own, created and dropped here."""
    if not PG_URL:
        pytest.skip("SOC_TEST_POSTGRES_URL is not set")
    with fresh_postgres_database("soc_reminders") as url:
        pg_settings = replace(settings, database_url=url)
        engine = make_engine(pg_settings.database_url)
        try:
            upgrade(engine)
            import_file(engine, pg_settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
            with Session(engine, expire_on_commit=False) as session:
                board = get_board(session=session, slug="soc")
                for user, person, role, partner in PG_PEOPLE:
                    options = {
                        "name": person,
                        "role": role,
                        **({"partner": partner} if partner else {}),
                    }
                    set_member(session, board, user, options)
                rule = parse_meeting_rule("second tuesday 10:00", today=NOW.date())
                save_schedule(
                    session=session,
                    board_id=board.id,
                    now=NOW,
                    rule=rule.rule,
                    meeting_time="10:00",
                    anchor=NOW.date(),
                )
                top_up_meetings(session, board, NOW)
                session.commit()
            yield engine, pg_settings
        finally:
            engine.dispose()


PG_PEOPLE = (
    (CHAIR, "John Simpson", "chair", None),
    (SECRETARIAT, "David MacKintosh", "secretariat", "Community Safety Team"),
    (COLP, "Rob Ellis", "member", "CoLP"),
    (CST, "Jane Anson", "member", "Community Safety Team"),
    (TRADING, "Steve Playle", "member", "Trading Standards"),
    (COOPTEE, "Nia Agent", "co-optee", "NCA"),
)


@pytest.mark.postgres
def test_two_workers_on_postgresql_send_every_reminder_exactly_once(postgres_board, stub):
    engine, pg_settings = postgres_board
    slow_slack(stub)
    engines = [make_engine(pg_settings.database_url) for _ in range(3)]
    try:
        senders = [make_sender(e, pg_settings, stub, chunk=2) for e in engines]
        reports = race(senders, ONE_DAY)
        assert sum(r.sent for r in reports) == 5 + 2  # partners, and the chair's and secretariat's
        got = {u: len(m) for u, m in dms(stub).items()}
        assert got == {**dict.fromkeys(CONTACTS, 1), SECRETARIAT: 2, CHAIR: 1}
        assert statuses(engine) == {SENT: 5, SUPERSEDED: 5}
        assert statuses(engine, "digest") == {SENT: 2}
    finally:
        for extra in engines:
            extra.dispose()


# --- the worker, the CLI -------------------------------------------------------------------------


def test_a_tick_tops_up_the_meetings_then_sends(board, settings, stub):
    sender = make_sender(board.engine, settings, stub)
    report = serve_board(board.engine, sender, FIVE_DAYS).reminders
    assert report.sent == 5


def test_worker_options_come_from_the_environment():
    assert worker_options({}) == WorkerOptions()
    options = worker_options({"SOC_TICK_SECONDS": "5", "SOC_REMINDER_LEASE_SECONDS": "0"})
    assert options == WorkerOptions(timedelta(seconds=5), timedelta(0))
    for bad in ({"SOC_TICK_SECONDS": "0"}, {"SOC_REMINDER_LEASE_SECONDS": "soon"}):
        with pytest.raises(SettingsError):
            worker_options(bad)


def test_remind_dry_run_prints_who_would_get_what_and_sends_nothing(
    board, database_url, monkeypatch, capsys, stub
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["remind", "--as-of", "2/2/2027 09:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Reminder pass at Tue 2 Feb 2027 09:00 (dry run")
    assert "──── To Rob Ellis (UCOLP), reminder for the meeting Tue 9 Feb 2027 10:00" in out
    assert "• A-1 [AMBER]" in out
    assert stub.calls == [] and ledger(board.engine) == []
    assert main(["remind", "--as-of", "1/2/2027 09:00", "--dry-run"]) == 0
    assert "its next reminder goes out Tue 2 Feb 2027 09:00" in capsys.readouterr().out


def test_remind_sends_a_pass_as_of_a_board_time(board, database_url, monkeypatch, capsys, stub):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", stub.api_url)
    assert main(["remind", "--as-of", "2027-02-02 09:00"]) == 0
    assert "sent 5," in capsys.readouterr().out
    assert_exactly_once(stub, CONTACTS)
    assert main(["reminders", "status"]) == 0
    status = capsys.readouterr().out
    assert "Reminder status" in status


def test_remind_needs_the_bot_token(board, database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["remind", "--as-of", "2027-02-02 09:00"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    assert main(["remind", "--as-of", "31/2/2027 09:00"]) == 1


def test_the_worker_process_sends_then_stops_on_sigterm(board, database_url, stub):
    now = datetime.now(UTC)
    with Session(board.engine, expire_on_commit=False) as session:
        board_row = get_board(session=session, slug="soc")
        # A meeting in two days, reminded 20 working days before (already passed): due now.
        add_manual_meeting(
            session=session,
            board_id=board_row.id,
            starts_at=now.replace(microsecond=0) + timedelta(days=2),
        )
        change_board_settings(session=session, board=board_row, reminder_days="20")
        session.commit()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SOC_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": stub.api_url,
        "SOC_TICK_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while len(stub.delivered()) < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # another tick or two: nothing more may go out
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    got = {u: len(m) for u, m in dms(stub).items()}
    assert got == {**dict.fromkeys(CONTACTS, 1), SECRETARIAT: 2, CHAIR: 1, DEPUTY: 1}
    digest = next(m for m in dms(stub)[CHAIR])
    assert json.dumps(digest["blocks"]).count("Digest for the Board meeting") == 1
