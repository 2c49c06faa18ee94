"""The priorities exercise's direct messages, exactly once: invitations, then one reminder.

Each partner's contact gets one invitation with an Answer operation when an exercise opens (or
when a partner first gets a member), and partners that have not answered get one reminder the
working day before it closes. Sending keeps the protocol of `bot.senders.exactly_once` in its own
ledger table (`PriorityDelivery`) and under its own ledger name in the message key.

When the exercise is extended or closed early, each invitation already sent is updated in place
(`courier.update`) to show the new closing day, or that it closed (without the Answer control).
Its ledger row's `due_at` says which closing moment the message shows: a sender takes the row
to update by a compare-and-set on its claim token and `due_at`, with the same lock and lease as
a claim (so two workers never both update it, and a dead one's is taken over), and records the
new moment once the channel took the update. An update the channel asks to retry (rate limit,
outage) is tried again on the next pass; one it refuses for good (the message was deleted) is
logged and not tried again.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.plain_text import render_text
from bot.senders.courier import Address, Couriers
from bot.senders.exactly_once import LedgerSender, Recipients, Writer
from bot.senders.reminders import DEFAULT_LEASE, Clock, PassReport, ReminderSender, utc_now
from handlers.priorities.invitations import (
    Invitation,
    Revision,
    outdated_invitations,
    plan_invitations,
    redo_invitation,
)
from models.boards import get_board
from models.claim_locks import claimant_unless_held, is_alive
from models.db import reader, session_scope
from models.ledger import (
    CLAIMED,
    FAILED,
    RETRY,
    SENT,
    LedgerRow,
    claim_revision,
    new_row,
    open_rows,
    record_revision,
)
from models.tables import Board, Member, PriorityDelivery

log = logging.getLogger(__name__)

LEDGER_NAME = "priorities"


class PrioritySender:
    """Runs priorities passes for one Board through this deployment's couriers."""

    def __init__(
        self,
        engine: Engine,
        couriers: Couriers,
        *,
        board_slug: str = "soc",
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
    ) -> None:
        self.engine, self.couriers, self.board_slug, self.clock = (
            engine,
            couriers,
            board_slug,
            clock,
        )
        self.ledger = LedgerSender(
            engine, couriers, clock=clock, lease=lease, model=PriorityDelivery, name=LEDGER_NAME
        )

    @classmethod
    def beside(cls, reminders: ReminderSender) -> "PrioritySender":
        """A sender sharing a reminder sender's database, couriers, lease and clock."""
        return cls(
            reminders.engine,
            reminders.couriers,
            board_slug=reminders.board_slug,
            lease=reminders.lease,
            clock=reminders.clock,
        )

    def run_pass(self, now: datetime, token: str | None = None) -> PassReport:
        """Send what is due at `now`: invitations, reminders, and claims left unfinished;
        `token`: the claim token of a lock the caller holds (else the pass takes its own)."""
        with claimant_unless_held(self.engine, token) as token:
            return self._run_pass(now, token)

    def _run_pass(self, now: datetime, token: str) -> PassReport:
        report = PassReport()
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            if board is None:
                return report
            planned = plan_invitations(session, board, now)
            leftovers = open_rows(session=session, board_id=board.id, model=PriorityDelivery)
            recipients = Recipients.load(session, board.id, self.couriers)
            revisions = outdated_invitations(session, board, now)
        for row in leftovers:
            self._recover(board, row, now, token, recipients, report)
        self._send(board, planned, token, recipients, report)
        updated = self._revise(revisions, token)
        if updated:
            log.info("priorities: %d invitations updated to the exercise's new closing", updated)
        return report

    def _send(
        self,
        board: Board,
        planned: list[Invitation],
        token: str,
        recipients: Recipients,
        report: PassReport,
    ) -> None:
        if not planned:
            return
        now = self.clock()
        addresses = {i.key: recipients.address(i.send_to) for i in planned}
        rows = [
            new_row(
                i.key,
                board_id=board.id,
                status=CLAIMED if addresses[i.key] else FAILED,
                now=now,
                token=token,
                due_at=i.exercise.closes_at,
                address=addresses[i.key].text() if addresses[i.key] else "",
                on_behalf_of=i.on_behalf_of,
                action_count=i.area_count,
                error="" if addresses[i.key] else recipients.unreachable(i.send_to),
                model=PriorityDelivery,
                extra={"partner_id": i.partner.id},
            )
            for i in planned
        ]
        ours = self.ledger.claim(rows)
        for invitation in planned:
            row_id, to = ours.get(invitation.key), addresses[invitation.key]
            if row_id is None:
                report.busy += 1
            elif to is None:
                report.count(FAILED, recipients.unreachable(invitation.send_to))
            else:
                reply = invitation.reply_for(self.couriers[to.channel].surface)
                result = self.ledger.send(row_id, to, reply, invitation.key, token)
                report.count(result.status, result.error)

    def _revise(self, revisions: list[Revision], token: str) -> int:
        """Update invitations sent with another closing moment; returns how many were updated."""
        alive: dict[str, bool] = {token: True}
        updated = 0
        for revision in revisions:
            row = revision.row
            to = Address.parse(row.address)
            courier = self.couriers.get(to.channel) if to is not None else None
            if courier is None:
                continue  # not reachable from this deployment: left as it was sent
            if row.claim_token not in alive:
                alive[row.claim_token] = is_alive(self.engine, row.claim_token)
            now = self.clock()
            with session_scope(self.engine) as session:
                mine = claim_revision(
                    session=session,
                    row_id=row.id,
                    old_token=row.claim_token,
                    shows=row.due_at,
                    new_token=token,
                    now=now,
                    stale_before=now - self.ledger.lease,
                    claimant_gone=row.claim_token == token or not alive[row.claim_token],
                    model=PriorityDelivery,
                )
            if not mine:
                continue  # another worker is updating it, or has
            result = courier.update(row.message_ref, revision.reply_for(courier.surface))
            if result.status == RETRY:
                # Still ours until this pass's lock goes: the next pass takes it over.
                log.warning("priorities invitation %s not updated yet: %s", row.id, result.error)
                continue
            error = ""
            if result.status != SENT:
                error = f"not updated to the exercise's new closing: {result.error}"
                log.warning("priorities invitation %s cannot be updated: %s", row.id, result.error)
            with session_scope(self.engine) as session:
                record_revision(
                    session=session,
                    row_id=row.id,
                    token=token,
                    due_at=revision.closes_at,
                    error=error,
                    model=PriorityDelivery,
                )
            updated += result.status == SENT
        return updated

    def _recover(
        self,
        board: Board,
        row: PriorityDelivery,
        now: datetime,
        token: str,
        recipients: Recipients,
        report: PassReport,
    ) -> None:
        def content(row: LedgerRow) -> tuple[Member | None, Writer | None, str]:
            with Session(reader(self.engine), expire_on_commit=False) as session:
                redo = redo_invitation(session, board, row, now)
                if isinstance(redo, str):
                    return None, None, redo
                # The recipient may be away now: their deputy gets it. Written for every
                # channel before the session closes (the reply reads the register).
                written = {c.surface: redo.reply_for(c.surface) for c in self.couriers.values()}
                return redo.send_to, written.get, ""

        report.count_recovered(self.ledger.recover(row, token, recipients, content))


def preview_pass(engine: Engine, board_slug: str, now: datetime, tz: ZoneInfo) -> str:
    """Who a priorities pass at `now` would message and what they would read; nothing is sent."""
    with Session(reader(engine), expire_on_commit=False) as session:
        board = get_board(session=session, slug=board_slug)
        planned = plan_invitations(session, board, now) if board is not None else []
        lines = []
        for message in planned:
            who = message.send_to.display_name
            if message.on_behalf_of:
                who += f" on behalf of {message.on_behalf_of}"
            lines.append(
                f"\n──── To {who}, priorities {message.key.kind} for {message.partner.name}"
            )
            lines.append(render_text(message.reply, tz))
    if not lines:
        return "Priorities exercise: no direct message is due."
    return f"Priorities exercise: {len(planned)} direct messages due." + "\n".join(lines)
