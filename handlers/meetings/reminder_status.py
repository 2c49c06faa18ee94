"""`soc-bot reminders status`: for the coming meetings, what each reminder point has done, and
the priorities exercise's direct messages (its invitations and its reminder)."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.meetings.commands import reminder_config
from handlers.meetings.reminder_messages import KIND_NAMES, when
from handlers.meetings.reminders import LOOKAHEAD
from handlers.priorities.controls import closed_early
from handlers.priorities.exercise import INVITATION, is_open
from handlers.priorities.invitations import plan_invitations, reminder_point
from handlers.priorities.messages import closing_text
from handlers.replies import Fact, Item, Reply, Section
from handlers.text.dates import format_uk_date, format_uk_moment
from models.ledger import (
    CLAIMED,
    DIGEST,
    FAILED,
    NOTHING,
    REMINDER,
    RETRY,
    SENT,
    SUPERSEDED,
    rows_for_meetings,
)
from models.people import list_members, list_partners
from models.priorities import deliveries_of, latest_exercise
from models.schedule import meetings_between
from models.tables import Board, PriorityExercise

MEETINGS_SHOWN = 3
# An exercise's messages are listed while it is open and for this long after it closed.
EXERCISE_SHOWN_AFTER_CLOSE = timedelta(days=14)
STATUS_WORDS = (
    (SENT, "sent"),
    (CLAIMED, "sending"),
    (RETRY, "to retry"),
    (FAILED, "failed"),
    (SUPERSEDED, "superseded"),
    (NOTHING, "nothing to report"),
)


def reminder_status(session: Session, board: Board, now: datetime) -> Reply:
    """Sent, pending, failed and superseded reminders for the next meetings, point by point."""
    config = reminder_config(board)
    tz = config.tz
    meetings = meetings_between(
        session=session,
        board_id=board.id,
        start=now + timedelta(microseconds=1),
        end=now + LOOKAHEAD,
        include_cancelled=False,
    )[:MEETINGS_SHOWN]
    reply = Reply(title="Reminder status", tz=tz)
    if meetings:
        _meeting_status(session, board, now, config, meetings, reply)
    else:
        reply.text = f"No meeting in the next {LOOKAHEAD.days} days."
    exercise = latest_exercise(session=session, board_id=board.id)
    if exercise is not None and now < exercise.closes_at + EXERCISE_SHOWN_AFTER_CLOSE:
        reply.sections.append(_exercise_status(session, board, exercise, now, tz))
    return reply


def _meeting_status(session, board, now, config, meetings, reply: Reply) -> None:
    ledger = rows_for_meetings(session=session, meeting_ids=[m.id for m in meetings])
    counts: dict[tuple[int, str, str], Counter] = defaultdict(Counter)
    for key, row in ledger.items():
        counts[(key.meeting_id, key.point, key.kind)][row.status] += 1
    for meeting in meetings:
        facts = []
        for point in config.points(meeting):
            label = f"{point.days_before} working day{'s' if point.days_before > 1 else ''} "
            label += f"before, {when(point.at, config.tz)}"
            reminders = counts.get((meeting.id, point.key, REMINDER), Counter())
            digests = counts.get((meeting.id, point.key, DIGEST), Counter())
            if not reminders and not digests:
                text = "not yet due" if point.at > now else "nothing recorded yet"
            else:
                text = _counts_text(reminders) + (
                    f"; digests: {_counts_text(digests)}" if point.last else ""
                )
            facts.append(Fact(label, text))
        reply.items.append(Item(title=f"Meeting {when(meeting.starts_at, config.tz)}", facts=facts))
    failed = [row for row in ledger.values() if row.status in (FAILED, RETRY)]
    if failed:
        names = {m.id: m.display_name for m in list_members(session=session, board_id=board.id)}
        reply.sections.append(
            Section(
                "Failed or waiting to retry",
                lines=[
                    f"{names.get(r.recipient_member_id, '?')}: {KIND_NAMES.get(r.kind, r.kind)} "
                    f"of {r.point}, {r.status} ({r.error or 'no error recorded'})"
                    for r in sorted(failed, key=lambda r: r.id)
                ],
            )
        )


def _exercise_status(
    session: Session, board: Board, exercise: PriorityExercise, now: datetime, tz: ZoneInfo
) -> Section:
    """Invitations and reminders of the exercise: sent, pending, failed, superseded."""
    open_now = is_open(exercise, now)
    if open_now:
        state = f"open until {closing_text(exercise.closes_on)}"
    elif closed_early(exercise, tz):
        state = f"closed early, {format_uk_moment(exercise.closes_at, tz)}"
    else:
        state = f"closed at the end of {format_uk_date(exercise.closes_on)}"
    section = Section("Priorities exercise: direct messages", lines=[f"The exercise is {state}."])
    rows = deliveries_of(session=session, exercise_id=exercise.id)
    planned = Counter(i.key.kind for i in plan_invitations(session, board, now))
    invitations = Counter(r.status for r in rows if r.kind == INVITATION)
    text = _counts_text(invitations) if invitations else ""
    if planned[INVITATION]:
        pending = f"{planned[INVITATION]} pending (the worker's next tick sends them)"
        text = f"{text}, {pending}" if text else pending
    section.facts.append(Fact("Invitations", text or "none"))
    point = reminder_point(board, exercise)
    for earlier in sorted({r.point for r in rows if r.kind == REMINDER} - {point}):
        done = Counter(r.status for r in rows if r.kind == REMINDER and r.point == earlier)
        section.facts.append(
            Fact(f"Reminder of {earlier} (before the extension)", _counts_text(done))
        )
    reminders = Counter(r.status for r in rows if r.kind == REMINDER and r.point == point)
    if exercise.reminder_at is None:
        label, text = "Reminder", "none: the exercise closes too soon for one"
    else:
        label = f"Reminder, {when(exercise.reminder_at, tz)}"
        if reminders:
            text = _counts_text(reminders)
        elif not open_now and exercise.reminder_at >= exercise.closes_at:
            text = "superseded: the exercise closed before it was due"
        elif planned[REMINDER]:
            text = f"{planned[REMINDER]} pending (the worker's next tick sends them)"
        elif open_now and exercise.reminder_at > now:
            text = "pending: partners that have not answered by then"
        else:
            text = "nothing to send: every partner asked had answered"
    if reminders and planned[REMINDER]:
        text += f", {planned[REMINDER]} pending"
    section.facts.append(Fact(label, text))
    failed = [r for r in rows if r.status in (FAILED, RETRY)]
    if failed:
        names = {p.id: p.name for p in list_partners(session=session, board_id=board.id)}
        section.lines.extend(
            f"{names.get(r.partner_id, '?')}: {r.kind} {r.status} "
            f"({r.error or 'no error recorded'})"
            for r in failed
        )
    return section


def _counts_text(counter: Counter) -> str:
    return ", ".join(f"{counter[s]} {word}" for s, word in STATUS_WORDS if counter[s]) or "none"
