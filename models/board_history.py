"""The Board's own history: Board-level changes (settings, the priorities exercise's closing day,
members' roles), appended in the transaction that makes the change and never edited.

The database refuses to update or delete its rows (`models.audit.install_append_only_guard`).
"""

from datetime import datetime

from sqlmodel import Session, select

from models.tables import BoardChange, Member

SETTINGS = "settings"
PRIORITIES_CLOSE = "priorities close"
PRIORITIES_EXTEND = "priorities extend"
MEMBER_ADD = "member add"
MEMBER_ROLE = "member role"


def record_board_change(
    *, session: Session, board_id: int, at: datetime, by: Member | None, what: str, details: str
) -> BoardChange:
    """Append one entry to the Board's history (committed, or rolled back, with the change)."""
    change = BoardChange(
        board_id=board_id,
        at=at,
        by_member_id=by.id if by is not None else None,
        by_name=by.display_name if by is not None else "",
        what=what,
        details=details,
    )
    session.add(change)
    session.flush()
    return change


def recent_board_changes(*, session: Session, board_id: int, limit: int) -> list[BoardChange]:
    """The Board's latest `limit` entries, newest first."""
    query = (
        select(BoardChange)
        .where(BoardChange.board_id == board_id)
        .order_by(BoardChange.id.desc())
        .limit(limit)
    )
    return list(session.exec(query))
