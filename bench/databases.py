"""What the database benchmarks share: a scratch database on a PostgreSQL server, and counting
the SQL statements a piece of work sends."""

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, make_url, text

from models.db import make_engine, normalise_database_url


class QueryCounter:
    """Counts SQL statements sent on an engine while active."""

    def __init__(self, engine) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> "QueryCounter":
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


@contextmanager
def scratch_database(server_url: str | None, name: str = "") -> Iterator[str]:
    """A fresh SQLite file, or a database of its own on the PostgreSQL server (made afresh, named
    `name` or a random name, and dropped after)."""
    if not server_url:
        yield f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    name = name or f"soc_bench_{uuid.uuid4().hex[:8]}"
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        # A run that was killed leaves its database behind.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalise_database_url(server_url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
