"""`/soc meeting ...`: the meeting rule, moving, cancelling and adding meetings, reminder times."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from handlers.boards.settings import change_settings
from handlers.context import Context, board_zone
from handlers.errors import CommandError
from handlers.meetings.rules import (
    MeetingRule,
    ReminderPoint,
    local_to_utc,
    occurrences,
    parse_meeting_rule,
    parse_reminder_days,
    parse_time,
    reminder_points,
)
from handlers.permissions import require_admin, require_member
from handlers.replies import Fact, Item, Reply
from handlers.text.dates import (
    DateParseError,
    format_uk_date,
    format_uk_moment,
    parse_user_date,
    parse_user_datetime,
)
from handlers.text.parsing import Args
from handlers.text.workdays import parse_region
from models.meetings import next_meeting
from models.schedule import (
    RULE,
    add_manual_meeting,
    get_schedule,
    meetings_between,
    save_schedule,
    sync_rule_meetings,
)
from models.tables import Board, Meeting, MeetingSchedule

HORIZON = relativedelta(months=12)
LIST_LIMIT = 12
REMINDER_OPTIONS = frozenset({"holidays"})
_TIME_ONLY = re.compile(r"^\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ReminderConfig:
    """When reminders go out: working days before each meeting, the local time, the calendar."""

    days: list[int]
    at: time
    region: str
    tz: ZoneInfo

    def points(self, meeting: Meeting) -> list[ReminderPoint]:
        """The meeting's reminder points, earliest first."""
        return reminder_points(meeting.starts_at, self.days, self.at, self.tz, self.region)


def reminder_config(board: Board) -> ReminderConfig:
    """The Board's reminder settings: working days before, local time, holidays, its zone."""
    return ReminderConfig(
        parse_reminder_days(board.reminder_days),
        parse_time(board.reminder_time),
        board.holiday_region,
        board_zone(board),
    )


def meeting_rule(schedule: MeetingSchedule | None) -> MeetingRule | None:
    """The stored rule, if the board has one."""
    if schedule is None or not schedule.rule:
        return None
    return MeetingRule(schedule.rule, parse_time(schedule.meeting_time))


def top_up_meetings(
    session: Session, board: Board, now: datetime, *, drop_missing: bool = False
) -> tuple[list[Meeting], list[Meeting]]:
    """Make the rule's meetings for the next 12 months exist; returns (added, dropped)."""
    schedule = get_schedule(session=session, board_id=board.id)
    rule = meeting_rule(schedule)
    if rule is None:
        return [], []
    zone = board_zone(board)
    anchor = schedule.anchor or now.astimezone(zone).date()
    moments = occurrences(rule, zone, anchor, now, now + HORIZON)
    return sync_rule_meetings(
        session=session,
        board_id=board.id,
        occurrences=moments,
        after=now,
        drop_missing=drop_missing,
    )


def schedule(session: Session, ctx: Context, text: str) -> Reply:
    """`meeting schedule "second tuesday 10:00"` or an RRULE: set the rule, make the meetings."""
    require_admin(ctx, "set the meeting schedule")
    rule = parse_meeting_rule(text, today=ctx.today)
    save_schedule(
        session=session,
        board_id=ctx.board.id,
        now=ctx.now,
        rule=rule.rule,
        meeting_time=f"{rule.at:%H:%M}",
        anchor=ctx.today,
    )
    added, dropped = top_up_meetings(session, ctx.board, ctx.now, drop_missing=True)
    reply = _upcoming(session, ctx, f"The Board meets {rule.describe()}", limit=3)
    reply.text = (
        f"{len(added)} meeting{'s' if len(added) != 1 else ''} added for the next 12 months"
        + (f", {len(dropped)} no longer in the schedule removed" if dropped else "")
        + ". Moved, cancelled and hand-added meetings are kept. The next three:"
    )
    return reply


