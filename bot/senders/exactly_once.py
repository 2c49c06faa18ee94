"""Direct messages exactly once: claim a ledger row, send through Slack, record what happened.

Shared by the reminder and the priorities senders. Each message is claimed (an INSERT under its
unique key) before it is sent, and marked sent afterwards. A claim left by a worker that died in
between outlives its lease; whoever takes it over first asks Slack (`conversations.history`: the
message metadata carries the ledger key) whether it went out, and sends it only if it did not.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.slack.courier import Result, SlackDelivery
from models.db import session_scope
from models.ledger import (
    SENT,
    SUPERSEDED,
    Ledger,
    LedgerKey,
    LedgerRow,
    Outcome,
    finish,
    insert_new,
    key_of,
    take_over,
)
from models.tables import ReminderDelivery

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# For a claim taken over and not found in Slack: who gets it now, the message (None: it should
# not go out any more) and, if not, why.
ResendContent = Callable[[LedgerRow, str], tuple[str, dict | None, str]]


@dataclass(frozen=True)
class Recovered:
    """What became of a claim taken over: Slack's result, and whether it had been sent already."""

    result: Result
    reconciled: bool


def outcome_of(row_id: int, user_id: str, result: Result) -> Outcome:
    """A ledger outcome from Slack's result for one message."""
    return Outcome(row_id, result.status, result.channel, result.ts, result.error, user_id)


class LedgerSender:
    """The exactly-once protocol over one ledger table and one Slack client."""

    def __init__(
        self,
        engine: Engine,
        slack: SlackDelivery,
        *,
        clock: Clock,
        lease: timedelta,
        model: Ledger = ReminderDelivery,
    ) -> None:
        self.engine, self.slack, self.clock, self.lease, self.model = (
            engine,
            slack,
            clock,
            lease,
            model,
        )

    def claim(self, rows: list[dict[str, object]]) -> dict[LedgerKey, int]:
        """Insert ledger rows in one transaction; the ids of those that were free (ours), by key."""
        with session_scope(self.engine) as session:
            return insert_new(session=session, rows=rows, model=self.model)

    def finish(self, outcomes: list[Outcome], token: str) -> None:
        """Record outcomes of our claims in one transaction."""
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
                # The lease ran out mid-send and another worker took some claims over.
                log.warning(
                    "%d claims were taken over before they were recorded", len(outcomes) - recorded
                )

    def send(self, row_id: int, user_id: str, message: dict, token: str) -> Result:
        """Send one claimed message and record what Slack said."""
        result = self.slack.post(message)
        self.finish([outcome_of(row_id, user_id, result)], token)
        return result

    def recover(self, row: LedgerRow, token: str, content: ResendContent) -> Recovered | None:
        """Take over a retry or an abandoned claim: reconcile with Slack, then resend or settle.

        None if another worker holds the claim (within its lease) or took it first.
        """
        now = self.clock()
        with session_scope(self.engine) as session:
            mine = take_over(
                session=session,
                row_id=row.id,
                old_token=row.claim_token,
                new_token=token,
                now=now,
                stale_before=now - self.lease,
                model=self.model,
            )
        if not mine:
            return None
        key = key_of(row).text()
        found = self.slack.find_sent(row.sent_to_user_id, key, row.created_at)
        if found is not None:
            self.finish([outcome_of(row.id, row.sent_to_user_id, found)], token)
            return Recovered(found, reconciled=found.status == SENT)
        user_id, message, reason = content(row, key)
        result = Result(SUPERSEDED, error=reason) if message is None else self.slack.post(message)
        self.finish([outcome_of(row.id, user_id, result)], token)
        return Recovered(result, reconciled=False)
