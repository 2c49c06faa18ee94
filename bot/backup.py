"""`soc-bot backup` and `restore`: every row of every table in one portable JSON document.

The document names its format, format version and schema revision, then lists each table's
columns and rows (timestamps as ISO 8601 UTC, dates as ISO dates). It is the same whichever
database wrote it, so a SQLite register restores into PostgreSQL and back. A restore is one
transaction: all rows or none, and the history's hash chain is checked before it commits.
The deployment id travels with the backup, so a restored production still finds the messages it
sent; a staging copy made from production's backup must drop it (`DELETE FROM deployment`: a new
one is made on first use) before it sends anything to the same workspace.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, Table, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from handlers.errors import CommandError
from models.audit import install_append_only_guard, remove_append_only_guard, verify_chain
from models.boards import GOVERNMENT_STRATEGY_AREAS, NATIONAL_ASSESSMENT_AREAS, PROFILES_AREA
from models.columns import UTCDateTime
from models.db import reader
from models.migrate import current_revision, head_revision, upgrade
from models.slack_store import SLACK_STORE_TABLES
from models.tables import Board, CrimeArea, Deployment, SeenRequest

FORMAT = "soc-bot-backup"
FORMAT_VERSION = 1
# What `soc-bot db upgrade` creates by itself: a database holding only these is "empty".
SET_UP_TABLES = {Board.__tablename__, CrimeArea.__tablename__, Deployment.__tablename__}
# Requests served in the last minutes (replay protection), not the register: every row expires
# within the hour, so a restored copy would only hold stale rows; a restore leaves them in place.
# Slack's tokens and OAuth states neither: a copy of every workspace's token is not worth the risk,
# and after a restore elsewhere each workspace installs again (finding its Board by its team id).
NOT_BACKED_UP = {SeenRequest.__tablename__, *SLACK_STORE_TABLES}


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore covered."""

    tables: int
    rows: int
    history: int
    schema: str


def tables() -> list[Table]:
    """Every table of the register, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


def backup_document(engine: Engine, now: datetime) -> dict[str, Any]:
    """Every row of every table, read in one consistent snapshot."""
    snapshot = (
        reader(engine)
        if engine.dialect.name == "sqlite"
        else engine.execution_options(isolation_level="REPEATABLE READ")
    )
    with snapshot.connect() as connection:
        schema = current_revision(engine)
        contents = {}
        for table in tables():
            query = select(table).order_by(*table.primary_key.columns)
            rows = connection.execute(query).all()
            contents[table.name] = {
                "columns": [c.name for c in table.columns],
                "rows": [[_encode(value) for value in row] for row in rows],
            }
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema": schema,
        "created_at": now.astimezone(UTC).isoformat(),
        "tables": contents,
    }


def write_backup(engine: Engine, path: Path, now: datetime) -> BackupSummary:
    """Write the backup to `path` (readable by its owner only), replacing it whole or not at all."""
    document = backup_document(engine, now)
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # Written beside the target, then renamed over it: a crash never leaves half a backup.
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return _summary(document)


def read_backup(path: Path) -> dict[str, Any]:
    """A backup document, checked for its format, version and tables."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CommandError(f"{path} is not a soc-bot backup (not JSON).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CommandError(f"{path} is not a soc-bot backup.", "Make one with `soc-bot backup`.")
    if document.get("version") != FORMAT_VERSION:
        raise CommandError(
            f"{path} is backup format {document.get('version')}; this soc-bot reads format "
            f"{FORMAT_VERSION}.",
            "Restore it with the soc-bot version that made it.",
        )
    if document.get("schema") != head_revision():
        raise CommandError(
            f"{path} was made at schema {document.get('schema')}; this soc-bot is at "
            f"{head_revision()}.",
            "Restore it with the soc-bot version that made it, then upgrade that database.",
        )
    contents = document.get("tables")
    expected = {t.name: [c.name for c in t.columns] for t in tables()}
    if (
        not isinstance(contents, dict)
        or {name: (body or {}).get("columns") for name, body in contents.items()} != expected
    ):
        raise CommandError(f"{path} does not have the tables and columns of this schema.")
    return document


