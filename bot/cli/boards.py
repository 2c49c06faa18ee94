"""CLI subcommands for a deployment hosting many Boards: `boards list`, `board export|delete`,
and `board bind|unbind` for a Board's Slack workspace or Teams tenant (and team)."""

import argparse
import logging
import re
import uuid
from dataclasses import dataclass, replace
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
from models.workspaces import (
    SLACK,
    TEAMS,
    WorkspaceTaken,
    bind,
    deactivate,
    find_binding,
    release,
)

log = logging.getLogger(__name__)

COLUMNS = ("board", "name", "channels", "active", "members", "actions", "last activity")
# The longest Teams team id the binding table holds.
MAX_TEAM_ID = 64
# A Slack workspace (team) id, or an organisation's (enterprise) id: as long as the table holds.
SLACK_WORKSPACE_ID = re.compile(r"[TE][A-Z0-9]{2,63}")
SLACK_ENTERPRISE_ID = re.compile(r"E[A-Z0-9]{2,63}")


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
    for action, text in (
        ("bind", "run a Slack workspace's or Teams tenant's (or team's) requests against a Board"),
        ("unbind", "stop a Slack workspace or Teams tenant (or team) using a Board"),
    ):
        binding = board_sub.add_parser(action, help=text)
        binding.add_argument("slug")
        where = binding.add_mutually_exclusive_group(required=True)
        where.add_argument("--slack-team", metavar="TEAM_ID",
                           help="the Slack workspace id, T...: an organisation-wide install's "
                                "is its enterprise id, E...")  # fmt: skip
        where.add_argument("--teams-tenant", metavar="TENANT_ID",
                           help="the Microsoft 365 tenant (directory) id")  # fmt: skip
        binding.add_argument("--team", default="", metavar="TEAM_ID",
                             help="one team of the Teams tenant (default: all of it)")  # fmt: skip
        if action == "bind":
            binding.add_argument("--enterprise", default="", metavar="ENTERPRISE_ID",
                                 help="the Slack Enterprise Grid organisation of the workspace, "
                                      "E... (its install says so too)")  # fmt: skip


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


@dataclass(frozen=True)
class _Place:
    """A chat workspace a Board can be bound to, as the operator named it."""

    channel: str
    workspace_id: str
    team_id: str = ""
    enterprise_id: str = ""

    def __str__(self) -> str:
        if self.channel == SLACK:
            return f"Slack workspace {self.workspace_id}"
        return f"Teams tenant {self.workspace_id}" + (
            f", team {self.team_id}" if self.team_id else ""
        )

    @property
    def options(self) -> str:
        """The `soc-bot board bind|unbind` options naming this place."""
        if self.channel == SLACK:
            return f"--slack-team {self.workspace_id}"
        return f"--teams-tenant {self.workspace_id}" + (
            f" --team {self.team_id}" if self.team_id else ""
        )


def _bind(engine: Engine, args: argparse.Namespace) -> int:
    place = _place_of(args)
    with session_scope(engine) as session:
        board = _existing(session, args.slug)
        try:
            bind(session=session, board=board, channel=place.channel,
                 workspace_id=place.workspace_id, team_id=place.team_id,
                 enterprise_id=place.enterprise_id, now=system_clock(),
                 take_inactive=True)  # fmt: skip
        except WorkspaceTaken as taken:
            other = session.get(Board, taken.board_id).slug
            raise CommandError(
                f"{place} is already bound to Board {other}, so nothing changed.",
                f"Unbind it first: `soc-bot board unbind {other} {place.options}`.",
            ) from None
    log.warning("bound Board %s to %s", args.slug, place)
    print(f"Bound Board {args.slug} to {place}{_bound_note(place)}.")
    return 0


def _bound_note(place: _Place) -> str:
    if place.channel == SLACK:
        return " (installing the app there finds this Board, with its data)"
    return "" if place.team_id else " (its teams without a Board of their own, and personal chats)"


def _unbind(engine: Engine, args: argparse.Namespace) -> int:
    place = _place_of(args)
    with session_scope(engine) as session:
        board = _existing(session, args.slug)
        binding = find_binding(session=session, channel=place.channel,
                               workspace_id=place.workspace_id, team_id=place.team_id)  # fmt: skip
        # A Slack workspace's binding outlives an uninstall (installing again finds the Board):
        # releasing that one still matters.
        releasable = binding is not None and (binding.active or place.channel == SLACK)
        if not releasable or binding.board_id != board.id:
            raise CommandError(f"Board {args.slug} is not bound to {place}.",
                               "`soc-bot boards list` shows each Board's bindings.")  # fmt: skip
        if place.channel == SLACK:
            board = release(session=session, channel=SLACK, workspace_id=place.workspace_id)
        else:
            board = deactivate(session=session, channel=place.channel,
                               workspace_id=place.workspace_id, team_id=place.team_id,
                               now=system_clock())  # fmt: skip
        active = board.active
    log.warning("unbound Board %s from %s", args.slug, place)
    state = "still active elsewhere" if active else "now inactive (no binding left); its data stays"
    again = (f"; installing the app there again will not bring Board {args.slug} back"
             if place.channel == SLACK else "")  # fmt: skip
    print(f"Unbound Board {args.slug} from {place}: its requests there are refused{again}. "
          f"Board {args.slug} is {state}.")  # fmt: skip
    return 0


def _existing(session: Session, slug: str) -> Board:
    board = get_board(session=session, slug=slug)
    if board is None:
        raise CommandError(f"There is no Board {slug!r}.",
                           "`soc-bot boards list` shows every Board.")  # fmt: skip
    return board


def _place_of(args: argparse.Namespace) -> _Place:
    """The Slack workspace, or Teams tenant and team, given, checked."""
    if args.slack_team is not None:
        return _slack_place(args)
    if getattr(args, "enterprise", ""):
        raise CommandError("--enterprise is for a Slack workspace (with --slack-team).",
                           "A Teams tenant is bound with --teams-tenant and --team.")  # fmt: skip
    return _teams_place(args)


def _slack_place(args: argparse.Namespace) -> _Place:
    if args.team:
        raise CommandError("--team is for a Teams tenant: a Slack workspace is bound whole.",
                           f"Leave it out: `soc-bot board {args.board_action} {args.slug} "
                           f"--slack-team {args.slack_team}`.")  # fmt: skip
    workspace = args.slack_team.strip().upper()
    if not SLACK_WORKSPACE_ID.fullmatch(workspace):
        raise CommandError(f"{args.slack_team!r} is not a Slack workspace id.",
                           "A workspace (team) id looks like T0123ABCD (`soc-bot boards list` "
                           "shows installed ones as slack:T...).")  # fmt: skip
    enterprise = getattr(args, "enterprise", "").strip().upper()
    if enterprise and not SLACK_ENTERPRISE_ID.fullmatch(enterprise):
        raise CommandError(f"{args.enterprise!r} is not a Slack Enterprise Grid id.",
                           "An organisation (enterprise) id looks like E0123ABCD.")  # fmt: skip
    if workspace.startswith("E"):
        # An organisation-wide install is bound by its enterprise id (as the install binds it).
        if enterprise not in ("", workspace):
            raise CommandError(f"{workspace} is an organisation-wide install: its organisation "
                               f"is {workspace}, not {enterprise}.",
                               "Leave --enterprise out.")  # fmt: skip
        enterprise = workspace
    return _Place(SLACK, workspace, enterprise_id=enterprise)


def _teams_place(args: argparse.Namespace) -> _Place:
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
    return _Place(TEAMS, tenant, team)


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
