"""Fingerprints of requests already served, shared by every process through the database.

Recording one is a single insert-if-absent on its primary key: the process whose insert lands
serves the request; any other (a repeat, in this process or another) conflicts and is told so.
A record that has expired is taken over by the same statement, so it never blocks a new one;
expired rows are deleted now and then to keep the table small.
"""

from datetime import datetime

from sqlalchemy import delete, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import make_engine
from models.tables import SeenRequest

_TABLE = SeenRequest.__table__


def fingerprint_engine(engine: Engine) -> Engine:
    """The engine to record fingerprints through, as cheaply as the database allows.

    On PostgreSQL each statement commits by itself (the insert-if-absent is one statement: no
    BEGIN and COMMIT round trips). On a SQLite file, connections of its own whose commits do not
    wait for the disk. Elsewhere (SQLite in memory), `engine` itself.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    own = make_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(own, "connect")
    def _commit_without_fsync(dbapi_connection, _record) -> None:
        # WAL with synchronous=NORMAL: a power cut may lose the last fingerprints (reopening a
        # replay window of seconds), never corrupt the file. Saves an fsync, most of the cost,
        # on every request; the register's own connections keep waiting for the disk.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return own


def remember_fingerprint(
    *, session: Session, fingerprint: str, expires_at: datetime, now: datetime
) -> bool:
    """Record `fingerprint` until `expires_at`; False if it is already recorded and not expired."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_TABLE).values(fingerprint=fingerprint, expires_at=expires_at)
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.fingerprint],
        set_={"expires_at": statement.excluded.expires_at},
        where=_TABLE.c.expires_at <= now,
    )
    # RETURNING, not rowcount: through psycopg 3, rowcount comes back as -1 here.
    return session.exec(statement.returning(_TABLE.c.fingerprint)).first() is not None


def forget_expired_fingerprints(*, session: Session, now: datetime) -> int:
    """Delete the fingerprints whose time has passed; how many there were."""
    statement = delete(_TABLE).where(_TABLE.c.expires_at <= now).returning(_TABLE.c.fingerprint)
    return len(session.exec(statement).all())
