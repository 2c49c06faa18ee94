"""CLI subcommands for the register's custodians: `audit verify`, `backup` and `restore`."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from bot.backup import read_backup, restore_document, write_backup
from bot.config import Settings
from bot.setup import open_engine
from models.audit import verify_chain
from models.db import make_engine, reader
from models.tables import Board

ALLOW_PERSONAL_HELP = (
    "import rows even where text looks like personal data (recorded in each action's history)"
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `audit`, `backup` and `restore` to the `soc-bot` parser."""
    audit = sub.add_parser("audit", help="check the history's hash chain: nothing altered")
    audit.add_argument("action", choices=["verify"])
    backup = sub.add_parser("backup", help="write every table (history and ledger too) to a file")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="load a backup into an empty database")
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--replace", action="store_true", help="discard the register already in the database"
    )


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    failed = False
    with Session(reader(engine)) as session:
        for board in session.execute(select(Board).order_by(Board.id)).scalars():
            report = verify_chain(session=session, board=board)
            if report.ok:
                _say(f"Board {board.slug}: {report.entries} history entries, chain intact; "
                     f"head {report.head or '(empty)'}.")  # fmt: skip
                continue
            failed = True
            where = (
                f"history entry {report.bad_entry_id} is the first that fails"
                if report.bad_entry_id is not None
                else f"after {report.entries} entries"
            )
            _say(f"Board {board.slug}: {where}: {report.problem}.", sys.stderr)
    engine.dispose()
    return 1 if failed else 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    try:
        summary = write_backup(engine, args.file, datetime.now(UTC))
    finally:
        engine.dispose()
    _say(f"Wrote {summary.rows} rows of {summary.tables} tables ({summary.history} history "
         f"entries; schema {summary.schema}) to {args.file}.")  # fmt: skip
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    document = read_backup(args.file)
    engine = make_engine(settings.database_url)
    try:
        summary = restore_document(engine, document, replace=args.replace)
    finally:
        engine.dispose()
    _say(f"Restored {summary.rows} rows of {summary.tables} tables ({summary.history} history "
         f"entries, chain checked) from {args.file}.")  # fmt: skip
    return 0


def _say(text: str, stream=None) -> None:
    (stream or sys.stdout).write(text + "\n")


HANDLERS = {"audit": _audit, "backup": _backup, "restore": _restore}
