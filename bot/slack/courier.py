"""Slack's courier (`bot.senders.courier.Courier`): direct messages through the Web API.

It draws a reply in Block Kit, marks the message with its ledger key in Slack's message metadata,
sorts Slack's errors into failed and retry, and finds a message again by its key in the DM's
history (`conversations.history`), which is how a successor reconciles a claim.
"""

import http.client
import logging
from datetime import datetime, timedelta
from urllib.error import URLError
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryIntervalCalculator,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings
from bot.senders.courier import RATE_LIMITED, Address, RateLimitPause, Result, retry_after
from bot.slack.render.blocks import fallback_text, render_blocks
from bot.slack.surface import SLACK
from handlers.replies import Item, Reply, Section
from models.ledger import FAILED, RETRY, SENT

log = logging.getLogger(__name__)

CHANNEL = "slack"
# The metadata event type of every message the senders send; its payload's `key` is the message
# key (deployment, ledger and ledger key), so messages of other ledgers or deployments never match.
EVENT_TYPE = "soc_message"
# Worth another try on the next tick. Every other error (user_not_found, account_inactive,
# channel_not_found, cannot_dm_bot, not_allowed_token_type, invalid_blocks...) would only repeat.
RETRYABLE_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
    }
)


# The longest Retry-After a sender waits out on the spot. A workspace asking for longer is left
# alone until then (`RateLimitPause`): its messages wait for a later tick, and the worker's time
# goes to the other Boards.
MAX_RATE_LIMIT_WAIT = 5


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Waits out a 429 only when Slack asks for at most `max_wait` seconds."""

    def __init__(self, max_retry_count: int = 3, max_wait: int = MAX_RATE_LIMIT_WAIT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        limited = super()._can_retry(state=state, request=request, response=response, error=error)
        return limited and retry_after(response.headers, default=1) <= self.max_wait


def reminder_client(
    settings: Settings,
    *,
    retry_interval: RetryIntervalCalculator | None = None,
    token: str | None = None,
    max_wait: int = MAX_RATE_LIMIT_WAIT,
) -> WebClient:
    """A Web API client (the deployment's bot token unless `token` is given) that waits out 429s
    asking for at most `max_wait` seconds, and retries 5xx and dropped links."""
    interval = retry_interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    return WebClient(
        token=settings.slack_bot_token if token is None else token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=[
            BoundedRateLimitRetryHandler(max_retry_count=3, max_wait=max_wait),
            ServerErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
            ConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
        ],
    )


def result_of(error: Exception) -> Result:
    """Sort a Slack or network error into failed (resending won't help) or retry."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = data.get("error") or f"HTTP {status}"
        if status in (408, 429) or status >= 500 or code in RETRYABLE_ERRORS:
            return Result(RETRY, error=code)
        return Result(FAILED, error=code)
    if isinstance(error, URLError | TimeoutError | ConnectionError | http.client.HTTPException):
        # The message may have gone out before the answer was lost: reconcile before resending.
        return Result(RETRY, error=f"{type(error).__name__}: {error}"[:200])
    raise error


def message_ref(channel: str, ts: str) -> str:
    """The ledger's reference to a Slack message: "<channel>:<ts>"."""
    return f"{channel}:{ts}" if ts else ""


class SlackCourier:
    """Posts DMs carrying their message key, updates them, and looks for them after a crash."""

    channel = CHANNEL
    can_find_sent = True
    surface = SLACK

    def __init__(
        self, client: WebClient, tz: ZoneInfo, pause: RateLimitPause | None = None
    ) -> None:
        self.client, self.tz = client, tz
        self.pause = pause or RateLimitPause()

    def message(self, user_id: str, reply: Reply, key: str) -> dict:
        """The chat.postMessage arguments: a user id as channel posts in the app's DM."""
        return {
            "channel": user_id,
            **self._content(reply),
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }

    def _content(self, reply: Reply) -> dict:
        # The notification text: headings and one line per action (the blocks have the details).
        outline = Reply(
            title=reply.title,
            text=reply.text,
            notice=reply.notice,
            items=[Item(item.title, item.ref, item.rag) for item in reply.items],
            sections=[Section(s.heading, lines=s.lines) for s in reply.sections],
            hint=reply.hint,
        )
        return {"text": fallback_text(outline, self.tz), "blocks": render_blocks(reply, self.tz)}

    def send(self, to: Address, reply: Reply, key: str) -> Result:
        """Send `reply` to the person's DM with the app, marked with `key`."""
        return self.post(self.message(to.id, reply, key))

    def post(self, message: dict) -> Result:
        """Send one message; errors become a Result (unknown exceptions propagate)."""
        if self.pause.active():
            return Result(RETRY, error=RATE_LIMITED)
        try:
            response = self.client.chat_postMessage(**message)
        except Exception as error:  # noqa: BLE001  (result_of re-raises what it does not know)
            result = self._result_of(error)
            key = message["metadata"]["event_payload"]["key"]
            log.warning("message %s to %s: %s (%s)", key, message["channel"],
                        result.error, result.status)  # fmt: skip
            return result
        channel = response.get("channel") or ""
        return Result(SENT, ref=message_ref(channel, response.get("ts") or ""))

    def update(self, ref: str, reply: Reply) -> Result:
        """Replace the message `ref` ("<channel>:<ts>") with `reply`."""
        channel, _, ts = ref.partition(":")
        if self.pause.active():
            return Result(RETRY, error=RATE_LIMITED)
        try:
            self.client.chat_update(channel=channel, ts=ts, **self._content(reply))
        except Exception as error:  # noqa: BLE001  (result_of re-raises what it does not know)
            return self._result_of(error)
        return Result(SENT, ref=ref)

    def find_sent(self, to: Address, key: str, since: datetime) -> Result | None:
        """The message with this key in the person's DM since `since` (less a minute), if any."""
        oldest = (since - timedelta(seconds=60)).timestamp()
        if self.pause.active():
            return Result(RETRY, error=f"could not check whether it was sent: {RATE_LIMITED}")
        try:
            channel = self.client.conversations_open(users=to.id)["channel"]["id"]
            cursor = None
            while True:
                page = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == key:
                        return Result(SENT, ref=message_ref(channel, message.get("ts", "")))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
        except Exception as error:  # noqa: BLE001  (result_of re-raises what it does not know)
            result = self._result_of(error)
            result.error = f"could not check whether it was sent: {result.error}"
            return result

    def _result_of(self, error: Exception) -> Result:
        """`result_of`, and a 429 that outlasted the client's waiting pauses the workspace."""
        result = result_of(error)
        if isinstance(error, SlackApiError) and error.response.status_code == 429:
            seconds = retry_after(error.response.headers, default=1)
            if not self.pause.active():
                log.warning("Slack asked this workspace's messages to wait %gs: they go out on "
                            "a later tick", seconds)  # fmt: skip
            self.pause.start(seconds)
        return result


def slack_couriers(
    client: WebClient, tz: ZoneInfo, pause: RateLimitPause | None = None
) -> dict[str, SlackCourier]:
    """The couriers of a Slack-only deployment: {"slack": SlackCourier}."""
    return {CHANNEL: SlackCourier(client, tz, pause)}
