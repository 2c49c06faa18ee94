"""Closing and extending a priorities exercise, and its messages in the operator's views."""

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli.demo import run_demo
from bot.cli.main import main
from bot.plain_text import render_text
from bot.senders.courier import Result
from bot.senders.priorities import PrioritySender, preview_pass
from handlers.meetings.reminder_status import reminder_status
from handlers.replies import Audience, Reply
from models.boards import get_board
from models.ledger import FAILED, SENT, SUPERSEDED
from models.tables import PriorityDelivery, PriorityExercise
from tests.conftest import CHAIR, COLP, COOPTEE, DEPUTY, LONDON, NOW, SECRETARIAT, TRADING
from tests.fake_courier import FakeCourier

ASKED = {SECRETARIAT, COLP, TRADING, COOPTEE}  # one contact per partner with a member
REMINDER_DUE = datetime(2027, 2, 4, 9, 0, tzinfo=UTC)  # Thu 4 Feb 09:00, a working day before
EXTENDED_REMINDER = datetime(2027, 2, 11, 9, 0, tzinfo=UTC)  # Thu 11 Feb 09:00
TOMORROW = NOW + timedelta(days=1)  # Thursday 21 January 2027, 10:00


def ask(console, user_id: str, text: str, at: datetime = NOW) -> Reply:
    """Run a command as someone at a moment."""
    other = type(console)(console.engine, console.settings, user_id, clock=lambda: at)
    return other.ask(text)


def ok(console, user_id: str, text: str, at: datetime = NOW) -> Reply:
    """Run a command that must succeed."""
    reply = ask(console, user_id, text, at)
    assert not reply.error, f"{text!r} as {user_id}: {reply.title} ({reply.hint})"
    return reply


def the_exercise(engine) -> PriorityExercise:
    """The Board's only exercise, as stored."""
    with Session(engine) as session:
        [exercise] = session.exec(select(PriorityExercise)).all()
        return exercise


