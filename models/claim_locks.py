"""Locks that die with their process, named by a ledger claim token: a successor tells a dead
claimant's claims from a live one's at once, instead of waiting for the lease to run out.

A sender holds its pass's lock (`claimant`) for as long as it owns claims under the pass's token:
- PostgreSQL: a session-level advisory lock on a 64-bit hash of the token, on a connection of its
  own; the server drops it when that connection ends, however the process ended. (It needs a real
  session: not a pooler in transaction mode, such as PgBouncer's, which shares sessions.)
- SQLite in a file: an `flock` on `<database file>.claims/<token>.lock`; the kernel drops it when
  the process dies. An flock belongs to one open file, so another pass in the same process sees
  it held too.
- SQLite in memory: the tokens held in this process (no other process can open that database).
A token says whether a lock backs it (it starts with `LOCKED`): a claim under any other token (a
lock could not be made, or a release from before these locks made it) is trusted for the lease.
"""

import fcntl
import hashlib
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from models.db import sqlite_path

log = logging.getLogger(__name__)

LOCKED = "lock-"
_LOCKED_TOKEN = re.compile(re.escape(LOCKED) + "[0-9a-f]{32}")
_held_in_memory: set[str] = set()
_held_in_memory_guard = threading.Lock()


@contextmanager
def claimant(engine: Engine) -> Iterator[str]:
    """A new claim token, its lock held until the block ends (or the process dies)."""
    token = LOCKED + uuid.uuid4().hex
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, token):
            yield token
        return
    if engine.dialect.name != "sqlite":
        yield uuid.uuid4().hex
        return
    database = sqlite_path(engine.url)
    if database is None:
        with _held_here(token):
            yield token
        return
    path = _lock_file(database, token)
    try:
        path.parent.mkdir(exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        log.warning("no claim lock beside the database (%s): claims wait for the lease", error)
        yield uuid.uuid4().hex
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield token
    finally:
        # Unlinked before unlocked: a successor that opens the file after sees it gone (dead),
        # one that opened it before gets the lock only once this pass is over.
        path.unlink(missing_ok=True)
        os.close(handle)


@contextmanager
def claimant_unless_held(engine: Engine, token: str | None) -> Iterator[str]:
    """`token`, when the caller holds its lock already; else a new one, as `claimant` makes it."""
    if token is not None:
        yield token
        return
    with claimant(engine) as own:
        yield own


def is_alive(engine: Engine, token: str) -> bool:
    """Whether the claimant of `token` may still be working: True while it holds its lock, and
    for a token no lock backs (its claims are trusted for the lease). A dead claimant's lock file
    is removed."""
    if not _LOCKED_TOKEN.fullmatch(token):
        return True
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            free = connection.execute(
                text("SELECT pg_try_advisory_xact_lock_shared(:key)"), {"key": _advisory_key(token)}
            ).scalar_one()
            connection.rollback()
        return not free
    database = sqlite_path(engine.url)
    if database is None:
        with _held_in_memory_guard:
            return token in _held_in_memory
    path = _lock_file(database, token)
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        # Free: its claimant died (a token reaches the ledger only once its lock is held).
        path.unlink(missing_ok=True)
    finally:
        os.close(handle)
    return False


def _lock_file(database: Path, token: str) -> Path:
    database = database.resolve()
    return database.parent / f"{database.name}.claims" / f"{token}.lock"


def _advisory_key(token: str) -> int:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(engine: Engine, token: str) -> Iterator[None]:
    key = {"key": _advisory_key(token)}
    connection = engine.connect()
    try:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        connection.commit()
        yield
    finally:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
        except SQLAlchemyError:
            # A pooled connection must not keep the lock for the next pass: close it instead.
            connection.invalidate()
        connection.close()


@contextmanager
def _held_here(token: str) -> Iterator[None]:
    with _held_in_memory_guard:
        _held_in_memory.add(token)
    try:
        yield
    finally:
        with _held_in_memory_guard:
            _held_in_memory.discard(token)
