"""Opening the configured database and Board for the CLI, console, demo and servers."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from handlers.errors import CommandError
from handlers.register.import_export import ImportResult, import_rows, load_partners, read_rows
from models.boards import get_board, get_or_create_board
from models.db import make_engine, session_scope, sqlite_path
from models.migrate import current_revision, head_revision
from models.tables import Board

DATA = Path(__file__).resolve().parent.parent / "data"
ANNEX_B = DATA / "annex_b.csv"
PARTNERS = DATA / "partners.csv"
UPGRADE_FIRST = "run `soc-bot db upgrade` first."


class NotMigrated(Exception):
    """The database schema is missing or behind; `soc-bot db upgrade` fixes it."""


def open_engine(settings: Settings, *, check_schema: bool = True) -> Engine:
    """An engine for the configured database, refusing one whose schema is not up to date.

    Checking connects once, so a database that cannot be reached fails here, at start-up.
    """
    path = sqlite_path(settings.database_url)
    if check_schema and path is not None and path.parent.is_dir() and not path.exists():
        # Connecting would create an empty file; only `db upgrade` should.
        raise NotMigrated(f"There is no database at {path.absolute()} yet: {UPGRADE_FIRST}")
    engine = make_engine(settings.database_url)
    if check_schema and current_revision(engine) != head_revision():
        engine.dispose()
        raise NotMigrated(f"The database schema is not up to date: {UPGRADE_FIRST}")
    return engine


def ensure_board(engine: Engine, settings: Settings, now: datetime | None = None) -> None:
    """Create the configured Board (with the standard key crime areas) if it does not exist."""
    with session_scope(engine) as session:
        get_or_create_board(
            session=session,
            slug=settings.board_slug,
            name=settings.board_name,
            now=now or datetime.now(UTC),
            timezone=settings.timezone,
        )


@contextmanager
def board_session(settings: Settings) -> Iterator[tuple[Session, Board]]:
    """One transaction on the configured Board, which is created first if it does not exist."""
    engine = open_engine(settings)
    ensure_board(engine, settings)
    with session_scope(engine) as session:
        yield session, get_board(session=session, slug=settings.board_slug)


def import_file(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    now: datetime,
    partners: Path | None = PARTNERS,
    allow_personal: bool = False,
) -> tuple[ImportResult, list[str]]:
    """Load partners (if given) and the actions in `path` (CSV or JSON) in one transaction."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(
            f"{path} is not UTF-8 text.",
            "Save it from Excel as “CSV UTF-8 (Comma delimited)” and import it again.",
        ) from None
    with session_scope(engine) as session:
        board = get_or_create_board(
            session=session,
            slug=settings.board_slug,
            name=settings.board_name,
            now=now,
            timezone=settings.timezone,
        )
        added = load_partners(session, board, partners.read_text("utf-8")) if partners else []
        rows = read_rows(text, json_format=path.suffix.casefold() == ".json")
        return import_rows(session, board, rows, now, allow_personal=allow_personal), added
