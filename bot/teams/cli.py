"""`soc-bot teams serve` and `soc-bot teams package`: the Teams server and its app package."""

import argparse
import os
import sys
from pathlib import Path

from bot.config import Settings, SettingsError

DEFAULT_PACKAGE = Path("soc-bot-teams.zip")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the `teams` subcommands to the `soc-bot` parser."""
    teams = sub.add_parser("teams", help="Microsoft Teams: serve the bot, build its app package")
    teams_sub = teams.add_subparsers(dest="teams_action", required=True)
    serve = teams_sub.add_parser("serve", help="the Teams bot over HTTP: POST /api/messages")
    serve.add_argument("--port", type=int, default=None, help="default: $TEAMS_PORT or 3978")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    package = teams_sub.add_parser("package", help="build the Teams app package (zip)")
    package.add_argument("--app-id", default=None,
                         help="the Entra app (client) id; default: $TEAMS_CLIENT_ID")  # fmt: skip
    package.add_argument(
        "--host", required=True, help="the bot's public host, e.g. soc.example.org"
    )
    package.add_argument("--output", type=Path, default=DEFAULT_PACKAGE)
    package.add_argument("--name", default="soc", help="the app's short name in Teams")


def _teams(args: argparse.Namespace, settings: Settings) -> int:
    if args.teams_action == "package":
        return _package(args, settings)
    return _serve(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.teams.app import create_app
    from bot.teams.config import load_teams_settings
    from bot.teams.server import listen_host, serve

    teams = load_teams_settings()
    bot = create_app(settings, teams)  # refuses without credentials, unless anonymous
    host, port = listen_host(teams, args.host), args.port or teams.port
    if teams.anonymous:
        sys.stderr.write(
            f"soc-bot: Teams ANONYMOUS mode (TEAMS_ANONYMOUS=true): requests are not "
            f"authenticated, so listening on {host} only. For local testing, never production.\n"
        )
    sys.stderr.write(f"soc-bot: Teams bot on http://{host}:{port}/api/messages\n")
    serve(bot, host, port)
    return 0


def _package(args: argparse.Namespace, settings: Settings) -> int:
    from bot.teams.package import PackageError, build_manifest, write_package

    app_id = args.app_id or os.environ.get("TEAMS_CLIENT_ID", "")
    try:
        manifest = build_manifest(app_id, args.host, name=args.name,
                                  board_name=settings.board_name)  # fmt: skip
    except PackageError as err:
        raise SettingsError(str(err)) from None
    write_package(manifest, args.output)
    sys.stdout.write(f"Wrote {args.output}: upload it in Teams (Apps > Manage your apps).\n")
    return 0


HANDLERS = {"teams": _teams}
