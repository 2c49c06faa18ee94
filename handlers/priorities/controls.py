"""`priorities close` and `priorities extend`: the chair or secretariat moves an exercise's end.

Closing early stops answers at once and the reminder due before the old closing day is never
sent; extending moves the closing day later and the reminder with it (to the Board's reminder time
on the working day before the new day, as `priorities open` sets it). Both are announced in the
channel naming who did it, recorded in the Board's history (`board history`) and logged.
Invitations already sent are updated by the next sender pass to show the new closing day, or
that the exercise closed (`bot.senders.priorities`).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings.commands import ReminderConfig, reminder_config
from handlers.meetings.rules import local_to_utc
from handlers.permissions import require_member
from handlers.priorities.exercise import INVITATION, is_open
from handlers.priorities.messages import closing_text
from handlers.replies import Audience, Reply
from handlers.text.dates import DateParseError, format_uk_date, format_uk_moment, parse_user_date
from handlers.text.parsing import Args
from handlers.text.workdays import working_days_before
from models.board_history import PRIORITIES_CLOSE, PRIORITIES_EXTEND, record_board_change
from models.ledger import SENT
from models.priorities import deliveries_of, latest_exercise, lock_board, reschedule_exercise
from models.tables import Member, PriorityExercise, Role

log = logging.getLogger(__name__)

CHOOSERS = {Role.CHAIR, Role.SECRETARIAT}
EXTEND_OPTIONS = frozenset({"closes"})


@dataclass(frozen=True)
class ClosingMoments:
    """When an exercise closing at the end of `closes_on` stops answers and sends its reminder."""

    closes_at: datetime
    reminder_at: datetime


def closing_moments(closes_on: date, config: ReminderConfig, tz: ZoneInfo) -> ClosingMoments:
    """The midnight after the closing day, and the reminder time the working day before it."""
    closes_at = local_to_utc(datetime.combine(closes_on + timedelta(days=1), time(0)), tz)
    reminder_day = working_days_before(closes_on, 1, config.region)
    reminder_at = local_to_utc(datetime.combine(reminder_day, config.at), config.tz)
    return ClosingMoments(closes_at, reminder_at)


def closed_early(exercise: PriorityExercise, tz: ZoneInfo) -> bool:
    """Whether the exercise was closed before the end of its closing day."""
    end_of_day = datetime.combine(exercise.closes_on + timedelta(days=1), time(0))
    return exercise.closes_at < local_to_utc(end_of_day, tz)


def require_chooser(ctx: Context, doing: str) -> Member:
    """The caller, if they are the chair or the secretariat; otherwise a refusal."""
    member = require_member(ctx)
    if member.role not in CHOOSERS:
        raise CommandError(
            f"Only the chair or the secretariat can {doing}.",
            "The Board decides them; ask the chair or the secretariat.",
        )
    return member


def close(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities close`: stop taking answers now; the reminder still to come is not sent."""
    member = require_chooser(ctx, "close the priorities exercise")
    args.expect_no_words("priorities close", f"Type `{ctx.surface.typed('priorities close')}`.")
    exercise = _open_exercise(session, ctx, "close")
    reminder_dropped = exercise.reminder_at is not None and exercise.reminder_at > ctx.now
    was = exercise.closes_on
    reschedule_exercise(
        session=session,
        exercise=exercise,
        closes_on=ctx.today,
        closes_at=ctx.now,
        reminder_at=exercise.reminder_at,  # kept, so `reminders status` can say it was dropped
    )
    record_board_change(
        session=session, board_id=ctx.board.id, at=ctx.now, by=member, what=PRIORITIES_CLOSE,
        details=f"closing day {format_uk_date(was)} → closed "
        f"{format_uk_moment(ctx.now, ctx.tz)}",
    )  # fmt: skip
    log.info(
        "priorities exercise %s closed early by member %s at %s (was open until %s)",
        exercise.id, member.id, ctx.now.isoformat(timespec="seconds"), was.isoformat(),
    )  # fmt: skip
    reply = Reply(
        title=f"Priorities exercise closed by {member.display_name}",
        text=(
            f"Closed {format_uk_moment(ctx.now, ctx.tz)}, before its closing day "
            f"{format_uk_date(was)}; answers are no longer taken."
        ),
        audience=Audience.IN_CHANNEL,
    )
    reply.notice = (
        "Partners who had not answered are not reminded."
        if reminder_dropped
        else "No reminder was still to come."
    )
    if _invitations_sent(session, exercise):
        reply.notice += " Invitations already sent are being updated to say it closed."
    reply.hint = f"See the tally with `{ctx.surface.typed('priorities results')}`."
    return reply


