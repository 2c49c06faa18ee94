"""Direct messages through the Bot Connector: the worker's reminders, as cards in a 1:1 chat.

A person is reached through the 1:1 conversation stored when they first wrote to the bot or
installed the app; without one, a 1:1 chat is created from their Entra object id (Teams allows
that only where the app is installed for them, e.g. pre-installed by an admin policy).

Teams cannot be asked whether a message went out without Microsoft Graph, so `can_find_sent`
is False: after a worker died mid-send, the sender sends the message again with a visible
"sent again after an interruption" line (`bot.senders.exactly_once`) rather than lose it.

Teams' rate limits are kept per tenant: a tenant whose connector answers 429 for longer than a
call waits on the spot (`bot.teams.connector.MAX_WAIT`) is paused (`TenantPauses`), and its
messages are left for a later tick (RETRY, like a paused Slack workspace's) while other tenants'
go on.
"""

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import Connections
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.senders.courier import RATE_LIMITED, Address, RateLimitPause, Result
from bot.teams.cards import CONTENT_TYPE, SentCard, fallback_text, render_card
from bot.teams.config import TeamsSettings
from bot.teams.connector import ConnectorError, with_retries
from bot.teams.identities import stored_conversation
from bot.teams.ids import CHANNEL
from bot.teams.surface import TEAMS
from handlers.replies import Reply
from models.ledger import FAILED, RETRY, SENT

log = logging.getLogger(__name__)

# Where Teams' connector is when no conversation of the person's says otherwise.
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
CONNECTOR_AUDIENCE = "https://api.botframework.com"
CONNECTOR_SCOPES = ["https://api.botframework.com/.default"]
CANNOT_CHECK = "Teams cannot say whether a message was sent (that needs Microsoft Graph)"
Sleep = Callable[[float], Awaitable[None]]


class TenantPauses:
    """One `RateLimitPause` per tenant, shared by the Teams couriers of every Board."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pauses: dict[str, RateLimitPause] = {}
        self._lock = threading.Lock()

    def of(self, tenant: str) -> RateLimitPause:
        """The tenant's pause (made the first time it is asked for)."""
        key = tenant.casefold()
        with self._lock:
            if key not in self._pauses:
                self._pauses[key] = RateLimitPause(self.clock)
            return self._pauses[key]


