"""The courier: how the exactly-once senders reach a person, whatever the channel.

Each channel package (Slack, Teams) provides one; the senders and the ledger see only this
interface, so they store a channel-neutral address and message reference and never a Slack id.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers.replies import Reply


@dataclass(frozen=True)
class Address:
    """Where a person is reached: the channel, their id there, and the workspace or tenant."""

    channel: str
    id: str
    tenant: str = ""


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
