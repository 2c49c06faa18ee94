"""Calls to the Bot Connector with Teams' rate limits respected: 429 (Retry-After) and 5xx retried.

The SDK's connector client retries nothing; every outbound call here goes through `with_retries`.
A 429 asking for longer than `MAX_WAIT` is not waited out: its `ConnectorError` carries the
Retry-After, so the worker's courier can leave that tenant alone until then
(`bot.teams.courier`).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

from bot.senders.courier import retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 4
MAX_WAIT = 30.0  # seconds; a longer Retry-After is for the next tick, not this request
BACKOFF = 0.5


class ConnectorError(Exception):
    """A connector call that failed: `retryable` if trying again later may work; `retry_after`:
    the seconds a last 429 asked for (None if it named none, or the failure was not a 429);
    `maybe_delivered`: an earlier try was lost on the way back (a timeout, a dropped link, a
    5xx), so Teams may have taken it."""

    def __init__(
        self,
        status: int,
        retryable: bool,
        message: str,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.retryable, self.retry_after = status, retryable, retry_after
        self.maybe_delivered = maybe_delivered


def is_retryable(status: int) -> bool:
    """429, 408 and 5xx are worth another try; other refusals would only repeat."""
    return status in (408, 429) or status >= 500


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call`, waiting out 429 (its Retry-After) and backing off after 5xx and lost links."""
    uncertain = False  # whether an earlier try may have reached Teams
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except aiohttp.ClientResponseError as error:
            status = error.status
            wait = retry_after(error.headers) if status == 429 else None
            if not is_retryable(status) or attempt == attempts:
                raise ConnectorError(status, is_retryable(status), f"HTTP {status}", wait,
                                     uncertain) from error  # fmt: skip
            if wait is not None and wait > MAX_WAIT:
                message = f"HTTP {status}, retry after {wait:.0f} s"
                raise ConnectorError(status, True, message, wait, uncertain) from error
            delay = wait if wait is not None else BACKOFF * 2 ** (attempt - 1)
            uncertain = uncertain or status >= 500
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            if attempt == attempts:
                raise ConnectorError(0, True, type(error).__name__, None, True) from error
            delay = BACKOFF * 2 ** (attempt - 1)
            uncertain = True
        log.info("connector call failed (attempt %s of %s); retrying in %.1f s",
                 attempt, attempts, delay)  # fmt: skip
        await sleep(delay)
    raise AssertionError("unreachable")
