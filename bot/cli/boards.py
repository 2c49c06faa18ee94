"""CLI subcommands for a deployment hosting many Boards: `boards list`, `board export|delete`,
and `board bind|unbind` for a Board's Teams tenant (and team)."""

import argparse
import logging
import uuid
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cli.console import system_clock
from bot.cli.reports import BINARY_FORMATS, export_register
from bot.config import Settings
from bot.setup import open_engine
from handlers.errors import CommandError
from models.boards import get_board
from models.db import reader, session_scope
from models.hosting import BoardOverview, board_overviews, board_rows, delete_board
from models.tables import Board
from models.workspaces import TEAMS, WorkspaceTaken, bind, deactivate, find_binding

log = logging.getLogger(__name__)

COLUMNS = ("board", "name", "channels", "active", "members", "actions", "last activity")
# The longest Teams team id the binding table holds.
MAX_TEAM_ID = 64


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `boards` and `board` to the `soc-bot` parser."""
    boards = sub.add_parser("boards", help="the Boards this deployment hosts")
    boards.add_argument("action", choices=["list"])
    board = sub.add_parser("board", help="export or delete one Board")
    board_sub = board.add_subparsers(dest="board_action", required=True)
    export = board_sub.add_parser("export", help="write one Board's register (as `export`)")
    export.add_argument("slug")
    export.add_argument("--format", choices=["csv", "json", *BINARY_FORMATS], default="csv")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.add_argument(
        "--public", action="store_true", help="without confidential actions or names"
    )
    delete = board_sub.add_parser("delete", help="delete a Board and all its data, for good")
    delete.add_argument("slug")
    delete.add_argument("--confirm", metavar="SLUG", default="",
                        help="the Board's slug again: without it nothing is deleted")  # fmt: skip
    for action, text in (("bind", "run a Teams tenant's (or one team's) requests against a Board"),
                         ("unbind", "stop a Teams tenant (or team) using a Board")):  # fmt: skip
        binding = board_sub.add_parser(action, help=text)
        binding.add_argument("slug")
        binding.add_argument("--teams-tenant", required=True, metavar="TENANT_ID",
                             help="the Microsoft 365 tenant (directory) id")  # fmt: skip
        binding.add_argument("--team", default="", metavar="TEAM_ID",
                             help="one team of it (default: the whole tenant)")  # fmt: skip


def _boards(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    with Session(reader(engine)) as session:
        overviews = board_overviews(session=session)
    print("\t".join(COLUMNS))
    for overview in overviews:
        print("\t".join(_row(overview)))
    engine.dispose()
    return 0


def _board(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_engine(settings)
    try:
        if args.board_action in ("bind", "unbind"):
            return _bind(engine, args) if args.board_action == "bind" else _unbind(engine, args)
        with Session(reader(engine)) as session:
            board_id = _existing(session, args.slug).id
            rows = board_rows(session=session, board_id=board_id)
        if args.board_action == "export":
            return export_register(args, replace(settings, board_slug=args.slug))
        return _delete(engine, board_id, rows, args)
    finally:
        engine.dispose()


def _delete(engine: Engine, board_id: int, rows: dict[str, int], args: argparse.Namespace) -> int:
    listing = ", ".join(f"{count} {table}" for table, count in rows.items())
    if args.confirm != args.slug:
        print(f"Board {args.slug} holds {listing}.")
        print(f"Nothing was deleted. To delete all of it for good (export it first: "
              f"`soc-bot board export {args.slug} --format json --output FILE`), run "
              f"`soc-bot board delete {args.slug} --confirm {args.slug}`.")  # fmt: skip
        return 1
    with session_scope(engine) as session:
        deleted = delete_board(session=session, board_id=board_id)
    total = sum(deleted.values())
    done = ", ".join(f"{count} {table}" for table, count in deleted.items())
    log.warning("deleted Board %s and its %d rows: %s", args.slug, total, done)
    print(f"Deleted Board {args.slug}: {total} rows ({done}).")
    return 0


def _bind(engine: Engine, args: argparse.Namespace) -> int:
    tenant, team = _teams_place(args)
    with session_scope(engine) as session:
        board = _existing(session, args.slug)
        try:
            bind(session=session, board=board, channel=TEAMS, workspace_id=tenant, team_id=team,
                 now=system_clock(), take_inactive=True)  # fmt: skip
        except WorkspaceTaken as taken:
            other = session.get(Board, taken.board_id).slug
            raise CommandError(
                f"{_place(tenant, team)} is already bound to Board {other}, so nothing changed.",
                f"Unbind it first: `soc-bot board unbind {other} {_options(tenant, team)}`.",
            ) from None
    log.warning("bound Board %s to %s", args.slug, _place(tenant, team))
    where = "" if team else " (its teams without a Board of their own, and personal chats)"
    print(f"Bound Board {args.slug} to {_place(tenant, team)}{where}.")
    return 0


def _unbind(engine: Engine, args: argparse.Namespace) -> int:
    tenant, team = _teams_place(args)
    with session_scope(engine) as session:
        board = _existing(session, args.slug)
        binding = find_binding(session=session, channel=TEAMS, workspace_id=tenant, team_id=team)
        if binding is None or binding.board_id != board.id or not binding.active:
            raise CommandError(f"Board {args.slug} is not bound to {_place(tenant, team)}.",
                               "`soc-bot boards list` shows each Board's bindings.")  # fmt: skip
        board = deactivate(session=session, channel=TEAMS, workspace_id=tenant, team_id=team,
                           now=system_clock())  # fmt: skip
        active = board.active
    log.warning("unbound Board %s from %s", args.slug, _place(tenant, team))
    state = "still active elsewhere" if active else "now inactive (no binding left); its data stays"
    print(f"Unbound Board {args.slug} from {_place(tenant, team)}: its requests there are "
          f"refused. Board {args.slug} is {state}.")  # fmt: skip
    return 0


def _existing(session: Session, slug: str) -> Board:
    board = get_board(session=session, slug=slug)
    if board is None:
        raise CommandError(f"There is no Board {slug!r}.",
                           "`soc-bot boards list` shows every Board.")  # fmt: skip
    return board


def _teams_place(args: argparse.Namespace) -> tuple[str, str]:
    """The tenant id (a GUID, lower case) and team id given, checked."""
    try:
        tenant = str(uuid.UUID(args.teams_tenant.strip()))
    except ValueError:
        raise CommandError(
            f"{args.teams_tenant!r} is not a tenant id.",
            "A tenant (directory) id looks like 72f988bf-86f1-41af-91ab-2d7cd011db47 "
            "(Entra admin centre → Overview).",
        ) from None
    team = args.team.strip()
    if len(team) > MAX_TEAM_ID or any(c.isspace() for c in team):
        raise CommandError(f"{args.team!r} is not a Teams team id.",
                           "A team id looks like 19:...@thread.tacv2.")  # fmt: skip
    return tenant, team


def _place(tenant: str, team: str) -> str:
    return f"Teams tenant {tenant}" + (f", team {team}" if team else "")


def _options(tenant: str, team: str) -> str:
    return f"--teams-tenant {tenant}" + (f" --team {team}" if team else "")


def _row(overview: BoardOverview) -> list[str]:
    board, tz = overview.board, ZoneInfo(overview.board.timezone)
    channels = ", ".join(
        f"{b.channel}:{b.workspace_id}" + (f"/{b.team_id}" if b.team_id else "")
        + ("" if b.active else " (removed)")
        for b in overview.bindings
    )  # fmt: skip
    last = overview.last_activity
    return [board.slug, board.name, channels or "-", "yes" if board.active else "no",
            str(overview.members), str(overview.actions),
            f"{last.astimezone(tz):%Y-%m-%d %H:%M}" if last else "-"]  # fmt: skip


HANDLERS = {"boards": _boards, "board": _board}
