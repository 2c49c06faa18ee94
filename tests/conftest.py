"""Fixtures: a migrated temporary database per test, the Board, its people and a fixed clock."""

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.cli.console import Console
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from models.boards import get_board
from models.db import make_engine, normalise_database_url
from models.migrate import upgrade
from models.people import find_member_by_identity, find_partner, save_member
from models.tables import Board, Member, Role

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)
IMPORTED_AT = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)

# Slack user ids of the people every test Board has.
CHAIR, DEPUTY, SECRETARIAT = "UCHAIR", "UDEPUTY", "USECRET"
COLP, CST, TRADING = "UCOLP", "UCST", "UTRADING"
COOPTEE, OBSERVER, STRANGER = "UCOOPT", "UOBSERVE", "USTRANGER"

PG_URL = os.environ.get("SOC_TEST_POSTGRES_URL")
# The test Board's people by name, with their Slack user ids.
SLACK_ID_OF = {
    "John Simpson": CHAIR,
    "Jon Avern": DEPUTY,
    "David MacKintosh": SECRETARIAT,
    "Rob Ellis": COLP,
    "Jane Anson": CST,
    "Steve Playle": TRADING,
    "Nia Agent": COOPTEE,
    "Olive Observer": OBSERVER,
}


def slack_id(member: Member) -> str:
    """A test Board member's Slack user id (members are people; their ids are identities)."""
    return SLACK_ID_OF[member.display_name]


def member_id(session: Session, user_id: str, board_id: int = 1) -> int:
    """The id of the member with this Slack user id."""
    member = find_member_by_identity(
        session=session, board_id=board_id, channel="slack", external_id=user_id
    )
    assert member is not None, user_id
    return member.id


def seed_members(
    session: Session, board: Board, people: Iterable[tuple[str, str, Role, int | None]]
) -> None:
    """Save each (Slack user id, name, role, partner id) as a member of the Board (no commit)."""
    for user_id, name, role, partner_id in people:
        save_member(
            session=session,
            board_id=board.id,
            external_id=user_id,
            display_name=name,
            role=role.value,
            partner_id=partner_id,
        )


@contextmanager
def fresh_postgres_database(prefix: str = "soc_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on SOC_TEST_POSTGRES_URL, dropped afterwards."""
    server = create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(normalise_database_url(PG_URL)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests never see real Slack or Teams credentials, proxies or a developer's database."""
    for name in list(os.environ):
        prefixes = ("SLACK_", "SOC_", "DATABASE_URL", "TEAMS_", "CONNECTIONS__")
        if name.startswith(prefixes) and name != "SOC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file for this test."""
    return f"sqlite:///{tmp_path / 'soc.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for the test Board."""
    return Settings(database_url=database_url)


@pytest.fixture
def engine(settings: Settings):
    """A migrated, empty database."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def board_engine(engine, settings: Settings):
    """The Annex B register imported before the test's clock, with one member of each kind."""
    import_file(engine, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)

        def partner(name: str) -> int:
            return find_partner(session=session, board_id=board.id, text=name).id

        people = [
            (CHAIR, "John Simpson", Role.CHAIR, None),
            (DEPUTY, "Jon Avern", Role.DEPUTY_CHAIR, None),
            (SECRETARIAT, "David MacKintosh", Role.SECRETARIAT, partner("Community Safety Team")),
            (COLP, "Rob Ellis", Role.MEMBER, partner("CoLP")),
            (CST, "Jane Anson", Role.MEMBER, partner("Community Safety Team")),
            (TRADING, "Steve Playle", Role.MEMBER, partner("Trading Standards")),
            (COOPTEE, "Nia Agent", Role.CO_OPTEE, partner("NCA")),
            (OBSERVER, "Olive Observer", Role.OBSERVER, None),
        ]
        seed_members(session, board, people)
        session.commit()
    return engine


@pytest.fixture
def console(board_engine, settings: Settings):
    """A console over the test Board, acting as the CoLP contact at NOW; `.as_user(id)` switches."""

    class TestConsole(Console):
        def as_user(self, user_id: str) -> "TestConsole":
            self.user_id = user_id
            return self

    return TestConsole(board_engine, settings, COLP, clock=lambda: NOW)
