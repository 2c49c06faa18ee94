"""Posting to a `response_url`, with retries, and telling a user in words that something failed."""

import logging
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = (
    "Something went wrong on our side, so nothing was changed. Please try again in a minute; "
    "if it keeps happening, tell the secretariat."
)
SHOWING_FAILED = (
    "Your command was carried out, but something went wrong showing the result. "
    "Check with `/soc action status` before trying again."
)


class ReplyNotShown(Exception):
    """The command ran (and any change was saved), but rendering or sending its reply failed."""


def retry_handlers() -> list[RetryHandler]:
    """Retry rate limits (honouring Retry-After), dropped connections, timeouts and Slack's 500s."""
    # A timed-out answer may have reached Slack: a retry can show a reply twice, which beats
    # showing it not at all. (Reminders, where twice matters, have their own ledger and client.)
    dropped = [URLError, ConnectionResetError, RemoteDisconnected, TimeoutError]
    return [
        RateLimitErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2, error_types=dropped),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def post(response_url: str | None, message: dict) -> bool:
    """Send a message to a `response_url`; False (and a log line) if Slack refused it."""
    if not response_url:
        log.warning("no response_url to answer through; the reply was dropped")
        return False
    response = WebhookClient(response_url, timeout=10, retry_handlers=retry_handlers()).send_dict(
        message
    )
    if response.status_code != 200:
        # The URL itself is a credential for 30 minutes: log the outcome, not the address.
        log.warning("response_url refused the reply: HTTP %s %s", response.status_code,
                    response.body[:200])  # fmt: skip
        return False
    return True


def failure_text(error: BaseException) -> str:
    """What to tell the user about an unexpected failure."""
    return SHOWING_FAILED if isinstance(error, ReplyNotShown) else SOMETHING_WENT_WRONG


def report_failure(error: BaseException, response_url: str | None) -> None:
    """Log an unexpected failure and tell the user ephemerally, if there is anywhere to say it."""
    log.error("a Slack request failed: %s", type(error).__name__, exc_info=error)
    if response_url:
        try:
            post(response_url, {"response_type": "ephemeral", "replace_original": False,
                                "text": failure_text(error)})  # fmt: skip
        except Exception:  # noqa: BLE001  (the failure is already logged; don't mask it)
            log.warning("could not tell the user about the failure", exc_info=True)
