"""CLI subcommands for meetings and reminders: `meeting`, `remind`, `reminders`, `worker`."""

import argparse
import os
import sys
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli.console import CLI
from bot.config import Settings
from bot.plain_text import render_text
from bot.senders.priorities import preview_pass
from bot.setup import open_engine
from bot.worker import board_couriers, dry_run, run_worker, tick_boards, worker_options
from handlers.context import board_zone
from handlers.errors import CommandError
from handlers.meetings.reminder_status import reminder_status
from handlers.run import run_command
from handlers.text.dates import DateParseError, parse_user_datetime
from models.boards import list_boards
from models.db import reader, session_scope
from models.tables import Board


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the meeting and reminder subcommands to the `soc-bot` parser."""
    meeting = sub.add_parser(
        "meeting",
        help="meetings as the secretariat: schedule, next, list, move, cancel, add, reminders",
    )
    meeting.add_argument(
        "words", nargs=argparse.REMAINDER, help='e.g. schedule "second tuesday 10:00"'
    )
    remind = sub.add_parser(
        "remind", help="one reminder pass now (or as if at --as-of) for every active Board"
    )
    remind.add_argument("--as-of", help='each Board\'s local time, e.g. "2027-01-05 09:00"')
    remind.add_argument("--dry-run", action="store_true", help="print who would get what")
    remind.add_argument("--board", metavar="SLUG", help="only this Board")
    reminders = sub.add_parser("reminders", help="what the reminders have done")
    reminders.add_argument("action", choices=["status"])
    reminders.add_argument("--board", metavar="SLUG", help="only this Board")
    sub.add_parser("worker", help="the scheduler process that sends reminders (run one)")


def _meeting(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    reply = run_command(
        engine=engine,
        board_slug=settings.board_slug,
        user_id="OPERATOR",
        text="meeting " + " ".join(args.words),
        now=datetime.now(UTC),
        surface=CLI,
        operator=True,
    )
    _say(render_text(reply, settings.tz, CLI))
    return 1 if reply.error else 0


def _remind(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    boards = _boards(engine, args.board)
    moments = {board.slug: _as_of(args.as_of, board) for board in boards}
    if args.dry_run:
        for board in boards:
            _say(_titled(board, boards, dry_run(engine, settings, moments[board.slug],
                                                board_slug=board.slug)))  # fmt: skip
            zone = board_zone(board)
            _say("\n" + preview_pass(engine, board.slug, moments[board.slug], zone))
        return 0
    couriers = board_couriers(settings, engine)
    options = worker_options(os.environ)
    # One tick per Board when --as-of names a local time: each Board's own moment.
    slugs = [board.slug for board in boards] if args.as_of or args.board else [None]
    for slug in slugs:
        now = moments[slug] if slug else datetime.now(UTC)
        report = tick_boards(engine, couriers, now, options=options, board_slug=slug)
        for line in report.lines():
            _say(line)
    return 0


def _reminders(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    boards = _boards(engine, args.board)
    for board in boards:
        with session_scope(engine) as session:
            reply = reminder_status(session, board, datetime.now(UTC))
        _say(_titled(board, boards, render_text(reply, board_zone(board))))
    return 0


def _boards(engine: Engine, slug: str | None) -> list[Board]:
    """The Boards a command acts on: the one named, else every active Board."""
    with Session(reader(engine), expire_on_commit=False) as session:
        boards = list_boards(session=session)
    if slug is not None:
        named = [board for board in boards if board.slug == slug]
        if not named:
            raise CommandError(f"There is no Board {slug!r}.",
                               "`soc-bot boards list` shows every Board.")  # fmt: skip
        return named
    active = [board for board in boards if board.active]
    if not active and boards:
        raise CommandError("Every Board is inactive (its workspace removed the app).",
                           "`soc-bot boards list` shows them; name one with --board.")  # fmt: skip
    if not active:
        raise CommandError("This Board has not been set up yet.", "Run `soc-bot db upgrade`.")
    return active


def _as_of(text: str | None, board: Board) -> datetime:
    """`--as-of` in the Board's own time zone (now without it)."""
    now = datetime.now(UTC)
    if not text:
        return now
    try:
        return parse_user_datetime(text, now=now, tz=board_zone(board))
    except DateParseError as err:
        raise CommandError(f"--as-of: {err}") from None


def _titled(board: Board, boards: list[Board], text: str) -> str:
    """`text` under the Board's name when the command covers several Boards."""
    if len(boards) == 1:
        return text
    return f"════ {board.name} ({board.slug})\n{text}\n"


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    return run_worker(settings, worker_options(os.environ))


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


HANDLERS = {"meeting": _meeting, "remind": _remind, "reminders": _reminders, "worker": _worker}
