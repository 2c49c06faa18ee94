"""Fingerprints of requests already served, shared by every process through the database.

Recording one is a single insert-if-absent on its primary key: the process whose insert lands
serves the request; any other (a repeat, in this process or another) conflicts and is told so.
A record that has expired is taken over by the same statement, so it never blocks a new one;
expired rows are deleted now and then to keep the table small.
"""

from datetime import datetime

from sqlalchemy import bindparam, delete, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Executable

from models.db import make_engine
from models.tables import SeenRequest

_TABLE = SeenRequest.__table__
# Connections kept for the replay record, and as many more at a busy moment: each request holds
# one for a single statement.
FINGERPRINT_POOL = 4


def fingerprint_engine(engine: Engine) -> Engine:
    """The engine to record fingerprints through, as cheaply as the database allows.

    Connections of its own whose commits do not wait for the disk: on PostgreSQL each statement
    commits by itself (the insert-if-absent is one statement: no BEGIN and COMMIT round trips)
    with `synchronous_commit` off; on a SQLite file, WAL with `synchronous=NORMAL`. Either way a
    crash may lose the last fingerprints (reopening a replay window of seconds), never corrupt
    anything. Elsewhere (SQLite in memory), `engine` itself.
    """
    if engine.dialect.name == "postgresql":
        # The URL's own settings (its `options`, PGOPTIONS) stay as they are: this is a setting
        # of the connection, made once it is open, not a replacement for the startup options.
        own = make_engine(engine.url.render_as_string(hide_password=False),
                          isolation_level="AUTOCOMMIT", pool_size=FINGERPRINT_POOL,
                          max_overflow=FINGERPRINT_POOL)  # fmt: skip
        # Saves the wait for the WAL flush, most of the cost, on every request; the register's
        # own connections keep waiting for it.
        setting = "SET synchronous_commit = off"
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        own = make_engine(engine.url.render_as_string(hide_password=False))
        setting = "PRAGMA synchronous=NORMAL"
    else:
        return engine

    @event.listens_for(own, "connect")
    def _commit_without_waiting(dbapi_connection, _record) -> None:
        dbapi_connection.execute(setting)

    return own


def remember_fingerprint(
    *, connection: Connection, fingerprint: str, expires_at: datetime, now: datetime
) -> bool:
    """Record `fingerprint` until `expires_at`; False if it is already recorded and not expired."""
    statement = _REMEMBER[connection.dialect.name == "postgresql"]
    values = {"fingerprint": fingerprint, "expires_at": expires_at, "now": now}
    return connection.execute(statement, values).first() is not None


def _remember_statement(insert) -> Executable:
    statement = insert(_TABLE).values(
        fingerprint=bindparam("fingerprint"), expires_at=bindparam("expires_at")
    )
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.fingerprint],
        set_={"expires_at": statement.excluded.expires_at},
        where=_TABLE.c.expires_at <= bindparam("now"),
    )
    # RETURNING, not rowcount: through psycopg 3, rowcount comes back as -1 here.
    return statement.returning(_TABLE.c.fingerprint)


# Built once: constructing the statement cost more than sending it (it runs on every request).
_REMEMBER = {
    True: _remember_statement(postgresql_insert),
    False: _remember_statement(sqlite_insert),
}


def forget_expired_fingerprints(*, connection: Connection, now: datetime) -> int:
    """Delete the fingerprints whose time has passed; how many there were."""
    statement = delete(_TABLE).where(_TABLE.c.expires_at <= now).returning(_TABLE.c.fingerprint)
    return len(connection.execute(statement).all())
