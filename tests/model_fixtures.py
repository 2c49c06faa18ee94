"""A database of each kind and a console-style command runner for model tests."""

from datetime import datetime

import pytest

from handlers.run import run_command
from tests.conftest import (
    NOW,
    PG_URL,
    fresh_postgres_database,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """An empty database: a SQLite file, or a PostgreSQL database of its own (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'models.db'}"
        return
    if not PG_URL:
        pytest.skip("SOC_TEST_POSTGRES_URL is not set")
    with fresh_postgres_database("soc_test") as url:
        yield url


def ask(engine, user_id: str, text: str, now: datetime = NOW):
    """Run a /soc command as the console would."""
    return run_command(engine=engine, board_slug="soc", user_id=user_id, text=text, now=now)