def restore_document(engine: Engine, document: dict[str, Any], *, replace: bool) -> BackupSummary:
    """Load a backup in one transaction, refusing a database with a register unless `replace`."""
    revision = current_revision(engine)
    if revision is None:
        upgrade(engine)
    elif revision != head_revision():
        raise CommandError(
            f"The database is at schema {revision}, not {head_revision()}.",
            "Run `soc-bot db upgrade` first.",
        )
    try:
        _restore(engine, document, replace=replace)
    except DBAPIError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
        raise CommandError(
            f"The backup could not be loaded ({reason[:200]}). Nothing was restored.",
            "Check that the file is an untouched backup made by `soc-bot backup`.",
        ) from None
    return _summary(document)


def _restore(engine: Engine, document: dict[str, Any], *, replace: bool) -> None:
    with engine.begin() as connection:
        if _holds_a_register(connection) and not replace:
            raise CommandError(
                "The database already holds a register; restoring would replace it.",
                "Restore into an empty database, or give --replace to discard what is there.",
            )
        # The one place history rows are removed: the whole register is being replaced.
        remove_append_only_guard(connection)
        for table in reversed(tables()):
            connection.execute(table.delete())
        for table in tables():
            _insert(connection, table, document["tables"][table.name])
        install_append_only_guard(connection)
        _check_chains(connection)


def _insert(connection: Connection, table: Table, body: dict[str, Any]) -> None:
    columns = body["columns"]
    rows = [
        {name: _decode(table.c[name], value) for name, value in zip(columns, row, strict=True)}
        for row in body["rows"]
    ]
    # A member's deputy may be a member listed after them: link deputies once all exist.
    deferred = [
        c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)
    ]
    links = [(row["id"], {c: row[c] for c in deferred}) for row in rows if deferred]
    if deferred:
        rows = [{**row, **dict.fromkeys(deferred)} for row in rows]
    if rows:
        connection.execute(table.insert(), rows)
    for row_id, values in links:
        if any(v is not None for v in values.values()):
            connection.execute(table.update().where(table.c.id == row_id).values(**values))
    if connection.dialect.name == "postgresql" and "id" in table.c and rows:
        # Explicit ids leave the sequence behind: the next insert would collide.
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'(SELECT MAX(id) FROM "{table.name}"))'
            )
        )


def _check_chains(connection: Connection) -> None:
    with Session(bind=connection) as session:
        for board in session.execute(select(Board)).scalars():
            report = verify_chain(session=session, board=board)
            if not report.ok:
                where = f" at entry {report.bad_entry_id}" if report.bad_entry_id else ""
                raise CommandError(
                    f"The backup's history for board {board.slug} fails its check{where}: "
                    f"{report.problem}. Nothing was restored.",
                    "The file may have been edited; restore an untouched backup.",
                )


def _holds_a_register(connection: Connection) -> bool:
    for table in tables():
        if table.name in SET_UP_TABLES:
            continue
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            return True
    standard = {PROFILES_AREA, *GOVERNMENT_STRATEGY_AREAS, *NATIONAL_ASSESSMENT_AREAS}
    own_areas = select(func.count()).select_from(CrimeArea).where(CrimeArea.name.not_in(standard))
    return bool(connection.execute(own_areas).scalar_one())


def _summary(document: dict[str, Any]) -> BackupSummary:
    contents = document["tables"]
    return BackupSummary(
        tables=len(contents),
        rows=sum(len(body["rows"]) for body in contents.values()),
        history=len(contents.get("actionchange", {}).get("rows", [])),
        schema=document["schema"],
    )


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(column, value: object) -> object:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(str(value))
    if isinstance(column.type, Date):
        return date.fromisoformat(str(value))
    if isinstance(column.type, Boolean):
        return bool(value)
    return value
