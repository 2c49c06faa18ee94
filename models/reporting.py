"""History queries the reports need in bulk: last change, latest note, changes in a period."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models.tables import ActionChange


def last_changed(*, session: Session, board_id: int, until: datetime) -> dict[int, datetime]:
    """When each action last changed (any field or note) at or before `until`."""
    query = (
        select(ActionChange.action_id, func.max(ActionChange.at))
        .where(ActionChange.board_id == board_id, ActionChange.at <= until)
        .group_by(ActionChange.action_id)
    )
    return dict(session.exec(query).all())


def latest_notes(*, session: Session, board_id: int, until: datetime) -> dict[int, ActionChange]:
    """Each action's most recent history entry that carries a note, at or before `until`."""
    latest = (
        select(func.max(ActionChange.id))
        .where(ActionChange.board_id == board_id, ActionChange.note != "", ActionChange.at <= until)
        .group_by(ActionChange.action_id)
    )
    query = select(ActionChange).where(ActionChange.id.in_(latest))
    return {change.action_id: change for change in session.exec(query)}


def changes_between(
    *, session: Session, board_id: int, after: datetime, until: datetime
) -> list[ActionChange]:
    """History entries after `after` and at or before `until`, oldest first."""
    query = (
        select(ActionChange)
        .where(
            ActionChange.board_id == board_id,
            ActionChange.at > after,
            ActionChange.at <= until,
        )
        .order_by(ActionChange.at, ActionChange.id)
    )
    return list(session.exec(query))
