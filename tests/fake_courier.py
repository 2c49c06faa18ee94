"""An in-memory courier for sender tests: records what it sends, fails or "dies" when told to."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.senders.courier import Address, Result
from handlers.context import DIRECT_MESSAGE, Surface
from handlers.replies import Reply
from models.ledger import SENT


class Died(BaseException):
    """The process dying: nothing after it runs (not even `except Exception`)."""


@dataclass
class Sent:
    """One message the courier delivered."""

    to: Address
    reply: Reply
    key: str
    ref: str


@dataclass
class FakeCourier:
    """A courier for `channel` with no network: `sent` is what people received.

    `refuse` maps a person's id to the Result to give instead of sending (e.g. RETRY, FAILED);
    `die_after` is called after each delivery and may raise `Died` to stop the sender between
    send and record; from then on the courier is `dead` (sends nothing) until `revive()`.
    """

    channel: str = "slack"
    surface: Surface = DIRECT_MESSAGE
    can_find_sent: bool = True
    sent: list[Sent] = field(default_factory=list)
    updated: list[tuple[str, Reply]] = field(default_factory=list)
    refuse: dict[str, Result] = field(default_factory=dict)
    die_after: Callable[["FakeCourier"], None] | None = None
    finds: int = 0
    dead: bool = False

    def send(self, to: Address, reply: Reply, key: str) -> Result:
        """Deliver unless told to refuse this person (or the process has died)."""
        if self.dead:
            raise Died("the process is gone: nothing more is sent")
        refused = self.refuse.get(to.id)
        if refused is not None:
            return Result(refused.status, error=refused.error)
        ref = f"{self.channel}-{len(self.sent) + 1}"
        self.sent.append(Sent(to, reply, key, ref))
        if self.die_after is not None:
            self.die_after(self)
        return Result(SENT, ref=ref)

    def revive(self) -> None:
        """A new process: sends work again, and nothing dies any more."""
        self.dead, self.die_after = False, None

    def update(self, ref: str, reply: Reply) -> Result:
        """Record the new version of a message."""
        self.updated.append((ref, reply))
        return Result(SENT, ref=ref)

    def find_sent(self, to: Address, key: str, since: datetime) -> Result | None:
        """The delivered message with this key to this person, if any."""
        self.finds += 1
        if not self.can_find_sent:
            raise AssertionError("find_sent asked of a courier that cannot find sent messages")
        for message in self.sent:
            if message.key == key and message.to.id == to.id:
                return Result(SENT, ref=message.ref)
        return None

    def received(self) -> dict[str, int]:
        """How many messages each person received, by their id on this channel."""
        counts: dict[str, int] = {}
        for message in self.sent:
            counts[message.to.id] = counts.get(message.to.id, 0) + 1
        return counts


def die_after_first_send(courier: FakeCourier) -> None:
    """`die_after` that kills the sender once the first message has gone out."""
    courier.dead = True
    raise Died("killed between the send and the ledger update")
