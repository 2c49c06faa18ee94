"""PostgreSQL test databases: a fresh one per use, and a seeded Board."""

import os
from contextlib import AbstractContextManager

import pytest
from sqlmodel import Session

from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from handlers.register.admin import set_member
from models.boards import get_board
from models.migrate import upgrade
from tests.conftest import (
    CHAIR,
    COLP,
    DEPUTY,
    IMPORTED_AT,
    SECRETARIAT,
    fresh_postgres_database,
)

PG_URL = os.environ.get("SOC_TEST_POSTGRES_URL")

postgres = pytest.mark.skipif(not PG_URL, reason="SOC_TEST_POSTGRES_URL is not set")


def fresh_postgres() -> AbstractContextManager[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    return fresh_postgres_database("soc_backup")


COLP2 = "UCOLP2"


def seed_board(engine, url: str) -> None:
    """Migrate, import Annex B and add the writers (two CoLP contacts) to a fresh database."""
    upgrade(engine)
    import_file(engine, Settings(database_url=url), ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        for user, role, partner in [
            (CHAIR, "chair", None),
            (DEPUTY, "deputy", None),
            (SECRETARIAT, "secretariat", None),
            (COLP, "member", "CoLP"),
            (COLP2, "member", "CoLP"),
        ]:
            options = {"name": user.title(), "role": role}
            set_member(
                session, board, user, {**options, **({"partner": partner} if partner else {})}
            )
        session.commit()  # fmt: skip
