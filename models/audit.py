"""The history's hash chain: each entry's hash covers the one before, so tampering shows.

Every board has its own chain over its `ActionChange` rows in id order: an entry's `chain_hash`
is sha256(previous entry's hash + the entry's fields as canonical JSON), the first entry's
previous hash is "", and the board's `history_head` holds the last hash (so a deleted tail shows
too). `chain_head` takes the board row's lock before reading the head, so concurrent writers on
PostgreSQL append one after another; on SQLite `BEGIN IMMEDIATE` already serialises writers.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models.tables import Action, ActionChange, Board

_HEADS = "soc_history_heads"  # session.info: board id -> its chain head in this transaction
_MOVED = "soc_history_heads_moved"  # boards whose head moved and is not yet written to the board

# The tables no code path may update or delete: the action history and the Board's own history.
APPEND_ONLY_TABLES = ("actionchange", "boardchange")
_SQLITE_GUARD = (
    "CREATE TRIGGER {table}_no_{verb} BEFORE {event} ON {table} "
    "BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
)
_POSTGRES_GUARD = (
    "CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$",
    "CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
)


def install_append_only_guard(connection: Connection, tables: Iterable[str] | None = None) -> None:
    """Triggers that make the database itself refuse to update, delete or truncate history.

    By default on every append-only table the schema has (a migration names its own table).
    """
    for table in _guarded(connection, tables):
        if connection.dialect.name == "sqlite":
            for verb, when in (("update", "UPDATE"), ("delete", "DELETE")):
                connection.exec_driver_sql(_SQLITE_GUARD.format(table=table, verb=verb, event=when))
        else:
            for statement in _POSTGRES_GUARD:
                connection.exec_driver_sql(statement.format(table=table))


def remove_append_only_guard(connection: Connection, tables: Iterable[str] | None = None) -> None:
    """Drop the triggers (a migration going down, or a test tampering behind the app's back)."""
    for table in _guarded(connection, tables):
        if connection.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        else:
            for name in (f"{table}_no_update_or_delete", f"{table}_no_truncate"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def _guarded(connection: Connection, tables: Iterable[str] | None) -> list[str]:
    """The tables named, or every append-only table this schema has (older ones lack some)."""
    if tables is not None:
        return list(tables)
    inspector = inspect(connection)
    return [table for table in APPEND_ONLY_TABLES if inspector.has_table(table)]


def canonical_fields(change: ActionChange) -> str:
    """The entry's recorded fields as canonical JSON (its id and hash excluded)."""
    at: datetime = change.at
    fields = [
        change.board_id,
        change.action_id,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        change.actor_member_id,
        change.actor_name,
        change.field,
        change.old_value,
        change.new_value,
        change.note,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def entry_hash(previous: str, change: ActionChange) -> str:
    """The hash of an entry that follows `previous` in its board's chain."""
    return hashlib.sha256((previous + canonical_fields(change)).encode("utf-8")).hexdigest()


def chain_head(session: Session, action: Action) -> str:
    """The board's current chain head, locking the action then the board row on first use.

    The action row first, then the board row: the order an UPDATE of the action and the
    register-version bump take them in, so two writers cannot deadlock on the pair.
    """
    heads = session.info.setdefault(_HEADS, {})
    if action.board_id not in heads:
        # No autoflush: flushing the action's pending change here would make it two UPDATEs.
        with session.no_autoflush:
            session.execute(select(Action.id).where(Action.id == action.id).with_for_update())
            query = select(Board.history_head).where(Board.id == action.board_id)
            heads[action.board_id] = session.execute(query.with_for_update()).scalar_one()
    return heads[action.board_id]


def chain(session: Session, action: Action, change: ActionChange) -> None:
    """Give a new history entry its hash and make it the board's chain head."""
    change.chain_hash = entry_hash(chain_head(session, action), change)
    session.info[_HEADS][action.board_id] = change.chain_hash
    session.info.setdefault(_MOVED, set()).add(action.board_id)


@event.listens_for(Session, "after_flush")
def _write_heads(session: Session, _context) -> None:
    moved = session.info.pop(_MOVED, set())
    for board_id in moved:
        statement = (
            update(Board)
            .where(Board.id == board_id)
            .values(history_head=session.info[_HEADS][board_id])
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(statement)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_heads(session: Session, *_args) -> None:
    # A head read in one transaction may be stale (or never committed) in the next.
    session.info.pop(_HEADS, None)
    session.info.pop(_MOVED, None)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking one board's chain: entries checked and the first bad one."""

    board_id: int
    board_slug: str
    entries: int
    head: str
    bad_entry_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Whether the whole chain checked out."""
        return not self.problem


def verify_chain(*, session: Session, board: Board) -> ChainReport:
    """Recompute a board's chain from its first entry; stop at the first entry that disagrees."""
    previous, count = "", 0
    for change in _entries(session, board.id):
        count += 1
        expected = entry_hash(previous, change)
        if change.chain_hash != expected:
            problem = "its hash does not match its fields and the entry before it"
            return ChainReport(board.id, board.slug, count, previous, change.id, problem)
        previous = expected
    if previous != board.history_head:
        return ChainReport(board.id, board.slug, count, previous, None,
                           "the last entry is not the recorded head: entries were removed "
                           "from the end, or the head was changed")  # fmt: skip
    return ChainReport(board.id, board.slug, count, previous)


def rehash(entries: Iterable[ActionChange], previous: str = "") -> Iterator[tuple[int, str]]:
    """(id, hash) for entries in chain order, from `previous`: how existing history is sealed."""
    for change in entries:
        previous = entry_hash(previous, change)
        yield change.id, previous


def _entries(session: Session, board_id: int) -> Iterator[ActionChange]:
    query = (
        select(ActionChange)
        .where(ActionChange.board_id == board_id)
        .order_by(ActionChange.id)
        .execution_options(yield_per=1000)
    )
    yield from session.execute(query).scalars()
