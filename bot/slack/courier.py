"""Direct messages through Slack's Web API: send one, sort its errors, find it again later."""

import http.client
import logging
from dataclasses import dataclass
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

from bot.config import Settings
from bot.slack.render.blocks import fallback_text, render_blocks
from handlers.replies import Item, Reply, Section
from models.ledger import FAILED, RETRY, SENT

log = logging.getLogger(__name__)

EVENT_TYPE = "soc_reminder"
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


def reminder_client(
    settings: Settings, *, retry_interval: RetryIntervalCalculator | None = None
) -> WebClient:
    """A Web API client that waits out 429s (Retry-After) and retries 5xx and dropped links."""
    interval = retry_interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
            ConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
        ],
    )


@dataclass
class Result:
    """What Slack made of one message: sent (where), failed for good, or worth retrying."""

    status: str
    channel: str = ""
    ts: str = ""
    error: str = ""


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


class SlackDelivery:
    """Posts DMs carrying their ledger key, and looks for them after a crash.

    `event_type` names the ledger in the message metadata, so keys of different ledgers (reminders,
    priorities) never match each other.
    """

    def __init__(self, client: WebClient, tz: ZoneInfo, *, event_type: str = EVENT_TYPE) -> None:
        self.client, self.tz, self.event_type = client, tz, event_type

    def message(self, user_id: str, reply: Reply, key: str) -> dict:
        """The chat.postMessage arguments: a user id as channel posts in the app's DM."""
        # The notification text: headings and one line per action (the blocks have the details).
        outline = Reply(
            title=reply.title,
            text=reply.text,
            notice=reply.notice,
            items=[Item(item.title, item.ref, item.rag) for item in reply.items],
            sections=[Section(s.heading, lines=s.lines) for s in reply.sections],
            hint=reply.hint,
        )
        return {
            "channel": user_id,
            "text": fallback_text(outline, self.tz),
            "blocks": render_blocks(reply, self.tz),
            "metadata": {"event_type": self.event_type, "event_payload": {"key": key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }

    def post(self, message: dict) -> Result:
        """Send one message; errors become a Result (unknown exceptions propagate)."""
        try:
            response = self.client.chat_postMessage(**message)
        except Exception as error:  # noqa: BLE001  (result_of re-raises what it does not know)
            result = result_of(error)
            key = message["metadata"]["event_payload"]["key"]
            log.warning("%s %s to %s: %s (%s)", self.event_type, key, message["channel"],
                        result.error, result.status)  # fmt: skip
            return result
        return Result(SENT, channel=response.get("channel") or "", ts=response.get("ts") or "")

    def find_sent(self, user_id: str, key: str, since: datetime) -> Result | None:
        """The message with this key in the user's DM since `since` (less a minute), if any."""
        oldest = (since - timedelta(seconds=60)).timestamp()
        try:
            channel = self.client.conversations_open(users=user_id)["channel"]["id"]
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
                    if metadata.get("event_type") == self.event_type and payload.get("key") == key:
                        return Result(SENT, channel=channel, ts=message.get("ts", ""))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
        except Exception as error:  # noqa: BLE001  (result_of re-raises what it does not know)
            result = result_of(error)
            result.error = f"could not check whether it was sent: {result.error}"
            return result
