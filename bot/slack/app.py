"""The slack-bolt App: built by a factory (never at import), listeners registered by `register`."""

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.cli.console import system_clock
from bot.config import Settings, SettingsError
from bot.setup import open_engine
from bot.slack.install import oauth_settings, register_revocation, workspace_boards
from bot.slack.listeners import (
    boards,
    buttons,
    commands,
    errors,
    home,
    modals,
    priorities,
    retries,
)
from bot.slack.listeners.respond import retry_handlers
from bot.slack.listeners.runtime import ACK_BUDGET, Runtime
from bot.workspace_memory import WorkspaceMemory

log = logging.getLogger(__name__)
# Bolt logs whole request bodies, with Slack's legacy verification token, at INFO and DEBUG.
bolt_log = logging.getLogger(f"{__name__}.bolt")
bolt_log.setLevel(logging.WARNING)
# Bolt warns that SLACK_BOT_TOKEN is unused when it also gets `client`; the client carries it.
bolt_log.addFilter(lambda record: "`token` will be unused" not in record.getMessage())

REPLY_THREADS = 16


def web_client(settings: Settings) -> WebClient:
    """The Web API client every listener's `client` copies: base URL, token and retries."""
    return WebClient(token=settings.slack_bot_token or None, base_url=settings.slack_api_url,
                     retry_handlers=retry_handlers())  # fmt: skip


def check_slack_settings(settings: Settings, *more: str) -> None:
    """Refuse settings that name no mode, or both: one SLACK_BOT_TOKEN (one workspace, one
    Board), or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (many workspaces, installing the app)."""
    if settings.slack_installs and settings.slack_bot_token:
        raise SettingsError(
            "SLACK_CLIENT_ID and SLACK_BOT_TOKEN are both set: unset SLACK_BOT_TOKEN to let many "
            "workspaces install soc-bot, or unset SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to run "
            "it as a single-workspace app."
        )
    if settings.slack_installs:
        settings.require("slack_client_secret", *more)
        return
    settings.require("slack_bot_token", *more)
    if os.environ.get("SLACK_CLIENT_ID") and os.environ.get("SLACK_CLIENT_SECRET"):
        # Bolt would silently switch to OAuth with a file-based installation store.
        raise SettingsError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set in the environment, but these "
            "settings make soc-bot a single-workspace app: unset them and use SLACK_BOT_TOKEN."
        )


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
    process_before_response: bool = True,
    ack_budget: float = ACK_BUDGET,
    workspace_memory: WorkspaceMemory | None = None,
) -> App:
    """Build the App without touching the network (no `auth.test` until the first request).

    `process_before_response=True` (the default) computes a reply inside the request, so the
    acknowledgement carries it; see `bot.slack.listeners.commands` for the 2-second fallback.
    With SLACK_CLIENT_ID set, workspaces install the app (`bot.slack.install`) and each request
    runs against its own workspace's Board (found through `workspace_memory`, a few seconds at a
    time); otherwise every request runs against SOC_BOARD.
    """
    check_slack_settings(settings)
    engine = engine or open_engine(settings)
    clock = clock or system_clock
    installs = settings.slack_installs
    # Each workspace's Board and bot token, looked up once every few seconds, not every request.
    memory = WorkspaceMemory() if workspace_memory is None else workspace_memory
    app = App(
        name="soc-bot",
        client=client or web_client(settings),
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=bolt_log,
        oauth_settings=oauth_settings(settings, engine, clock, memory) if installs else None,
        user_facing_authorize_error_message=boards.NOT_INSTALLED_MESSAGE,
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        clock=clock,
        executor=ThreadPoolExecutor(REPLY_THREADS, thread_name_prefix="soc-reply"),
        ack_budget=ack_budget,
        boards=workspace_boards(engine, memory) if installs else None,
    )
    register(app, runtime)
    if installs:
        register_revocation(app, engine, clock, memory)
    return app


def register(app: App, runtime: Runtime) -> None:
    """Register the middleware, the error handler and every listener on `app`."""
    retries.register(app, runtime)
    errors.register(app)
    boards.register(app, runtime)
    commands.register(app, runtime)
    buttons.register(app, runtime)
    home.register(app, runtime)
    modals.register(app, runtime)
    priorities.register(app, runtime)
