"""The priorities exercise's direct messages, exactly once: invitations, then one reminder.

Each partner's contact gets one invitation with an Answer button when an exercise opens (or when
a partner first gets a member), and partners that have not answered get one reminder the
working day before it closes. Sending goes through the same ledger protocol as the pre-meeting
reminders (`bot.senders.exactly_once`), in its own table and with its own metadata event type, so a
worker restart or a second worker never sends a message twice.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.senders.exactly_once import LedgerSender
from bot.senders.reminders import DEFAULT_LEASE, Clock, PassReport, ReminderSender, utc_now
from bot.slack.courier import SlackDelivery
from bot.slack.render.priorities import with_answer_button
from handlers.priorities.commands import Invitation, plan_invitations, redo_invitation
from models.boards import get_board
from models.db import reader
from models.ledger import CLAIMED, LedgerRow, new_row, open_rows
from models.tables import Board, PriorityDelivery

EVENT_TYPE = "soc_priorities"


class PrioritySender:
    """Runs priorities passes for one Board through one Slack client."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        tz: ZoneInfo,
        *,
        board_slug: str = "soc",
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
    ) -> None:
        self.engine, self.board_slug, self.clock = engine, board_slug, clock
        self.slack = SlackDelivery(client, tz, event_type=EVENT_TYPE)
        self.ledger = LedgerSender(
            engine, self.slack, clock=clock, lease=lease, model=PriorityDelivery
        )

    @classmethod
    def beside(cls, reminders: ReminderSender) -> "PrioritySender":
        """A sender sharing a reminder sender's database, Slack client, lease and clock."""
        return cls(
            reminders.engine,
            reminders.client,
            reminders.tz,
            board_slug=reminders.board_slug,
            lease=reminders.lease,
            clock=reminders.clock,
        )

    @property
    def client(self) -> WebClient:
        """The Slack Web API client."""
        return self.slack.client

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
        for row in leftovers:
            self._recover(board, row, now, token, report)
        self._send(board, planned, token, report)
        return report

    def _send(
        self, board: Board, planned: list[Invitation], token: str, report: PassReport
    ) -> None:
        if not planned:
            return
        now = self.clock()
        rows = [
            new_row(
                i.key,
                board_id=board.id,
                status=CLAIMED,
                now=now,
                token=token,
                due_at=i.exercise.closes_at,
                sent_to_user_id=i.send_to.slack_user_id,
                on_behalf_of=i.on_behalf_of,
                action_count=i.area_count,
                model=PriorityDelivery,
                extra={"partner_id": i.partner.id},
            )
            for i in planned
        ]
        ours = self.ledger.claim(rows)
        for invitation in planned:
            row_id = ours.get(invitation.key)
            if row_id is None:
                report.busy += 1
                continue
            user_id = invitation.send_to.slack_user_id
            message = self._message(invitation, invitation.key.text())
            result = self.ledger.send(row_id, user_id, message, token)
            report.count(result.status, result.error)

    def _message(self, invitation: Invitation, key: str) -> dict:
        message = self.slack.message(invitation.send_to.slack_user_id, invitation.reply, key)
        return with_answer_button(message, invitation.exercise.id, invitation.partner.id)

    def _recover(
        self, board: Board, row: PriorityDelivery, now: datetime, token: str, report: PassReport
    ) -> None:
        def content(row: LedgerRow, key: str) -> tuple[str, dict | None, str]:
            with Session(reader(self.engine), expire_on_commit=False) as session:
                redo = redo_invitation(session, board, row, now)
            if isinstance(redo, str):
                return row.sent_to_user_id, None, redo
            # The recipient may be away now: their deputy gets it.
            return redo.send_to.slack_user_id, self._message(redo, key), ""

        report.count_recovered(self.ledger.recover(row, token, content))