def ledger(engine) -> list[PriorityDelivery]:
    """Every priorities ledger row, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(PriorityDelivery).order_by(PriorityDelivery.id)))


def sender(engine, courier: FakeCourier) -> PrioritySender:
    """A priorities sender whose only way out is the fake courier."""
    return PrioritySender(engine, {courier.channel: courier}, lease=timedelta(0))


def status_text(engine, now: datetime) -> str:
    """`soc-bot reminders status` at `now`, as text."""
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        return render_text(reminder_status(session, board, now), LONDON)


@pytest.fixture
def exercise(console):
    """An exercise opened by the secretariat at NOW, closing Friday 5 February 2027."""
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    return console


# --- closing early ------------------------------------------------------------------------------


def test_closing_early_refuses_later_answers_naming_the_day(exercise):
    reply = ok(exercise, CHAIR, "priorities close", TOMORROW)
    assert reply.title == "Priorities exercise closed by John Simpson"
    assert reply.audience == Audience.IN_CHANNEL  # the channel sees who closed it and when
    assert "Closed Thu 21 Jan 2027 10:00, before its closing day Fri 5 Feb 2027" in reply.text
    stored = the_exercise(exercise.engine)
    assert stored.closes_on == date(2027, 1, 21)
    assert stored.closes_at.astimezone(UTC) == TOMORROW
    refused = ask(exercise, COLP, "priorities answer cyber=lead", TOMORROW + timedelta(minutes=1))
    assert refused.error
    assert refused.title == (
        "The priorities exercise closed on Thu 21 Jan 2027; answers are no longer taken."
    )
    status = ok(exercise, COLP, "priorities", TOMORROW + timedelta(hours=1))
    closed = next(s for s in status.sections if s.heading == "Priorities exercise")
    assert ("Closed", "Thu 21 Jan 2027 10:00, early") in [(f.label, f.value) for f in closed.facts]


def test_answers_given_before_an_early_close_still_count(exercise):
    ok(exercise, COLP, "priorities answer cyber=lead", NOW + timedelta(hours=1))
    ok(exercise, SECRETARIAT, "priorities close", TOMORROW)
    results = ok(exercise, CHAIR, "priorities results", TOMORROW)
    assert results.title == "Priorities exercise: results"
    assert "1 of 4 partners asked have answered" in results.text


def test_the_reminder_is_not_sent_once_closed(exercise):
    courier = FakeCourier()
    assert sender(exercise.engine, courier).run_pass(NOW).sent == len(ASKED)
    reply = ok(exercise, CHAIR, "priorities close", TOMORROW)
    assert reply.notice == (
        "Partners who had not answered are not reminded. "
        "Invitations already sent are being updated to say it closed."
    )
    assert sender(exercise.engine, courier).run_pass(REMINDER_DUE).sent == 0
    assert len(courier.sent) == len(ASKED)
    assert len(courier.updated) == len(ASKED)  # each invitation now says it closed
    assert {row.kind for row in ledger(exercise.engine)} == {"invitation"}
    assert preview_pass(exercise.engine, "soc", REMINDER_DUE, LONDON) == (
        "Priorities exercise: no direct message is due."
    )


def test_a_reminder_claimed_but_unsent_at_the_close_is_superseded(exercise):
    courier = FakeCourier()
    sender(exercise.engine, courier).run_pass(NOW)
    courier.refuse = {user: Result("retry", error="rate_limited") for user in ASKED}
    sender(exercise.engine, courier).run_pass(REMINDER_DUE)  # reminders wait to be retried
    ok(exercise, CHAIR, "priorities close", REMINDER_DUE + timedelta(hours=1))
    courier.refuse = {}
    report = sender(exercise.engine, courier).run_pass(REMINDER_DUE + timedelta(hours=2))
    assert report.sent == 0 and report.superseded == len(ASKED)
    reminders = [r for r in ledger(exercise.engine) if r.kind == "reminder"]
    assert {r.status for r in reminders} == {SUPERSEDED}


# --- extending ----------------------------------------------------------------------------------


def test_extending_moves_the_closing_day_and_the_reminder(exercise):
    reply = ok(exercise, SECRETARIAT, "priorities extend closes=12/2/2027", TOMORROW)
    assert reply.title == "Priorities exercise extended to Fri 12 Feb 2027 (end of the day)"
    assert reply.text == "Extended by David MacKintosh from Fri 5 Feb 2027."
    assert reply.audience == Audience.IN_CHANNEL
    assert reply.notice == "Partners who have not answered are reminded Thu 11 Feb 2027 09:00."
    stored = the_exercise(exercise.engine)
    assert stored.closes_on == date(2027, 2, 12)
    assert stored.closes_at.astimezone(UTC) == datetime(2027, 2, 13, 0, 0, tzinfo=UTC)
    assert stored.reminder_at.astimezone(UTC) == EXTENDED_REMINDER
    # Answers are taken after the old closing day.
    monday = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)
    assert not ask(exercise, COLP, "priorities answer cyber=lead", monday).error
    courier = FakeCourier()
    sender(exercise.engine, courier).run_pass(NOW + timedelta(days=2))
    assert sender(exercise.engine, courier).run_pass(REMINDER_DUE).sent == 0  # the old time
    assert sender(exercise.engine, courier).run_pass(EXTENDED_REMINDER).sent == len(ASKED) - 1
    reminders = {(r.point, r.status) for r in ledger(exercise.engine) if r.kind == "reminder"}
    assert reminders == {("2027-02-11", SENT)}
    assert "It closes Fri 12 Feb 2027" in courier.sent[-1].reply.text


def test_extending_after_the_reminder_went_reminds_again_before_the_new_day(exercise):
    courier = FakeCourier()
    sender(exercise.engine, courier).run_pass(NOW)
    assert sender(exercise.engine, courier).run_pass(REMINDER_DUE).sent == len(ASKED)
    ok(exercise, CHAIR, "priorities extend closes=12/2/2027", REMINDER_DUE + timedelta(hours=1))
    assert sender(exercise.engine, courier).run_pass(REMINDER_DUE + timedelta(hours=2)).sent == 0
    assert sender(exercise.engine, courier).run_pass(EXTENDED_REMINDER).sent == len(ASKED)
    assert sender(exercise.engine, courier).run_pass(EXTENDED_REMINDER).sent == 0
    points = sorted({r.point for r in ledger(exercise.engine) if r.kind == "reminder"})
    assert points == ["2027-02-04", "2027-02-11"]


def test_extending_to_a_day_too_soon_for_a_reminder_says_so(console):
    ok(console, SECRETARIAT, "priorities open closes=20/1/2027")  # closes tonight
    reply = ok(console, CHAIR, "priorities extend closes=21/1/2027")  # reminder was 09:00 today
    assert reply.notice == (
        "No reminder: the new closing day is too soon for one the working day before."
    )
    assert the_exercise(console.engine).reminder_at is None


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["priorities close", "priorities extend closes=12/2/2027"])
def test_closing_or_extending_with_no_open_exercise_is_refused(console, text):
    reply = ask(console, CHAIR, text)
    assert reply.error and reply.title.startswith("No priorities exercise is open to")
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    ok(console, SECRETARIAT, "priorities close", TOMORROW)
    again = ask(console, CHAIR, text, TOMORROW + timedelta(hours=1))
    assert again.error and "The last one closed on Thu 21 Jan 2027." in again.title


OPEN_UNTIL = "the exercise is open until Fri 5 Feb 2027 (end of the day)."
BAD_DATES = [
    (
        "priorities extend closes=19/1/2027",
        "The new closing date, Tue 19 Jan 2027, is in the past.",
    ),
    ("priorities extend closes=1/2/2027", f"Mon 1 Feb 2027 is earlier: {OPEN_UNTIL}"),
    (
        "priorities extend closes=5/2/2027",
        f"Fri 5 Feb 2027 is the closing date already: {OPEN_UNTIL}",
    ),
    ("priorities extend", "Give the new closing date as closes=<date>."),
    ("priorities extend 12/2/2027", "Give the new closing date as closes=<date>."),
    ("priorities extend closes=soon", None),
    ("priorities close now please", "`priorities close` takes nothing more (“now please”)."),
]


@pytest.mark.parametrize("text, title", BAD_DATES)
def test_bad_closing_dates_are_refused_and_change_nothing(exercise, text, title):
    before = the_exercise(exercise.engine)
    reply = ask(exercise, CHAIR, text)
    assert reply.error and reply.hint
    if title is not None:
        assert reply.title == title
    after = the_exercise(exercise.engine)
    assert (after.closes_on, after.closes_at, after.reminder_at) == (
        before.closes_on, before.closes_at, before.reminder_at,
    )  # fmt: skip


@pytest.mark.parametrize("user_id", [DEPUTY, COLP])
@pytest.mark.parametrize("text", ["priorities close", "priorities extend closes=12/2/2027"])
def test_only_the_chair_or_secretariat_closes_or_extends(exercise, user_id, text):
    reply = ask(exercise, user_id, text)
    assert reply.error and reply.title.startswith("Only the chair or the secretariat can")
    assert the_exercise(exercise.engine).closes_on == date(2027, 2, 5)


# --- what the operator sees ---------------------------------------------------------------------


def test_reminders_status_lists_the_exercises_messages(exercise):
    assert "Invitations: 4 pending" in status_text(exercise.engine, NOW)
    courier = FakeCourier(refuse={TRADING: Result(FAILED, error="user_not_found")})
    sender(exercise.engine, courier).run_pass(NOW)
    text = status_text(exercise.engine, NOW + timedelta(minutes=5))
    assert "Priorities exercise: direct messages" in text
    assert "The exercise is open until Fri 5 Feb 2027 (end of the day)." in text
    assert "Invitations: 3 sent, 1 failed" in text
    assert "Reminder, Thu 4 Feb 2027 09:00: pending" in text
    assert "Trading Standards: invitation failed (user_not_found)" in text
    sender(exercise.engine, courier).run_pass(REMINDER_DUE)
    assert "Reminder, Thu 4 Feb 2027 09:00: 3 sent" in status_text(exercise.engine, REMINDER_DUE)


def test_reminders_status_says_a_reminder_was_superseded_by_an_early_close(exercise):
    ok(exercise, CHAIR, "priorities close", TOMORROW)
    text = status_text(exercise.engine, TOMORROW + timedelta(hours=1))
    assert "The exercise is closed early, Thu 21 Jan 2027 10:00." in text
    assert (
        "Reminder, Thu 4 Feb 2027 09:00: superseded: the exercise closed before it was due" in text
    )


def test_remind_dry_run_previews_the_exercises_messages(
    exercise, database_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["remind", "--as-of", "20/1/2027 11:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Priorities exercise: 4 direct messages due." in out
    assert "──── To Rob Ellis, priorities invitation for City of London Police" in out
    assert "which key crime areas matter to City of London Police?" in out
    assert ledger(exercise.engine) == []  # nothing sent, nothing recorded
    courier = FakeCourier()
    sender(exercise.engine, courier).run_pass(NOW)
    assert main(["remind", "--as-of", "4/2/2027 09:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "──── To Steve Playle, priorities reminder for Trading Standards" in out
    assert "Reminder: Trading Standards has not answered the priorities exercise yet" in out
    assert len(courier.sent) == len(ASKED)


def test_the_demo_runs_the_priorities_exercise(tmp_path: Path):
    out = io.StringIO()
    assert run_demo(tmp_path / "demo.db", out=out) == 0
    text = out.getvalue()
    opened = text.index("/soc priorities open")
    answered = text.index("Recorded City of London Police's answer")
    results = text.index("Priorities exercise: results so far")
    assert opened < answered < results
    assert "Cyber attack: 1 lead (City of London Police)" in text
