"""Many workspaces: installing the app through Slack's OAuth flow makes the workspace's Board.

`/slack/install` sends the person to Slack's consent screen with a one-time `state` (kept in the
database and in a cookie on their browser); `/slack/oauth_redirect` checks both, exchanges the
code for the workspace's bot token and stores it through slack_sdk's SQLAlchemy installation
store in the Board's database. The success callback then creates the workspace's Board (or finds
the one bound to the workspace: a reinstall, or a Board the operator bound with `soc-bot board
bind`), binds it to the workspace and, only if the Board has no members yet, makes the installer
its secretariat (anyone allowed to install could otherwise run the link again to take that role
on an existing Board). Uninstalling, or revoking the bot token, deletes the tokens (bolt's own
revocation listeners) and marks the binding and the Board inactive; the Board's data stays.
"""

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.config import Settings
from bot.workspace_memory import WorkspaceMemory
from models.db import reader, session_scope
from models.hosting import install_board
from models.people import list_members, save_member
from models.slack_store import BOTS, INSTALLATIONS, OAUTH_STATES
from models.tables import Board, Role
from models.workspaces import SLACK, board_slug_for, deactivate

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# How long an install link's `state` stays usable (bolt's default).
STATE_SECONDS = 600
# The installer's name until they give their own (`/soc member add @them name="..."`).
INSTALLER_NAME = "Secretariat (installed soc-bot)"
BOARD_SLUG_PREFIX = "slack-"
# Bot tokens whose `auth.test` answer each process remembers (one a workspace).
AUTH_TEST_ANSWERS = 4096


def oauth_settings(
    settings: Settings, engine: Engine, clock: Callable[[], datetime], memory: WorkspaceMemory
) -> OAuthSettings:
    """Bolt's OAuth settings: our paths, scopes and database stores, and the Board callback."""
    store = installation_store(settings, engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine,
                                       table_name=OAUTH_STATES, logger=log)  # fmt: skip
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(settings.slack_scopes),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # The install link goes straight to Slack's consent screen.
        install_page_rendering_enabled=False,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(
            success=lambda args: _installed(args, settings, engine, clock, memory),
            failure=_failed,
        ),
        logger=log,
    )
    oauth.authorize = RememberingAuthorize(
        memory, client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
        installation_store=store, bot_only=True, logger=log,
    )  # fmt: skip
    return oauth


class RememberingAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize, its answer for each workspace kept a few seconds (`WorkspaceMemory`).

    Behind that, bolt's own memory of each bot token's `auth.test` answer (bounded here), so a
    workspace's token is checked with Slack once, not every few seconds.
    """

    def __init__(self, memory: WorkspaceMemory, **options: Any) -> None:
        super().__init__(cache_enabled=True, **options)
        self.memory = memory
        self.authorize_result_cache = _Newest(AUTH_TEST_ANSWERS)

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        """The workspace's bot token and identity; None if it has none (not installed)."""
        # Bot tokens only (`bot_only`): the answer depends on the workspace, not on the user.
        key = ("authorize", enterprise_id, team_id, bool(context.is_enterprise_install))
        return self.memory.recall(key, lambda: super(RememberingAuthorize, self).__call__(
            context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            **actor,
        ))  # fmt: skip


class _Newest(OrderedDict):
    """A dict keeping only its `size` newest entries."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > self.size:
            self.popitem(last=False)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    """Bot tokens per workspace, in the Board's database (tables made by migration 0009)."""
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine,
                                       bots_table_name=BOTS,
                                       installations_table_name=INSTALLATIONS,
                                       logger=log)  # fmt: skip


def workspace_boards(
    engine: Engine, memory: WorkspaceMemory
) -> Callable[[str | None, str | None], str | None]:
    """(team id, enterprise id) -> the slug of the active Board bound to that workspace."""

    def look_up(team_id: str | None, enterprise_id: str | None) -> str | None:
        with reader(engine).connect() as connection:
            # An organisation-wide install is bound by its enterprise id.
            for workspace_id in filter(None, (team_id, enterprise_id)):
                slug = board_slug_for(connection=connection, channel=SLACK,
                                      workspace_id=workspace_id)  # fmt: skip
                if slug is not None:
                    return slug
        return None

    def board_slug(team_id: str | None, enterprise_id: str | None) -> str | None:
        key = ("board", team_id, enterprise_id)
        return memory.recall(key, lambda: look_up(team_id, enterprise_id))

    return board_slug


