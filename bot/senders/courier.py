"""The courier: how the exactly-once senders reach a person, whatever the channel.

Each channel package (Slack, Teams) provides one; the senders and the ledger see only this
interface, so they store a channel-neutral address and message reference and never a Slack id.
The protocol the senders keep over it is described in `bot.senders.exactly_once`. A courier
whose workspace or tenant asked, with a 429, to be left alone for longer than it will wait on the
spot keeps a `RateLimitPause` for it and answers RETRY (`RATE_LIMITED`) without calling until the
pause ends: the ledger keeps those messages for a later tick.
"""

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from handlers.context import Surface
from handlers.replies import Reply


@dataclass(frozen=True)
class Address:
    """Where a person is reached: the channel, their id there, and the workspace or tenant.

    `conversation` is the channel's own stored reference for a direct chat (Teams' 1:1
    conversation reference, as JSON), "" where the id is enough (Slack).
    """

    channel: str
    id: str
    tenant: str = ""
    conversation: str = ""

    def text(self) -> str:
        """The address as the ledger stores it: "slack::U0123", "teams:<tenant>:<object id>"."""
        return f"{self.channel}:{self.tenant}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Address | None":
        """An address from its ledger text (without `conversation`); None for "" or junk."""
        channel, tenant, found_id = (text.split(":", 2) + ["", ""])[:3]
        return cls(channel, found_id, tenant) if channel and found_id else None


@dataclass
class Result:
    """What the channel made of one message: sent (with its reference), failed for good, or retry.

    `status` is one of the ledger's statuses (`models.ledger.SENT`, `FAILED`, `RETRY`); `ref` is
    the channel's own reference to the message (enough to update it later), stored as text.
    """

    status: str
    ref: str = ""
    error: str = ""


class Courier(Protocol):
    """Sends replies to people on one channel, updates them, and finds them again after a crash."""

    # The channel this courier serves ("slack", "teams"): an `Address.channel`.
    channel: str
    # Whether `find_sent` can tell if a message went out (Slack: message metadata; Teams: no).
    can_find_sent: bool
    # How commands are typed on this channel, for the hints in the messages it carries.
    surface: Surface

    def send(self, to: Address, reply: Reply, key: str) -> Result:
        """Send `reply` to a person's direct chat, marked with the ledger `key`."""
        ...

    def update(self, ref: str, reply: Reply) -> Result:
        """Replace a message sent earlier (by its `ref`) with `reply`."""
        ...

    def find_sent(self, to: Address, key: str, since: datetime) -> Result | None:
        """The message marked `key` sent to `to` since `since`: a SENT result, None if it was not
        sent, or a RETRY result if the channel could not be asked."""
        ...


# The couriers a deployment has, by channel: a member is reached on one of these.
Couriers = Mapping[str, Courier]


# The error of a message not sent because its workspace or tenant is paused (Slack's own code).
RATE_LIMITED = "ratelimited"


def retry_after(headers: Mapping[str, Any] | None, default: float | None = None) -> float | None:
    """The seconds a 429's Retry-After header asks for (`default` if missing or unreadable)."""
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            text = (value[0] if value else "") if isinstance(value, list | tuple) else value
            try:
                seconds = float(str(text).strip())
            except ValueError:
                return default
            return max(0.0, seconds) if math.isfinite(seconds) else default
    return default


class RateLimitPause:
    """Until when one workspace or tenant is not to be called, after a 429 too long to wait out
    (shared by every courier calling it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock, self.until = clock, 0.0
        self._lock = threading.Lock()

    def active(self) -> bool:
        """Whether the workspace or tenant asked to be left alone for longer than now."""
        return self.clock() < self.until

    def start(self, seconds: float) -> None:
        """Leave the workspace or tenant alone for `seconds` from now."""
        with self._lock:
            self.until = max(self.until, self.clock() + seconds)
