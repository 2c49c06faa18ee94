"""The couriers each Board's direct messages go out on (the worker's and `soc-bot remind`'s).

Slack: with one bot token (SLACK_BOT_TOKEN) every Board's messages use it. With installs
(SLACK_CLIENT_ID) a Board's messages use the bot token its own workspace installed the app with,
found through the Board's binding (`models.workspaces`), never another workspace's; a Board
whose workspace's token is missing waits. Each workspace's client is made once and kept across
ticks, with its own rate-limit pause (`bot.senders.courier.RateLimitPause`), so a workspace that
asked to be left alone delays only its own Board; its token is read again every
`TOKEN_SECONDS`, so a reinstall's new token is picked up. Teams: the deployment's app
credentials (or a tenant's own app), for every Board, with one rate-limit pause per tenant
(`bot.teams.courier.TenantPauses`) kept across ticks and shared by every Board, so a tenant that
asked to be left alone delays only the messages to that tenant. Couriers draw times in the
Board's own time zone.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryIntervalCalculator
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.senders.courier import Courier, RateLimitPause
from bot.slack.courier import reminder_client, slack_couriers
from bot.slack.install import installation_store
from bot.teams.config import TeamsSettings, load_teams_settings
from bot.teams.courier import TenantPauses, teams_couriers
from handlers.context import board_zone
from models.tables import Board
from models.workspaces import SLACK, BoardWorkspace

log = logging.getLogger(__name__)

# How long a workspace's bot token is trusted before it is read from the store again.
TOKEN_SECONDS = 300
SINGLE_TOKEN = ""  # the workspace key of SLACK_BOT_TOKEN's client


@dataclass
class _Workspace:
    """One workspace's client, kept across ticks."""

    token: str
    client: WebClient
    pause: RateLimitPause
    read_at: float


class BoardCouriers:
    """Finds each Board's couriers, making each workspace's Slack client once."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        teams: TeamsSettings | None = None,
        retry_interval: RetryIntervalCalculator | None = None,
        clock: Callable[[], float] = time.monotonic,
        teams_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings, self.clock, self.retry_interval = settings, clock, retry_interval
        self.teams = load_teams_settings() if teams is None else teams
        self.teams_options = teams_options or {}
        self._store = installation_store(settings, engine) if settings.slack_installs else None
        self._workspaces: dict[str, _Workspace] = {}
        self._teams: dict[str, dict[str, Courier]] = {}
        self._tenant_pauses = TenantPauses(clock)
        self._lock = threading.Lock()

    def channels(self) -> list[str]:
        """The channels this deployment can send on at all ("slack", "teams")."""
        found = ["slack"] if self.settings.slack_installs or self.settings.slack_bot_token else []
        return found + sorted(teams_couriers(self.teams, self.settings.tz, **self.teams_options))

    def for_board(self, board: Board, bindings: list[BoardWorkspace]) -> dict[str, Courier] | None:
        """The Board's couriers by channel; None while its workspace's Slack token is missing."""
        zone = board_zone(board)
        couriers: dict[str, Courier] = {}
        if self._store is not None:
            slack = [b for b in bindings if b.channel == SLACK and b.active]
            if slack:
                workspace = self._installed(slack[0])
                if workspace is None:
                    log.warning("Board %s: no bot token is stored for its Slack workspace %s; "
                                "its messages wait", board.slug, slack[0].workspace_id)  # fmt: skip
                    return None
                couriers.update(slack_couriers(workspace.client, zone, workspace.pause))
        elif self.settings.slack_bot_token:
            workspace = self._workspace(SINGLE_TOKEN, self.settings.slack_bot_token)
            couriers.update(slack_couriers(workspace.client, zone, workspace.pause))
        couriers.update(self._teams_couriers(board.timezone))
        return couriers

    def _installed(self, binding: BoardWorkspace) -> _Workspace | None:
        """The client of an installed workspace, its token read from the store when stale."""
        key = binding.workspace_id
        with self._lock:
            kept = self._workspaces.get(key)
        if kept is not None and self.clock() - kept.read_at < TOKEN_SECONDS:
            return kept
        # An organisation-wide install is bound by its enterprise id.
        org_wide = bool(binding.enterprise_id) and binding.workspace_id == binding.enterprise_id
        bot = self._store.find_bot(
            enterprise_id=binding.enterprise_id or None,
            team_id=None if org_wide else binding.workspace_id,
            is_enterprise_install=org_wide,
        )
        if bot is None or not bot.bot_token:
            with self._lock:
                self._workspaces.pop(key, None)
            return None
        return self._workspace(key, bot.bot_token)

    def _workspace(self, key: str, token: str) -> _Workspace:
        """The kept client for `key`, made anew only if its token changed."""
        with self._lock:
            kept = self._workspaces.get(key)
            if kept is not None and kept.token == token:
                kept.read_at = self.clock()
                return kept
            client = reminder_client(self.settings, retry_interval=self.retry_interval, token=token)
            made = _Workspace(token, client, RateLimitPause(self.clock), self.clock())
            self._workspaces[key] = made
            return made

    def _teams_couriers(self, zone: str) -> dict[str, Courier]:
        """The deployment's Teams courier drawing times in `zone` (one kept per zone), every
        zone's sharing the tenants' rate-limit pauses."""
        with self._lock:
            if zone not in self._teams:
                options = {"pauses": self._tenant_pauses, **self.teams_options}
                self._teams[zone] = dict(teams_couriers(self.teams, ZoneInfo(zone), **options))
            return self._teams[zone]
