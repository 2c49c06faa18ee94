"""The `soc-bot` command line: database, import/export, members, console, demo and servers."""

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.admin import ALLOW_PERSONAL_HELP
from bot.cli.admin import HANDLERS as ADMIN_HANDLERS
from bot.cli.admin import add_parsers as add_admin_parsers
from bot.cli.boards import HANDLERS as BOARD_HANDLERS
from bot.cli.boards import add_parsers as add_board_parsers
from bot.cli.console import Console, format_console_reply, run_as
from bot.cli.meetings import HANDLERS as MEETING_HANDLERS
from bot.cli.meetings import add_parsers as add_meeting_parsers
from bot.cli.members import HANDLERS as MEMBER_HANDLERS
from bot.cli.members import add_parsers as add_member_parsers
from bot.cli.reports import BINARY_FORMATS, export_register
from bot.cli.reports import HANDLERS as REPORT_HANDLERS
from bot.cli.reports import add_parsers as add_report_parsers
from bot.config import Settings, SettingsError, load_settings
from bot.database_errors import explain_database_error
from bot.setup import NotMigrated, board_session, ensure_board, import_file, open_engine
from bot.teams.cli import HANDLERS as TEAMS_HANDLERS
from bot.teams.cli import add_parsers as add_teams_parsers
from handlers.errors import CommandError
from handlers.register.import_export import export_csv, export_json, export_records
from models.boards import get_board
from models.db import session_scope
from models.migrate import current_revision, downgrade, head_revision, upgrade
from models.people import create_partner, find_partner, list_partners


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(prog="soc-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema: upgrade, current, downgrade")
    db.add_argument("action", choices=["upgrade", "current", "downgrade"])
    db.add_argument("revision", nargs="?", default=None, help="target revision (downgrade)")

    imp = sub.add_parser("import", help="load actions from a CSV (Annex B layout) or JSON file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--partners",
        type=Path,
        default=None,
        help="partners CSV to load first (default: data/partners.csv)",
    )
    imp.add_argument("--no-partners", action="store_true", help="do not load the partners list")
    imp.add_argument("--allow-personal", action="store_true", help=ALLOW_PERSONAL_HELP)

    exp = sub.add_parser("export", help="write the register as CSV, JSON, Excel or Word")
    exp.add_argument("--format", choices=["csv", "json", *BINARY_FORMATS], default="csv")
    exp.add_argument("--output", type=Path, help="file to write (default: standard output)")
    exp.add_argument("--public", action="store_true", help="without confidential actions or names")

    add_member_parsers(sub)

    partner = sub.add_parser("partner", help="add or list partners")
    partner_sub = partner.add_subparsers(dest="partner_action", required=True)
    padd = partner_sub.add_parser("add", help="add a partner")
    padd.add_argument("name")
    padd.add_argument("--alias", action="append", default=[], help="another name (repeatable)")
    padd.add_argument("--collective", action="store_true", help="its actions belong to everyone")
    partner_sub.add_parser("list", help="list partners")

    console = sub.add_parser("console", help="type /soc commands as a Slack user, offline")
    console.add_argument("--as", dest="user", required=True, help="Slack user id to act as")

    run = sub.add_parser("run", help="run one /soc command as a user and print the reply")
    run.add_argument("--as", dest="user", required=True)
    run.add_argument("text", nargs=argparse.REMAINDER, help="the /soc text")

    serve = sub.add_parser("serve", help="the Slack app over HTTP (gunicorn): POST /slack/events")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    sub.add_parser("socket", help="the Slack app over Socket Mode (no public URL needed)")

    demo = sub.add_parser(
        "demo", help="the Annex B register on a fresh SQLite file, played through"
    )
    demo.add_argument("--db", type=Path, default=Path("soc-demo.db"))
    add_meeting_parsers(sub)
    add_report_parsers(sub)
    add_admin_parsers(sub)
    add_board_parsers(sub)
    add_teams_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    database_url = ""
    try:
        if args.command == "demo":
            from bot.cli.demo import run_demo

            database_url = f"sqlite:///{args.db}"
            return run_demo(args.db)
        settings = load_settings()
        logging.getLogger().setLevel(settings.log_level)
        database_url = settings.database_url
        return COMMANDS[args.command](args, settings)
    except (SettingsError, NotMigrated) as err:
        print(f"soc-bot: {err}", file=sys.stderr)
        return 2
    except SQLAlchemyError as err:
        # The one place a database that cannot be used becomes one line (the traceback at DEBUG).
        logging.getLogger(__name__).debug("database error", exc_info=True)
        print(f"soc-bot: {explain_database_error(err, database_url)}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"soc-bot: {err.message}" + (f" {err.hint}" if err.hint else ""), file=sys.stderr)
        return 1
    except OSError as err:
        print(
            f"soc-bot: {err.strerror or err}: {getattr(err, 'filename', '') or ''}", file=sys.stderr
        )
        return 1


def _db(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings, check_schema=False)
    if args.action == "upgrade":
        upgrade(engine)
        ensure_board(engine, settings)
        print(f"Database at revision {current_revision(engine)} (latest).")
    elif args.action == "current":
        current, head = current_revision(engine), head_revision()
        print(f"Database at revision {current or 'none'}; latest is {head}.")
        return 0 if current == head else 1
    else:
        if not args.revision:
            print("soc-bot: say which revision to go back to (or `base`).", file=sys.stderr)
            return 2
        downgrade(engine, args.revision)
        print(f"Database at revision {current_revision(engine) or 'none'}.")
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.setup import PARTNERS

    engine = open_engine(settings)
    partners = None if args.no_partners else (args.partners or PARTNERS)
    result, added = import_file(engine, settings, args.file, now=datetime.now(UTC),
                                partners=partners, allow_personal=args.allow_personal)  # fmt: skip
    print(
        f"Imported {args.file}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; {len(result.areas)} key crime areas; "
        f"{len(added) + len(result.partners_added)} partners added."
    )
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    if args.format in BINARY_FORMATS or args.public:
        return export_register(args, settings)
    engine = open_engine(settings)
    with session_scope(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        records = export_records(session, board) if board else []
    text = export_json(records) if args.format == "json" else export_csv(records)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Wrote {len(records)} actions to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _partner(args: argparse.Namespace, settings: Settings) -> int:
    with board_session(settings) as (session, board):
        if args.partner_action == "list":
            for p in list_partners(session=session, board_id=board.id):
                print(
                    f"{p.name}\t{', '.join(p.alias_list)}"
                    + ("\tcollective" if p.collective else "")
                )
            return 0
        for name in (args.name, *args.alias):
            if find_partner(session=session, board_id=board.id, text=name):
                raise CommandError(f"{name!r} already names a partner.", "Choose another name.")
        create_partner(
            session=session,
            board_id=board.id,
            name=args.name,
            aliases=args.alias,
            collective=args.collective,
        )
    print(f"Added partner {args.name}.")
    return 0


def _console(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    console = Console(engine, settings, args.user)
    console.loop(sys.stdin, interactive=sys.stdin.isatty())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    text = " ".join(args.text)
    console = Console(engine, settings, args.user, surface=run_as(args.user))
    reply = console.ask(text[4:] if text.startswith("/soc") else text)
    print(format_console_reply(reply, settings, console.surface))
    return 1 if reply.error else 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.server import serve_main

    return serve_main(settings, args.port or settings.port)


def _socket(args: argparse.Namespace, settings: Settings) -> int:
    from bot.slack.socket_mode import socket_main

    return socket_main(settings)


COMMANDS = {
    "db": _db,
    "import": _import,
    "export": _export,
    **MEMBER_HANDLERS,
    "partner": _partner,
    "console": _console,
    "run": _run,
    "serve": _serve,
    "socket": _socket,
    **MEETING_HANDLERS,
    **REPORT_HANDLERS,
    **ADMIN_HANDLERS,
    **BOARD_HANDLERS,
    **TEAMS_HANDLERS,
}
