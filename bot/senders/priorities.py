"""The priorities exercise's direct messages, exactly once: invitations, then one reminder.

Each partner's contact gets one invitation with an Answer operation when an exercise opens (or
when a partner first gets a member), and partners that have not answered get one reminder the
working day before it closes. Sending keeps the protocol of `bot.senders.exactly_once` in its own
ledger table (`PriorityDelivery`) and under its own ledger name in the message key.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.plain_text import render_text
from bot.senders.courier import Couriers
from bot.senders.exactly_once import LedgerSender, Recipients, Writer
from bot.senders.reminders import DEFAULT_LEASE, Clock, PassReport, ReminderSender, utc_now
from handlers.priorities.invitations import Invitation, plan_invitations, redo_invitation
from models.boards import get_board
from models.db import reader
from models.ledger import CLAIMED, FAILED, LedgerRow, new_row, open_rows
from models.tables import Board, Member, PriorityDelivery

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

    def run_pass(self, now: datetime) -> PassReport:
        """Send what is due at `now`: invitations, reminders, and claims left unfinished."""
        report = PassReport()
        token = uuid.uuid4().hex
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            if board is None:
                return report
            planned = plan_invitations(session, board, now)
            leftovers = open_rows(session=session, board_id=board.id, model=PriorityDelivery)
            recipients = Recipients.load(session, board.id, self.couriers)
        for row in leftovers:
            self._recover(board, row, now, token, recipients, report)
        self._send(board, planned, token, recipients, report)
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