class TeamsCourier:
    """Sends replies as cards to people's 1:1 chats with the bot, and updates them."""

    channel = CHANNEL
    can_find_sent = False
    surface = TEAMS

    def __init__(
        self,
        teams: TeamsSettings,
        tz: ZoneInfo,
        *,
        connections: Connections | None = None,
        service_url: str = DEFAULT_SERVICE_URL,
        sleep: Sleep = asyncio.sleep,
        pauses: TenantPauses | None = None,
    ) -> None:
        self.teams, self.tz, self.service_url, self.sleep = teams, tz, service_url, sleep
        self._connections = connections
        self.pauses = pauses or TenantPauses()

    def send(self, to: Address, reply: Reply, key: str) -> Result:
        """Send `reply` to the person's 1:1 chat (made from their object id if none is stored)."""
        return self._run(self._send(to, reply, key))

    def update(self, ref: str, reply: Reply) -> Result:
        """Replace the message `ref` (as `send` returned it) with `reply`."""
        try:
            where = json.loads(ref)
            service_url, conversation, activity_id = (
                where["serviceUrl"], where["conversation"], where["activity"])  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return Result(FAILED, error="not a Teams message reference")
        tenant = str(where.get("tenant") or "")
        if self.pauses.of(tenant).active():
            return Result(RETRY, error=RATE_LIMITED)
        return self._run(self._update(service_url, conversation, activity_id, ref, reply, tenant))

    def find_sent(self, to: Address, key: str, since: datetime) -> Result | None:
        """Never known in Teams: the sender resends with a visible line instead (see module)."""
        return Result(RETRY, error=CANNOT_CHECK)

    def message(self, reply: Reply) -> Activity:
        """The reply as a Teams message: the card and its plain-text fallback."""
        return Activity(
            type=ActivityTypes.message,
            text=fallback_text(reply, self.tz),
            text_format="plain",
            attachments=[
                Attachment(content_type=CONTENT_TYPE, content=SentCard(render_card(reply, self.tz)))
            ],
        )

    async def _send(self, to: Address, reply: Reply, key: str) -> Result:
        reference = stored_conversation(to.conversation)
        service_url = (reference or {}).get("serviceUrl") or self.service_url
        tenant = to.tenant or ((reference or {}).get("conversation") or {}).get("tenantId") or ""
        if self.pauses.of(tenant).active():
            return Result(RETRY, error=RATE_LIMITED)
        client, app_id = await self._client(service_url, tenant)
        try:
            if reference is not None:
                conversation = reference["conversation"]["id"]
            else:
                if not tenant:
                    return Result(FAILED, error="no Teams chat stored and no tenant to open one")
                conversation = await self._open_chat(client, to.id, tenant, app_id)
            message = self.message(reply)
            sent = await with_retries(
                lambda: client.conversations.send_to_conversation(conversation, message),
                sleep=self.sleep,
            )
        except ConnectorError as error:
            log.warning("Teams message %s: %s", key, error)
            return self._result_of(error, tenant)
        finally:
            await client.close()
        ref = {"serviceUrl": service_url, "conversation": conversation, "activity": sent.id or ""}
        if tenant:
            ref["tenant"] = tenant  # an update goes through the same tenant's app
        return Result(SENT, ref=json.dumps(ref, sort_keys=True))

    async def _open_chat(
        self, client: TeamsConnectorClient, object_id: str, tenant: str, app_id: str
    ) -> str:
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=f"28:{app_id}"),
            members=[ChannelAccount(id=object_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created = await with_retries(
            lambda: client.conversations.create_conversation(parameters), sleep=self.sleep
        )
        return created.id

    async def _update(
        self,
        service_url: str,
        conversation: str,
        activity_id: str,
        ref: str,
        reply: Reply,
        tenant: str,
    ) -> Result:
        client, _ = await self._client(service_url, tenant)
        message = self.message(reply)
        message.id = activity_id
        try:
            await with_retries(
                lambda: client.conversations.update_activity(conversation, activity_id, message),
                sleep=self.sleep,
            )
        except ConnectorError as error:
            return self._result_of(error, tenant)
        finally:
            await client.close()
        return Result(SENT, ref=ref)

    def _result_of(self, error: ConnectorError, tenant: str) -> Result:
        """Retry or failed; a 429 that outlasted the waiting on the spot pauses the tenant."""
        if error.status == 429 and error.retry_after:
            pause = self.pauses.of(tenant)
            if not pause.active():
                log.warning("Teams asked tenant %s's messages to wait %gs: they go out on a "
                            "later tick", tenant or "(none)", error.retry_after)  # fmt: skip
            pause.start(error.retry_after)
        if error.status == 429 and not error.maybe_delivered:
            # Refused at its only try, so certainly not sent: its retry needs no "you may have
            # this twice" (an earlier try lost on the way back may have been delivered).
            return Result(RETRY, error=f"{RATE_LIMITED}: {error}")
        return Result(RETRY if error.retryable else FAILED, error=str(error))

    async def _client(self, service_url: str, tenant: str) -> tuple[TeamsConnectorClient, str]:
        """A connector client with the token of the app serving `tenant`, and that app's id:
        one tenant's messages never go out under another tenant's app."""
        if self._connections is None:
            self._connections = MsalConnectionManager(**self.teams.sdk_configuration())
        name, app_id = self.teams.connection_for_tenant(tenant)
        provider = self._connections.get_connection(name)
        token = await provider.get_access_token(CONNECTOR_AUDIENCE, CONNECTOR_SCOPES)
        return TeamsConnectorClient(endpoint=service_url, token=token or ""), app_id

    def _run(self, work: Awaitable[Result]) -> Result:
        # The senders are synchronous (the worker's thread); each call gets its own event loop.
        return asyncio.run(_guarded(work))


async def _guarded(work: Awaitable[Result]) -> Result:
    try:
        return await work
    except (OSError, TimeoutError) as error:  # the token service or the connector unreachable
        return Result(RETRY, error=f"{type(error).__name__}"[:200])
    except Exception as error:  # noqa: BLE001  (MSAL and the SDK raise many kinds)
        # Only the type: an authentication error's text may quote the request.
        log.warning("Teams delivery failed: %s", type(error).__name__)
        return Result(RETRY, error=type(error).__name__)


def teams_couriers(teams: TeamsSettings, tz: ZoneInfo, **options: Any) -> dict[str, TeamsCourier]:
    """{"teams": TeamsCourier} when the app's credentials are set (none in anonymous mode)."""
    if not (teams.client_id and teams.client_secret and teams.tenant_id):
        return {}
    return {CHANNEL: TeamsCourier(teams, tz, **options)}