def register_revocation(
    app: App, engine: Engine, clock: Callable[[], datetime], memory: WorkspaceMemory
) -> None:
    """On uninstall or a revoked bot token: bolt deletes the tokens, we mark the Board inactive;
    this process forgets what it knew of workspaces (others do within `WorkspaceMemory` seconds).
    """
    delete_all = app.default_app_uninstalled_event_listener()
    delete_revoked = app.default_tokens_revoked_event_listener()

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        try:
            delete_all(context)
            _deactivate(engine, context, clock())
        finally:
            memory.clear()

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict, context: BoltContext) -> None:
        try:
            delete_revoked(event, context)
            if (event.get("tokens") or {}).get("bot"):
                _deactivate(engine, context, clock())
        finally:
            memory.clear()


def install_workspace_board(
    session: Session, settings: Settings, installation: Installation, now: datetime
) -> Board:
    """The installing workspace's Board, found (bound to it by an earlier install or
    `soc-bot board bind`) or made, bound and active; a Board with no members yet (a new one)
    gets the installer as its secretariat."""
    workspace_id = _workspace_id(installation)
    board, _ = install_board(
        session=session,
        channel=SLACK,
        workspace_id=workspace_id,
        enterprise_id=installation.enterprise_id or "",
        slug=BOARD_SLUG_PREFIX + workspace_id.lower(),
        name=(installation.team_name or installation.enterprise_name or settings.board_name)[:200],
        timezone=settings.timezone,
        now=now,
    )
    # Anyone the workspace lets install apps can run the install again: on a Board that has
    # people, that must not make them anyone (nor change an existing member's role).
    if installation.user_id and not list_members(session=session, board_id=board.id):
        save_member(session=session, board_id=board.id, external_id=installation.user_id,
                    display_name=INSTALLER_NAME, role=Role.SECRETARIAT.value,
                    channel=SLACK, tenant=workspace_id, now=now)  # fmt: skip
    return board


def _installed(
    args: SuccessArgs,
    settings: Settings,
    engine: Engine,
    clock: Callable[[], datetime],
    memory: WorkspaceMemory,
) -> BoltResponse:
    installation = args.installation
    try:
        with session_scope(engine) as session:
            board = install_workspace_board(session, settings, installation, clock())
            slug = board.slug
    except SQLAlchemyError as error:
        log.error("installed in workspace %s, but its Board could not be saved",
                  _workspace_id(installation), exc_info=error)  # fmt: skip
        return _failed(FailureArgs(request=args.request, reason="storage_error", error=error,
                                   suggested_status_code=500, settings=args.settings,
                                   default=args.default))  # fmt: skip
    finally:
        # The workspace may have a new token and binding: look both up from the next request on.
        memory.clear()
    log.warning("installed in workspace %s: Board %s", _workspace_id(installation), slug)
    return args.default.success(args)


def _failed(args: FailureArgs) -> BoltResponse:
    # The reason, not the request: its query string holds the one-time code.
    log.warning("a Slack install failed: %s", args.reason)
    return args.default.failure(args)


def _deactivate(engine: Engine, context: BoltContext, now: datetime) -> None:
    with session_scope(engine) as session:
        for workspace_id in filter(None, (context.team_id, context.enterprise_id)):
            board = deactivate(session=session, channel=SLACK, workspace_id=workspace_id, now=now)
            if board is not None:
                log.warning("workspace %s removed soc-bot; Board %s is %s, its data kept",
                            workspace_id, board.slug,
                            "active elsewhere" if board.active else "inactive")  # fmt: skip
                return


def _workspace_id(installation: Installation) -> str:
    if installation.is_enterprise_install or not installation.team_id:
        return installation.enterprise_id or ""
    return installation.team_id
