"""CLI subcommands for meetings and reminders: `meeting`, `remind`, `reminders`, `worker`."""

import argparse
import os
import sys
from datetime import UTC, datetime

from bot.cli.console import CLI
from bot.config import Settings
from bot.plain_text import render_text
from bot.senders.priorities import preview_pass
from bot.setup import open_engine
from bot.worker import dry_run, reminder_sender, run_worker, tick, worker_options
from handlers.errors import CommandError
from handlers.meetings.reminder_status import reminder_status
from handlers.run import run_command
from handlers.text.dates import DateParseError, parse_user_datetime
from models.boards import get_board
from models.db import session_scope


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the meeting and reminder subcommands to the `soc-bot` parser."""
    meeting = sub.add_parser(
        "meeting",
        help="meetings as the secretariat: schedule, next, list, move, cancel, add, reminders",
    )
    meeting.add_argument(
        "words", nargs=argparse.REMAINDER, help='e.g. schedule "second tuesday 10:00"'
    )
    remind = sub.add_parser("remind", help="one reminder pass now (or as if at --as-of)")
    remind.add_argument("--as-of", help='Board-local time, e.g. "2027-01-05 09:00"')
    remind.add_argument("--dry-run", action="store_true", help="print who would get what")
    reminders = sub.add_parser("reminders", help="what the reminders have done")
    reminders.add_argument("action", choices=["status"])
    sub.add_parser("worker", help="the scheduler process that sends reminders (run one)")


def _meeting(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    reply = run_command(
        engine=engine,
        board_slug=settings.board_slug,
        user_id="OPERATOR",
        text="meeting " + " ".join(args.words),
        now=datetime.now(UTC),
        tz=settings.tz,
        surface=CLI,
        operator=True,
    )
    _say(render_text(reply, settings.tz, CLI))
    return 1 if reply.error else 0


def _remind(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    now = datetime.now(UTC)
    if args.as_of:
        try:
            now = parse_user_datetime(args.as_of, now=now, tz=settings.tz)
        except DateParseError as err:
            raise CommandError(f"--as-of: {err}") from None
    if args.dry_run:
        _say(dry_run(engine, settings, now))
        _say("\n" + preview_pass(engine, settings.board_slug, now, settings.tz))
        return 0
    sender = reminder_sender(engine, settings, worker_options(os.environ))
    report = tick(engine, sender, settings, now)
    _say(f"Reminder pass: {report.summary()}.")
    return 0


def _reminders(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    with session_scope(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        if board is None:
            raise CommandError("This Board has not been set up yet.", "Run `soc-bot db upgrade`.")
        reply = reminder_status(session, board, datetime.now(UTC), settings.tz)
    _say(render_text(reply, settings.tz))
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    return run_worker(settings, worker_options(os.environ))


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


HANDLERS = {"meeting": _meeting, "remind": _remind, "reminders": _reminders, "worker": _worker}
