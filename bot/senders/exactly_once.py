"""Direct messages exactly once: claim a ledger row, send through a courier, record the outcome.

The protocol, shared by the reminder and the priorities senders (the one place it is described):

1. Claim. Each message has a unique ledger key (scope, point, recipient, kind). A sender INSERTs
   its row as "claimed" with a random claim token before sending; whoever inserts it owns it,
   anyone else skips it (`models.ledger.insert_new`).
2. Send. The owner sends the message through the courier of the recipient's channel, marked with
   the message key: the ledger key plus the ledger's name and this database's deployment id
   (`models.ledger.message_key`), so a staging copy and production sharing a workspace never take
   each other's messages for their own.
3. Record. The outcome (sent with the channel's message reference, failed for good, or retry) is
   written under the claim token; a claim someone else took over meanwhile is left alone.
4. Reconcile. A pass holds a lock named by its claim token while it owns claims
   (`models.claim_locks.claimant`): the database server or the kernel drops it when the process
   ends, however it ends. So a claim left by a worker that died between 1 and 3 is abandoned as
   soon as its lock is free, and the next pass takes it over; a claim whose claimant still holds
   its lock is left alone until its lease (SOC_REMINDER_LEASE_SECONDS) runs out, the fallback for
   a host that vanished without its connection closing (and for a claim no lock backs). A retry
   row waits for the next pass. Whoever takes a claim over first (a compare-and-set on the claim
   token, `models.ledger.take_over`) asks the courier whether the message went out (`find_sent`:
   Slack looks for the key in the DM's message metadata) and records it as sent if so; otherwise
   it sends it again, to whoever should have it now, or settles it as superseded.
   A courier that cannot find sent messages (`can_find_sent` is False) cannot tell "sent" from
   "not sent": the message is sent again with the line `RESENT_LINE` above it, so a person who
   got it twice knows why. That is the only case in which a message may arrive twice.

A recipient's channel is chosen per member (`Recipients`): their preferred channel if a courier
serves it, else another of their identities that one does. A member with none is recorded as
failed, and the reminder sender reports failures to the secretariat once.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.senders.courier import RATE_LIMITED, Address, Couriers, Result
from handlers.context import Surface
from handlers.replies import Reply
from models.claim_locks import is_alive
from models.db import session_scope
from models.ledger import (
    CLAIMED,
    FAILED,
    RETRY,
    SENT,
    SUPERSEDED,
    Ledger,
    LedgerKey,
    LedgerRow,
    Outcome,
    deployment_id,
    finish,
    insert_new,
    key_of,
    message_key,
    take_over,
)
from models.people import identities_by_member, reachable_identity
from models.tables import Identity, Member, ReminderDelivery

log = logging.getLogger(__name__)

RESENT_LINE = "Sent again after an interruption: you may have this message twice."
Clock = Callable[[], datetime]
# The message as written for a recipient's surface (None: nothing to send any more).
Writer = Callable[[Surface], Reply | None]
# For a claim taken over and not found sent: who gets it now, the message's writer (None: it
# should not go out any more) and, if not, why.
ResendContent = Callable[[LedgerRow], tuple[Member | None, Writer | None, str]]


@dataclass(frozen=True)
class Recovered:
    """What became of a claim taken over: the courier's result, and whether it had been sent."""

    result: Result
    reconciled: bool


class Recipients:
    """Where each member of a Board is reached, given the couriers this deployment has."""

    def __init__(self, identities: dict[int, list[Identity]], couriers: Couriers) -> None:
        self.identities, self.couriers = identities, couriers

    @classmethod
    def load(cls, session: Session, board_id: int, couriers: Couriers) -> "Recipients":
        """Every identity of the Board's members, read once for a pass."""
        return cls(identities_by_member(session=session, board_id=board_id), couriers)

    def address(self, member: Member) -> Address | None:
        """The address a direct message to `member` goes to; None if no courier reaches them."""
        found = reachable_identity(member, self.identities.get(member.id, []), self.couriers)
        if found is None:
            return None
        return Address(found.channel, found.external_id, found.tenant, found.conversation)

    def unreachable(self, member: Member) -> str:
        """Why `member` cannot be reached, for the ledger and the secretariat's notice."""
        known = sorted({i.channel for i in self.identities.get(member.id, [])})
        have = ", ".join(sorted(self.couriers)) or "none"
        if not known:
            return f"{member.display_name} has no chat identity (channels here: {have})"
        return f"{member.display_name} is only on {', '.join(known)} (channels here: {have})"


