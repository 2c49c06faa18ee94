"""Boards and their key crime areas."""

from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from models.tables import AreaSource, Board, CrimeArea

# What `/soc board settings` may change, and what `meeting reminders` changes of it.
BOARD_SETTINGS = (
    "name",
    "timezone",
    "holiday_region",
    "reminder_days",
    "reminder_time",
    "summary_channels",
)

PROFILES_AREA = "Serious and Organised Crime Profiles"

# The eight key crime areas of the Government's SOC Strategy (report, para 7).
GOVERNMENT_STRATEGY_AREAS = (
    "Cyber attack",
    "Fraud and cyber enabled crime",
    "Financial crime and money laundering",
    "Modern slavery and domestic servitude",
    # Para 7 says "Organised and acquisitive crime"; Annex B and the NSA spell the same area so.
    "Organised acquisitive crime",
    "Vulnerable persons, including Child Sexual Exploitation",
    "Intellectual property",
    "Blackmail and kidnap",
)

# The eight priorities of the National Strategic Assessment (terms of reference, section 3).
NATIONAL_ASSESSMENT_AREAS = (
    "Child sexual exploitation and abuse",
    "Firearms",
    "Organised immigration crime, human trafficking and modern slavery",
    "Cyber crime",
    "Money laundering",
    "Drugs",
    "Economic crime",
    "Organised acquisitive crime",
)


# Built once: every command looks its Board up; building the statement cost more than running it.
_BOARD_BY_SLUG = select(Board).where(Board.slug == bindparam("slug")).limit(1)


def get_board(*, session: Session, slug: str) -> Board | None:
    """The board with this slug, if any."""
    return session.exec(_BOARD_BY_SLUG, params={"slug": slug}).first()


def list_boards(*, session: Session) -> list[Board]:
    """Every Board (active or not), by slug."""
    return list(session.exec(select(Board).order_by(Board.slug)))


def get_or_create_board(
    *, session: Session, slug: str, name: str, now: datetime, timezone: str = "Europe/London"
) -> Board:
    """The board with this slug, created with the standard key crime areas if new.

    `name` and `timezone` are only the new Board's first settings: an existing Board keeps its own.
    """
    board = get_board(session=session, slug=slug)
    if board is None:
        board = Board(slug=slug, name=name, timezone=timezone, created_at=now)
        session.add(board)
        session.flush()
        add_standard_areas(session=session, board_id=board.id)
    return board


def change_board_settings(*, session: Session, board: Board, **changes: object) -> dict:
    """Apply checked setting values to the Board; returns {setting: (old, new)} of real changes."""
    changed = {}
    for name, value in changes.items():
        if name not in BOARD_SETTINGS:
            raise ValueError(f"not a Board setting: {name}")
        old = getattr(board, name)
        if old != value:
            changed[name] = (old, value)
            setattr(board, name, value)
    session.add(board)
    session.flush()
    return changed


def add_standard_areas(*, session: Session, board_id: int) -> None:
    """Add the profiles area and both lists of eight key crime areas that the board lacks."""
    existing = {a.name.casefold() for a in list_areas(session=session, board_id=board_id)}
    lists = (
        ((PROFILES_AREA,), AreaSource.BOARD),
        (GOVERNMENT_STRATEGY_AREAS, AreaSource.GOVERNMENT_STRATEGY),
        (NATIONAL_ASSESSMENT_AREAS, AreaSource.NATIONAL_ASSESSMENT),
    )
    position = len(existing)
    for names, source in lists:
        for name in names:
            if name.casefold() in existing:
                continue
            existing.add(name.casefold())
            session.add(
                CrimeArea(board_id=board_id, name=name, source=source.value, position=position)
            )
            position += 1
    session.flush()


def list_areas(*, session: Session, board_id: int) -> list[CrimeArea]:
    """The board's key crime areas, current priorities first, then in table order."""
    query = (
        select(CrimeArea)
        .where(CrimeArea.board_id == board_id)
        .order_by(CrimeArea.priority.desc(), CrimeArea.position, CrimeArea.id)
    )
    return list(session.exec(query))


def get_or_create_area(*, session: Session, board_id: int, name: str) -> CrimeArea:
    """The area with this name (case-insensitive), added at the end of the table if new."""
    areas = list_areas(session=session, board_id=board_id)
    for area in areas:
        if area.name.casefold() == name.casefold():
            return area
    position = max((a.position for a in areas), default=-1) + 1
    area = CrimeArea(board_id=board_id, name=name, position=position)
    session.add(area)
    session.flush()
    return area
