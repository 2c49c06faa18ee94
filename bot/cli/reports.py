"""CLI subcommands for the Board's papers: `report quarterly|pack|chart`, and `export` as files."""

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.cli.console import CLI
from bot.config import Settings
from bot.files import write_paper
from bot.setup import open_engine
from handlers.context import board_zone
from handlers.errors import CommandError
from handlers.register.import_export import export_csv, export_json
from handlers.reports.document import Paper, pack_paper, quarterly_paper, register_paper
from handlers.reports.papers import find_meeting, meeting_pack, quarterly_report, register_export
from handlers.reports.snapshot import ChartData, chart_data, take_snapshot
from handlers.text.dates import DateParseError, parse_user_date
from handlers.text.quarters import QUARTER_HINT, parse_quarter
from models.actions import EVERYTHING
from models.boards import get_board
from models.db import session_scope
from models.tables import Board

BINARY_FORMATS = ("xlsx", "docx")
PUBLIC_HELP = "the published version: confidential items redacted (counted), no one named"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `report` (quarterly, pack, chart) to the `soc-bot` parser."""
    report = sub.add_parser(
        "report", help="the quarterly activity report, a meeting pack or the RAG chart, as a file"
    )
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    quarterly = kinds.add_parser("quarterly", help="the quarterly activity report")
    quarterly.add_argument("--quarter", default="", help=QUARTER_HINT + " Default: the last one.")
    quarterly.add_argument("--format", choices=["docx", "xlsx", "md"], default="docx")
    pack = kinds.add_parser("pack", help="the chairman's pack for a meeting")
    pack.add_argument("--meeting", default="", help="its date, e.g. 16/02/2027 (default: next)")
    pack.add_argument("--format", choices=["docx", "xlsx", "md"], default="docx")
    chart = kinds.add_parser("chart", help="the RAG chart as a PNG")
    for parser in (quarterly, pack, chart):
        parser.add_argument("--public", action="store_true", help=PUBLIC_HELP)
        parser.add_argument("--output", type=Path, help="file to write (default: a name in .)")


def export_register(args: argparse.Namespace, settings: Settings) -> int:
    """`soc-bot export` for Excel and Word (the Annex B layout), and any `--public` export."""
    if args.format in BINARY_FORMATS and not args.output:
        raise CommandError(
            f"{args.format} files are binary, so they are not written to the terminal.",
            f"Give a file: --output action-table.{args.format}",
        )
    now = datetime.now(UTC)
    with _session(settings) as (session, board):
        export = register_export(session, board, now=now, public=args.public)
        tz = board_zone(board)
    if args.format in BINARY_FORMATS:
        data = write_paper(register_paper(export, tz), args.format, tz)
    else:
        text = (export_json if args.format == "json" else export_csv)(list(export.records))
        data = text.encode("utf-8")
    withheld = f" ({export.withheld} confidential withheld)" if export.withheld else ""
    if not args.output:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    args.output.write_bytes(data)
    _say(f"Wrote {len(export.records)} actions{withheld} to {args.output}.", sys.stderr)
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    with _session(settings) as (session, board):
        tz = board_zone(board)
        if args.report_kind == "chart":
            chart = _chart(session, board, now, public=args.public)
            return _write(
                args.output or Path(f"rag-chart-{now.astimezone(tz):%Y-%m-%d}.png"),
                _png(chart),
            )
        if args.report_kind == "quarterly":
            period = parse_quarter(args.quarter, today=now.astimezone(tz).date(), tz=tz)
            report = quarterly_report(
                session, board, period, now=now, visibility=EVERYTHING, public=args.public, tz=tz
            )
            paper, chart = quarterly_paper(report, tz), report.chart
        else:
            day = _day(args.meeting, now, tz)
            meeting = find_meeting(session, board, day, now=now, tz=tz, surface=CLI)
            pack = meeting_pack(
                session, board, meeting, now=now, visibility=EVERYTHING, public=args.public, tz=tz
            )
            paper, chart = pack_paper(pack, tz), pack.chart
    return _write_paper(paper, chart, args, tz)


def _write_paper(paper: Paper, chart: ChartData, args: argparse.Namespace, tz: ZoneInfo) -> int:
    output = args.output or Path(f"{paper.filename}.{args.format}")
    image = None
    if args.format == "md":
        # Markdown cannot hold the picture: it goes beside the file, linked by name.
        image = output.with_name(output.stem + "-chart.png")
        image.write_bytes(_png(chart))
    data = write_paper(paper, args.format, tz, image=image.name if image else None)
    return _write(output, data, also=image)


def _chart(session: Session, board: Board, now: datetime, *, public: bool) -> ChartData:
    tz = board_zone(board)
    snap = take_snapshot(session, board, at=now, visibility=EVERYTHING, public=public, tz=tz)
    return chart_data(session, board, snap, tz=tz)


def _png(chart: ChartData) -> bytes:
    # Imported here: matplotlib takes seconds to load, and only these commands draw.
    from bot.files.chart import render_png

    return render_png(chart)


def _write(output: Path, data: bytes, also: Path | None = None) -> int:
    output.write_bytes(data)
    _say(f"Wrote {output}" + (f" and {also}" if also else "") + ".")
    return 0


def _day(text: str, now: datetime, tz: ZoneInfo) -> date | None:
    if not text:
        return None
    try:
        return parse_user_date(text, today=now.astimezone(tz).date())
    except DateParseError as err:
        raise CommandError(str(err), "Give the meeting's date, e.g. 16/02/2027.") from None


@contextmanager
def _session(settings: Settings) -> Iterator[tuple[Session, Board]]:
    """A read session and the Board, or a one-line refusal when the Board is not set up."""
    engine = open_engine(settings)
    try:
        with session_scope(engine) as session:
            board = get_board(session=session, slug=settings.board_slug)
            if board is None:
                raise CommandError(
                    "This Board has not been set up yet.",
                    "Run `soc-bot db upgrade` and `soc-bot import`.",
                )
            yield session, board
    finally:
        engine.dispose()


def _say(text: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text + "\n")


HANDLERS = {"report": _report}
