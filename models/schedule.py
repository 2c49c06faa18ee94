"""A board's meeting schedule, and the meetings made from its rule (kept as ordinary meetings)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, select

from models.tables import Meeting, MeetingSchedule, ReminderDelivery

RULE, MANUAL = "rule", "manual"
DROPPED_NOTE = "no longer in the schedule"


def get_schedule(*, session: Session, board_id: int) -> MeetingSchedule | None:
    """The board's schedule, if one was ever set."""
    query = select(MeetingSchedule).where(MeetingSchedule.board_id == board_id)
    return session.exec(query).first()


def save_schedule(
    *, session: Session, board_id: int, now: datetime, **changes: object
) -> MeetingSchedule:
    """Create or change the board's schedule (rule, meeting_time, reminder_days, ...)."""
    schedule = get_schedule(session=session, board_id=board_id)
    if schedule is None:
        schedule = MeetingSchedule(board_id=board_id, updated_at=now)
    for name, value in changes.items():
        if name not in MeetingSchedule.model_fields or name in ("id", "board_id"):
            raise ValueError(f"not a schedule field: {name}")
        setattr(schedule, name, value)
    schedule.updated_at = now
    session.add(schedule)
    session.flush()
    return schedule


def meetings_between(
    *,
    session: Session,
    board_id: int,
    start: datetime,
    end: datetime,
    include_cancelled: bool = True,
) -> list[Meeting]:
    """Meetings starting in [start, end), in time order."""
    query = select(Meeting).where(
        Meeting.board_id == board_id, Meeting.starts_at >= start, Meeting.starts_at < end
    )
    if not include_cancelled:
        query = query.where(~Meeting.cancelled)
    return list(session.exec(query.order_by(Meeting.starts_at, Meeting.id)))


def add_manual_meeting(*, session: Session, board_id: int, starts_at: datetime) -> Meeting:
    """A meeting added by hand (a cancelled one at that time comes back)."""
    query = select(Meeting).where(Meeting.board_id == board_id, Meeting.starts_at == starts_at)
    meeting = session.exec(query).first()
    if meeting is None:
        meeting = Meeting(board_id=board_id, starts_at=starts_at, origin=MANUAL)
    meeting.cancelled = False
    session.add(meeting)
    session.flush()
    return meeting


def sync_rule_meetings(
    *,
    session: Session,
    board_id: int,
    occurrences: Iterable[datetime],
    after: datetime,
    drop_missing: bool,
) -> tuple[list[Meeting], list[Meeting]]:
    """Add meetings for uncovered occurrences (and retire stale rule ones); (added, dropped)."""
    # Retiring (drop_missing) applies to untouched future rule meetings the rule no longer makes:
    # moved, cancelled and hand-added meetings are the secretariat's decisions and stay.
    wanted = sorted(set(occurrences))
    query = select(Meeting).where(
        Meeting.board_id == board_id,
        or_(Meeting.starts_at > after, Meeting.occurrence > after),
    )
    future = list(session.exec(query))
    covered = {m.occurrence for m in future if m.occurrence is not None}
    covered |= {m.starts_at for m in future if m.origin == MANUAL and not m.cancelled}
    added = []
    for moment in wanted:
        if moment not in covered and moment > after:
            meeting = Meeting(board_id=board_id, starts_at=moment, origin=RULE, occurrence=moment)
            session.add(meeting)
            added.append(meeting)
    dropped = []
    if drop_missing:
        keep = set(wanted)
        stale = [
            m
            for m in future
            if m.origin == RULE
            and not m.cancelled
            and m.starts_at > after
            and m.starts_at == m.occurrence
            and m.occurrence not in keep
        ]
        dropped = _retire(session, stale)
    session.flush()
    return added, dropped


def _retire(session: Session, meetings: list[Meeting]) -> list[Meeting]:
    if not meetings:
        return []
    ids = [m.id for m in meetings]
    # A meeting whose reminders went out stays (cancelled) so the ledger keeps its meaning.
    reminded = set(
        session.exec(
            select(ReminderDelivery.meeting_id).where(ReminderDelivery.meeting_id.in_(ids))
        )
    )
    for meeting in meetings:
        if meeting.id in reminded:
            meeting.cancelled, meeting.note = True, DROPPED_NOTE
            session.add(meeting)
        else:
            session.delete(meeting)
    return meetings