def extend(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities extend closes=<date>`: a later closing day; the reminder moves with it."""
    member = require_chooser(ctx, "extend the priorities exercise")
    example = f"`{ctx.surface.typed('priorities extend closes=26/02/2027')}`"
    if args.words or "closes" not in args.options:
        raise CommandError("Give the new closing date as closes=<date>.", f"Example: {example}.")
    exercise = _open_exercise(session, ctx, "extend")
    try:
        closes_on = parse_user_date(args.options["closes"], today=ctx.today)
    except DateParseError as err:
        raise CommandError(str(err), f"Example: {example}.") from None
    if closes_on < ctx.today:
        raise CommandError(
            f"The new closing date, {format_uk_date(closes_on)}, is in the past.",
            f"Give a date after {format_uk_date(exercise.closes_on)}.",
        )
    if closes_on <= exercise.closes_on:
        said = "is the closing date already" if closes_on == exercise.closes_on else "is earlier"
        raise CommandError(
            f"{format_uk_date(closes_on)} {said}: the exercise is open until "
            f"{closing_text(exercise.closes_on)}.",
            "Give a later date to extend it, or close it now with "
            f"`{ctx.surface.typed('priorities close')}`.",
        )
    config = reminder_config(ctx.board)
    moments = closing_moments(closes_on, config, ctx.tz)
    reminder_at = moments.reminder_at if moments.reminder_at > ctx.now else None
    was = exercise.closes_on
    reschedule_exercise(
        session=session,
        exercise=exercise,
        closes_on=closes_on,
        closes_at=moments.closes_at,
        reminder_at=reminder_at,
    )
    record_board_change(
        session=session, board_id=ctx.board.id, at=ctx.now, by=member, what=PRIORITIES_EXTEND,
        details=f"closing day {format_uk_date(was)} → {format_uk_date(closes_on)}",
    )  # fmt: skip
    log.info(
        "priorities exercise %s extended by member %s at %s from %s to %s",
        exercise.id, member.id, ctx.now.isoformat(timespec="seconds"), was.isoformat(),
        closes_on.isoformat(),
    )  # fmt: skip
    reply = Reply(
        title=f"Priorities exercise extended to {closing_text(closes_on)}",
        text=f"Extended by {member.display_name} from {format_uk_date(was)}.",
        audience=Audience.IN_CHANNEL,
    )
    reply.notice = (
        f"Partners who have not answered are reminded {format_uk_moment(reminder_at, config.tz)}."
        if reminder_at
        else "No reminder: the new closing day is too soon for one the working day before."
    )
    if _invitations_sent(session, exercise):
        reply.notice += " Invitations already sent are being updated with the new closing day."
    return reply


def _invitations_sent(session: Session, exercise: PriorityExercise) -> bool:
    rows = deliveries_of(session=session, exercise_id=exercise.id)
    return any(r.kind == INVITATION and r.status == SENT for r in rows)


def _open_exercise(session: Session, ctx: Context, verb: str) -> PriorityExercise:
    lock_board(session=session, board_id=ctx.board.id)
    exercise = latest_exercise(session=session, board_id=ctx.board.id)
    if exercise is None or not is_open(exercise, ctx.now):
        closed = (
            f" The last one closed on {format_uk_date(exercise.closes_on)}."
            if exercise is not None
            else ""
        )
        raise CommandError(
            f"No priorities exercise is open to {verb}.{closed}",
            f"Open one with `{ctx.surface.typed('priorities open closes=<date>')}`.",
        )
    return exercise
