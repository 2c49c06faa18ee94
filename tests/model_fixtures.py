"""A database of each kind and a console-style command runner for model tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from handlers.run import run_command
from tests.conftest import (
    NOW,
    PG_URL,
    fresh_postgres_database,
)

# Parameters for a fixture run on each kind of database (PostgreSQL only where it is set up).
EACH_KIND = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def database_of_kind(kind: str, directory: Path, prefix: str = "soc_test") -> Iterator[str]:
    """The URL of an empty database: a SQLite file in `directory`, or a PostgreSQL database of its
    own (dropped after; the test is skipped where SOC_TEST_POSTGRES_URL is not set)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'soc.db'}"
        return
    if not PG_URL:
        pytest.skip("SOC_TEST_POSTGRES_URL is not set")
    with fresh_postgres_database(prefix) as url:
        yield url


@pytest.fixture(params=EACH_KIND)
def db_url(request, tmp_path):
    """An empty database: a SQLite file, or a PostgreSQL database of its own (dropped after)."""
    with database_of_kind(request.param, tmp_path) as url:
        yield url


def ask(engine, user_id: str, text: str, now: datetime = NOW):
    """Run a /soc command as the console would."""
    return run_command(engine=engine, board_slug="soc", user_id=user_id, text=text, now=now)
