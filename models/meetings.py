"""Board meetings: the dates, and the last and next meeting around a moment."""

from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from models.tables import Meeting


def add_meeting(*, session: Session, board_id: int, starts_at: datetime, note: str = "") -> Meeting:
    """Record a meeting (or return the one already at that time)."""
    query = select(Meeting).where(Meeting.board_id == board_id, Meeting.starts_at == starts_at)
    meeting = session.exec(query).first()
    if meeting is None:
        meeting = Meeting(board_id=board_id, starts_at=starts_at, note=note)
        session.add(meeting)
        session.flush()
    return meeting


def last_meeting(*, session: Session, board_id: int, now: datetime) -> Meeting | None:
    """The most recent meeting that has started and was not cancelled."""
    return session.exec(_LAST_MEETING, params={"board_id": board_id, "now": now}).first()


# Built once: every `rag` asks for it; building the statement cost more than running it.
_LAST_MEETING = (
    select(Meeting)
    .where(
        Meeting.board_id == bindparam("board_id"),
        Meeting.starts_at <= bindparam("now"),
        ~Meeting.cancelled,
    )
    .order_by(Meeting.starts_at.desc())
    .limit(1)
)


def next_meeting(*, session: Session, board_id: int, now: datetime) -> Meeting | None:
    """The first meeting after `now` that is not cancelled."""
    query = (
        select(Meeting)
        .where(Meeting.board_id == board_id, Meeting.starts_at > now, ~Meeting.cancelled)
        .order_by(Meeting.starts_at)
    )
    return session.exec(query).first()


def list_meetings(
    *, session: Session, board_id: int, since: datetime | None = None
) -> list[Meeting]:
    """Meetings in date order, optionally from a moment on."""
    query = select(Meeting).where(Meeting.board_id == board_id).order_by(Meeting.starts_at)
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    return list(session.exec(query))