def outcome_of(row_id: int, to: Address | None, result: Result) -> Outcome:
    """A ledger outcome from the courier's result for one message."""
    return Outcome(row_id, result.status, result.ref, result.error, to.text() if to else "")


class LedgerSender:
    """The exactly-once protocol over one ledger table and this deployment's couriers."""

    def __init__(
        self,
        engine: Engine,
        couriers: Couriers,
        *,
        clock: Clock,
        lease: timedelta,
        model: Ledger = ReminderDelivery,
        name: str = "reminder",
    ) -> None:
        self.engine, self.couriers, self.clock, self.lease = engine, couriers, clock, lease
        self.model, self.name = model, name
        self._deployment: str | None = None

    @property
    def deployment(self) -> str:
        """This database's deployment id (read once)."""
        if self._deployment is None:
            with session_scope(self.engine) as session:
                self._deployment = deployment_id(session=session)
        return self._deployment

    def key(self, key: LedgerKey) -> str:
        """The key that marks this message on its channel."""
        return message_key(self.deployment, self.name, key)

    def claim(self, rows: list[dict[str, object]]) -> dict[LedgerKey, int]:
        """Insert ledger rows in one transaction; the ids of those that were free (ours), by key."""
        with session_scope(self.engine) as session:
            return insert_new(session=session, rows=rows, model=self.model)

    def finish(self, outcomes: Iterable[Outcome], token: str) -> None:
        """Record outcomes of our claims in one transaction."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        with session_scope(self.engine) as session:
            recorded = finish(
                session=session,
                token=token,
                now=self.clock(),
                outcomes=outcomes,
                model=self.model,
            )
            if recorded < len(outcomes) and session.get_bind().dialect.supports_sane_multi_rowcount:
                # Another worker took some claims over mid-send: our lease ran out, or our
                # lock went with a lost database connection.
                log.warning(
                    "%d claims were taken over before they were recorded", len(outcomes) - recorded
                )

    def deliver(self, to: Address, reply: Reply, key: LedgerKey) -> Result:
        """Send one claimed message through its channel's courier (nothing is recorded)."""
        courier = self.couriers.get(to.channel)
        if courier is None:
            return Result(FAILED, error=f"no courier for {to.channel} here")
        return courier.send(to, reply, self.key(key))

    def send(self, row_id: int, to: Address, reply: Reply, key: LedgerKey, token: str) -> Result:
        """Send one claimed message and record what the courier said."""
        result = self.deliver(to, reply, key)
        self.finish([outcome_of(row_id, to, result)], token)
        return result

    def recover(
        self, row: LedgerRow, token: str, recipients: Recipients, content: ResendContent
    ) -> Recovered | None:
        """Take over a retry or an abandoned claim: reconcile with the courier, then resend or
        settle. None if a live worker holds the claim (within its lease) or another took it
        first."""
        now = self.clock()
        gone = row.status == CLAIMED and not is_alive(self.engine, row.claim_token)
        with session_scope(self.engine) as session:
            mine = take_over(
                session=session,
                row_id=row.id,
                old_token=row.claim_token,
                new_token=token,
                now=now,
                stale_before=now - self.lease,
                claimant_gone=gone,
                model=self.model,
            )
        if not mine:
            return None
        key = key_of(row)
        sent_to = Address.parse(row.address)
        courier = self.couriers.get(sent_to.channel) if sent_to else None
        # A message the channel refused for its rate limit (or that was never tried while the
        # workspace or tenant was paused) certainly did not go out.
        refused = row.status == RETRY and row.error.startswith(RATE_LIMITED)
        unsure = (
            sent_to is not None and not refused and (courier is None or not courier.can_find_sent)
        )
        if sent_to is not None and courier is not None and courier.can_find_sent:
            found = courier.find_sent(sent_to, self.key(key), row.created_at)
            if found is not None:
                self.finish([outcome_of(row.id, sent_to, found)], token)
                return Recovered(found, reconciled=found.status == SENT)
        member, write, reason = content(row)
        to = recipients.address(member) if member is not None else None
        reply = None if write is None or to is None else write(self.couriers[to.channel].surface)
        if write is None:
            result = Result(SUPERSEDED, error=reason)
        elif to is None:
            result = Result(FAILED, error=recipients.unreachable(member) if member else reason)
        elif reply is None:
            result = Result(SUPERSEDED, error="nothing left to report when it was retried")
        else:
            if unsure:
                reply = replace(reply, notice=f"{RESENT_LINE} {reply.notice}".strip())
            result = self.deliver(to, reply, key)
        self.finish([outcome_of(row.id, to or sent_to, result)], token)
        return Recovered(result, reconciled=False)