def move(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting move <date> to <date time>` (or `to <time>` on the same day)."""
    require_admin(ctx, "move meetings")
    words = [w.casefold() for w in args.words]
    if "to" not in words or words.index("to") in (0, len(words) - 1):
        raise CommandError(
            "Say which meeting and when it moves to.",
            "Usage: `meeting move 9/2/2027 to 16/2/2027 10:00` (or `to 14:00`).",
        )
    split = words.index("to")
    meeting = _meeting_on(session, ctx, " ".join(args.words[:split]))
    target_text = " ".join(args.words[split + 1 :])
    if _TIME_ONLY.match(target_text.strip()):
        local_day = meeting.starts_at.astimezone(ctx.tz).date()
        target = local_to_utc(datetime.combine(local_day, parse_time(target_text)), ctx.tz)
    else:
        target = _parse_moment(target_text, ctx)
    _check_free(session, ctx, target, meeting)
    old = meeting.starts_at
    meeting.starts_at = target
    session.add(meeting)
    session.flush()
    reply = _meeting_reply(
        session, ctx, meeting, f"Moved the meeting to {format_uk_moment(target, ctx.tz)}"
    )
    reply.text = (
        f"It was {format_uk_moment(old, ctx.tz)}. Reminders already sent stay sent; the new "
        "reminder times are below."
    )
    return reply


def cancel(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting cancel <date>`: no meeting that day, and no reminders for it."""
    require_admin(ctx, "cancel meetings")
    meeting = _meeting_on(session, ctx, args.text())
    meeting.cancelled = True
    session.add(meeting)
    session.flush()
    following = next_meeting(session=session, board_id=ctx.board.id, now=ctx.now)
    return Reply(
        title=f"Cancelled the meeting on {format_uk_moment(meeting.starts_at, ctx.tz)}",
        text="No reminders will go out for it. "
        + (
            f"The next meeting is {format_uk_moment(following.starts_at, ctx.tz)}."
            if following
            else "No other meeting is scheduled."
        ),
    )


def add(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting add <date time>`: an extra meeting, outside the rule."""
    require_admin(ctx, "add meetings")
    target = _parse_moment(args.text(), ctx)
    _check_free(session, ctx, target, None)
    meeting = add_manual_meeting(session=session, board_id=ctx.board.id, starts_at=target)
    return _meeting_reply(
        session, ctx, meeting, f"Added a meeting on {format_uk_moment(target, ctx.tz)}"
    )


def next_(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting next`: the next meeting and when its reminders go out."""
    require_member(ctx)
    meeting = next_meeting(session=session, board_id=ctx.board.id, now=ctx.now)
    if meeting is None:
        return Reply(
            title="No meeting is scheduled",
            hint='The secretariat can set the rule: `meeting schedule "second tuesday 10:00"`.',
        )
    return _meeting_reply(
        session, ctx, meeting, f"Next meeting: {format_uk_moment(meeting.starts_at, ctx.tz)}"
    )


def list_(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting list`: the coming meetings (cancelled ones marked) with their reminder times."""
    require_member(ctx)
    rule = meeting_rule(get_schedule(session=session, board_id=ctx.board.id))
    title = f"The Board meets {rule.describe()}" if rule else "Board meetings"
    return _upcoming(session, ctx, title, limit=LIST_LIMIT)


def reminders(session: Session, ctx: Context, args: Args) -> Reply:
    """`meeting reminders [5,1] [at 09:00] [holidays=GB-ENG]`: show or set the reminder times."""
    require_member(ctx)
    if not args.words and not args.options:
        return _reminder_settings_reply(session, ctx, "Reminder times")
    require_admin(ctx, "change the reminder times")
    words = [w for w in args.words if w.casefold() != "at"]
    changes: dict[str, object] = {}
    # A bare number or list is the days ("5", "5,1"); a time has ":" or am/pm ("9am", "09:00").
    if words and not re.search(r"[:.]|am|pm", words[0], re.IGNORECASE):
        changes["reminder_days"] = ",".join(str(d) for d in parse_reminder_days(words.pop(0)))
    if words:
        changes["reminder_time"] = f"{parse_time(' '.join(words)):%H:%M}"
    if "holidays" in args.options:
        try:
            changes["holiday_region"] = parse_region(args.options["holidays"])
        except ValueError as err:
            raise CommandError(str(err)) from None
    if not changes:
        raise CommandError("Nothing to change.", "Usage: `meeting reminders 5,1 at 09:00`.")
    change_settings(session, ctx, changes)
    return _reminder_settings_reply(session, ctx, "Reminder times changed")


def reminder_times_text(config: ReminderConfig) -> str:
    """When reminders go out, in words (with the Board's time zone and holiday region)."""
    days = ", ".join(str(d) for d in config.days)
    return (
        f"Lead partners are reminded {days} working day"
        f"{'s' if config.days != [1] else ''} before each meeting at {config.at:%H:%M} "
        f"(time zone {config.tz}); weekends and {config.region} bank holidays are skipped. "
        "The chair, deputy and secretariat get a digest at the last one."
    )


def _reminder_settings_reply(session: Session, ctx: Context, title: str) -> Reply:
    config = reminder_config(ctx.board)
    reply = Reply(title=title, text=reminder_times_text(config))
    following = next_meeting(session=session, board_id=ctx.board.id, now=ctx.now)
    if following is not None:
        reply.items.append(_meeting_item(following, config, ctx))
    return reply


def _upcoming(session: Session, ctx: Context, title: str, *, limit: int) -> Reply:
    config = reminder_config(ctx.board)
    meetings = meetings_between(
        session=session,
        board_id=ctx.board.id,
        start=ctx.now + timedelta(seconds=1),
        end=ctx.now + HORIZON + timedelta(days=1),
    )
    reply = Reply(title=title)
    if not meetings:
        reply.text = "No meetings are scheduled."
        reply.hint = 'Set the rule with `meeting schedule "second tuesday 10:00"`.'
        return reply
    shown = meetings[:limit]
    reply.items = [_meeting_item(m, config, ctx) for m in shown]
    if len(meetings) > len(shown):
        reply.hint = f"{len(meetings) - len(shown)} more in the next 12 months."
    return reply


def _meeting_reply(session: Session, ctx: Context, meeting: Meeting, title: str) -> Reply:
    config = reminder_config(ctx.board)
    return Reply(title=title, items=[_meeting_item(meeting, config, ctx)])


def _meeting_item(meeting: Meeting, config: ReminderConfig, ctx: Context) -> Item:
    facts = []
    if meeting.cancelled:
        facts.append(Fact("Cancelled", meeting.note or "no meeting, no reminders"))
    else:
        for point in config.points(meeting):
            label = (
                f"Reminder, {point.days_before} working day{'s' if point.days_before > 1 else ''}"
            )
            extra = " (passed)" if point.at <= ctx.now else ""
            value = format_uk_moment(point.at, config.tz) + extra
            facts.append(Fact(label + (" + chair's digest" if point.last else ""), value))
    origin = "by the rule" if meeting.origin == RULE else "added by hand"
    if meeting.origin == RULE and meeting.occurrence and meeting.occurrence != meeting.starts_at:
        origin = f"moved from {format_uk_moment(meeting.occurrence, ctx.tz)}"
    facts.append(Fact("Scheduled", origin))
    title = ("Cancelled: " if meeting.cancelled else "") + format_uk_moment(
        meeting.starts_at, ctx.tz
    )
    return Item(title=title, facts=facts)


def _parse_moment(text: str, ctx: Context) -> datetime:
    try:
        moment = parse_user_datetime(text, now=ctx.now, tz=ctx.tz)
    except DateParseError as err:
        raise CommandError(str(err)) from None
    if moment <= ctx.now:
        raise CommandError(
            f"{format_uk_moment(moment, ctx.tz)} has passed.", "Give a future date and time."
        )
    return moment


def _parse_day(text: str, ctx: Context) -> date:
    try:
        return parse_user_date(text, today=ctx.today)
    except DateParseError as err:
        raise CommandError(str(err)) from None


def _meeting_on(session: Session, ctx: Context, text: str) -> Meeting:
    if not text.strip():
        raise CommandError(
            "Which meeting? Give its date.", "For example `meeting cancel 9/2/2027`."
        )
    day = _parse_day(text, ctx)
    start = local_to_utc(datetime.combine(day, time()), ctx.tz)
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time()), ctx.tz)
    found = [
        m
        for m in meetings_between(
            session=session, board_id=ctx.board.id, start=start, end=end, include_cancelled=False
        )
        if m.starts_at > ctx.now
    ]
    if not found:
        raise CommandError(
            f"There is no coming meeting on {format_uk_date(day)}.", "See `meeting list`."
        )
    if len(found) > 1:
        raise CommandError(
            f"There are {len(found)} meetings on {format_uk_date(day)}.",
            "Cancel or move one with its time: see `meeting list`.",
        )
    return found[0]


def _check_free(session: Session, ctx: Context, target: datetime, moving: Meeting | None) -> None:
    clash = [
        m
        for m in meetings_between(
            session=session,
            board_id=ctx.board.id,
            start=target,
            end=target + timedelta(seconds=1),
            include_cancelled=False,
        )
        if moving is None or m.id != moving.id
    ]
    if clash:
        raise CommandError(f"There is already a meeting on {format_uk_moment(target, ctx.tz)}.")
