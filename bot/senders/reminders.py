"""One reminder pass through Slack, exactly once: claim in the ledger, send, record, reconcile.

Each message is claimed (a ledger INSERT) before it is sent and marked sent afterwards. If a
worker dies in between, its claim outlives the lease; whoever takes it over first asks Slack
(`conversations.history`: the message metadata carries the ledger key) whether it went out, and
resends only if it did not (`bot.senders.exactly_once`, shared with the priorities
sender). Rate limits
and 5xx are retried by the client; errors that resending cannot fix are recorded as failed and
reported to the secretariat once.
"""

import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.senders.exactly_once import LedgerSender, Recovered, outcome_of
from bot.slack.courier import Result, SlackDelivery
from handlers.meetings.reminder_messages import failure_notice, when
from handlers.meetings.reminders import Delivery, ReminderPlan, plan_reminders
from handlers.replies import Reply
from models.boards import get_board
from models.db import reader, session_scope
from models.ledger import (
    CLAIMED,
    FAILED,
    FAILURES,
    NOTHING,
    RETRY,
    SENT,
    SUPERSEDED,
    LedgerKey,
    assign_report,
    insert_new,
    key_of,
    new_row,
    open_rows,
    reported_in,
    unreported_failures,
)
from models.people import list_members
from models.tables import Board, Meeting, ReminderDelivery, Role

DEFAULT_LEASE = timedelta(minutes=10)
CHUNK = 25
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock (ledger times are real times, as Slack's message timestamps are)."""
    return datetime.now(UTC)


@dataclass
class PassReport:
    """Counts of what one pass did."""

    sent: int = 0
    reconciled: int = 0
    failed: int = 0
    retry: int = 0
    superseded: int = 0
    nothing: int = 0
    busy: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, status: str, error: str = "") -> None:
        """Count one message's outcome."""
        if status == SENT:
            self.sent += 1
        elif status == FAILED:
            self.failed += 1
            self.errors.append(error)
        elif status == RETRY:
            self.retry += 1
        elif status == SUPERSEDED:
            self.superseded += 1

    def count_recovered(self, recovered: Recovered | None) -> None:
        """Count what became of a claim taken over (None: another worker holds it)."""
        if recovered is None:
            self.busy += 1
        elif recovered.reconciled:
            self.reconciled += 1
        else:
            self.count(recovered.result.status, recovered.result.error)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"sent {self.sent}, found already sent {self.reconciled}, failed {self.failed}, "
            f"to retry {self.retry}, superseded {self.superseded}, nothing to report "
            f"{self.nothing}, claimed by another worker {self.busy}, failure notices "
            f"{self.notices}"
        )


class ReminderSender:
    """Runs reminder passes for one Board through one Slack client."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        tz: ZoneInfo,
        *,
        board_slug: str = "soc",
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
        chunk: int = CHUNK,
    ) -> None:
        self.engine, self.slack, self.tz, self.board_slug = (
            engine,
            SlackDelivery(client, tz),
            tz,
            board_slug,
        )
        self.lease, self.clock, self.chunk = lease, clock, chunk
        self.ledger = LedgerSender(engine, self.slack, clock=clock, lease=lease)

    @property
    def client(self) -> WebClient:
        """The Slack Web API client."""
        return self.slack.client

    def plan(self, now: datetime) -> ReminderPlan | None:
        """What a pass at `now` would send (nothing is recorded)."""
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            return plan_reminders(session, board, now, self.tz) if board else None

    def run_pass(self, now: datetime) -> PassReport:
        """Send what is due at `now` (Board time may be simulated; the ledger uses real time)."""
        report = PassReport()
        token = uuid.uuid4().hex
        # Planning only reads: on SQLite it takes no write lock, so /soc commands don't wait.
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            if board is None:
                return report
            plan = plan_reminders(session, board, now, self.tz)
            leftovers = open_rows(session=session, board_id=board.id)
        self._record_superseded(board, plan, report)
        for row in leftovers:
            self._recover(board, plan, row, token, report)
        self._send(board, [d for d in plan.deliveries if d.key not in plan.ledger], token, report)
        self._report_failures(board, token, report)
        return report

    def _record_superseded(self, board: Board, plan: ReminderPlan, report: PassReport) -> None:
        """Ledger rows for earlier points a late pass will not send (not silently skipped)."""
        now = self.clock()
        reason = "superseded by the reminder of {}"
        rows = [
            _row(d, board.id, SUPERSEDED, now, error=reason.format(plan.due[d.meeting.id].key))
            for d in plan.superseded
        ]
        if rows:
            with session_scope(self.engine) as session:
                report.superseded += len(insert_new(session=session, rows=rows))

    def _send(self, board: Board, fresh: list[Delivery], token: str, report: PassReport) -> None:
        """Claim, send and record chunk by chunk: Slack works on one chunk while the next is
        chosen and written and the last recorded (still one message at a time to Slack)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="soc-reminders") as slack:
            waiting: list[tuple[int, Delivery, Future]] = []
            try:
                for start in range(0, len(fresh), self.chunk):
                    claimed = self._claim(board, fresh[start : start + self.chunk], token, report)
                    sending = [
                        (row_id, d, slack.submit(self.slack.post, self._message(d)))
                        for row_id, d in claimed
                    ]
                    self._settle(waiting, token, report)
                    waiting = sending
                self._settle(waiting, token, report)
            except BaseException:
                # As if the process died here: nothing queued goes out; the claims stay open.
                slack.shutdown(wait=True, cancel_futures=True)
                raise

    def _claim(
        self, board: Board, chunk: list[Delivery], token: str, report: PassReport
    ) -> list[tuple[int, Delivery]]:
        """Claim the messages of a chunk, and record who had nothing to report."""
        now = self.clock()
        rows = [
            _row(d, board.id, CLAIMED, now, token=token, sent_to_user_id=d.send_to.slack_user_id,
                 on_behalf_of=d.on_behalf_of, action_count=d.action_count)
            if d.has_message else _row(d, board.id, NOTHING, now)
            for d in chunk
        ]  # fmt: skip
        inserted = self.ledger.claim(rows)
        claimed = [(inserted[d.key], d) for d in chunk if d.has_message and d.key in inserted]
        report.nothing += sum(1 for d in chunk if not d.has_message and d.key in inserted)
        report.busy += sum(1 for d in chunk if d.has_message and d.key not in inserted)
        return claimed

    def _message(self, delivery: Delivery) -> dict:
        return self.slack.message(
            delivery.send_to.slack_user_id, delivery.reply, delivery.key.text()
        )

    def _settle(
        self, waiting: list[tuple[int, Delivery, Future]], token: str, report: PassReport
    ) -> None:
        outcomes = []
        for row_id, delivery, future in waiting:
            result: Result = future.result()
            report.count(result.status, result.error)
            outcomes.append(outcome_of(row_id, delivery.send_to.slack_user_id, result))
        self.ledger.finish(outcomes, token)

    def _recover(
        self,
        board: Board,
        plan: ReminderPlan,
        row: ReminderDelivery,
        token: str,
        report: PassReport,
    ) -> None:
        """Take over a retry or an abandoned claim: reconcile with Slack, then resend or settle."""

        def content(row: ReminderDelivery, key: str) -> tuple[str, dict | None, str]:
            user_id, reply, reason = self._resend_content(board, plan, row)
            return user_id, self.slack.message(user_id, reply, key) if reply else None, reason

        report.count_recovered(self.ledger.recover(row, token, content))

    def _resend_content(
        self, board: Board, plan: ReminderPlan, row: ReminderDelivery
    ) -> tuple[str, Reply | None, str]:
        """Who gets the message now and what it says (from the register as it is now)."""
        if row.kind == FAILURES:
            with Session(self.engine) as session:
                told = reported_in(session=session, report_key=row.point)
                starts = _meeting_starts(session, [r.meeting_id for r in told])
                names = {
                    m.id: m.display_name for m in list_members(session=session, board_id=board.id)
                }
            return row.sent_to_user_id, failure_notice(told, names, starts, self.tz), ""
        delivery = plan.by_key().get(key_of(row))
        if delivery is None:
            point = plan.due.get(row.meeting_id)
            reason = (
                f"superseded by the reminder of {point.key}"
                if point is not None
                else "the meeting was cancelled, moved or has started before it could be sent"
            )
            return row.sent_to_user_id, None, reason
        if not delivery.has_message:
            return row.sent_to_user_id, None, "nothing left to report when it was retried"
        # The recipient may have changed (away, back): send to whoever should have it now.
        return delivery.send_to.slack_user_id, delivery.reply, ""

    def _report_failures(self, board: Board, token: str, report: PassReport) -> None:
        """Tell the secretariat, once, about deliveries Slack refused."""
        now = self.clock()
        with session_scope(self.engine) as session:
            failures = unreported_failures(session=session, board_id=board.id)
            if not failures:
                return
            members = list_members(session=session, board_id=board.id)
            readers = [m for m in members if m.role == Role.SECRETARIAT] or [
                m for m in members if m.role in (Role.CHAIR, Role.DEPUTY_CHAIR)
            ]
            # Keyed by the first failure: two workers seeing the same failures make one notice.
            report_key = f"failures:{failures[0].id}"
            rows = [
                new_row(
                    LedgerKey(failures[0].meeting_id, report_key, m.id, FAILURES),
                    board_id=board.id,
                    status=CLAIMED,
                    now=now,
                    token=token,
                    sent_to_user_id=m.slack_user_id,
                    action_count=len(failures),
                )
                for m in readers
            ]
            ours = insert_new(session=session, rows=rows)
            if not ours:
                return
            assign_report(session=session, row_ids=[f.id for f in failures], report_key=report_key)
            told = reported_in(session=session, report_key=report_key)
            starts = _meeting_starts(session, [r.meeting_id for r in told])
            names = {m.id: m.display_name for m in members}
        notice = failure_notice(told, names, starts, self.tz)
        users = {m.id: m.slack_user_id for m in readers}
        outcomes = []
        for key, row_id in ours.items():
            user_id = users[key.recipient_member_id]
            if told:
                result = self.slack.post(self.slack.message(user_id, notice, key.text()))
            else:
                result = Result(SUPERSEDED, error="another notice told these failures")
            outcomes.append(outcome_of(row_id, user_id, result))
            if result.status == SENT:
                report.notices += 1
            else:
                report.count(result.status, result.error)
        self.ledger.finish(outcomes, token)


def _row(delivery: Delivery, board_id: int, status: str, now: datetime, **extra) -> dict:
    return new_row(
        delivery.key,
        board_id=board_id,
        status=status,
        now=now,
        days_before=delivery.point.days_before,
        due_at=delivery.point.at,
        **extra,
    )


def _meeting_starts(session: Session, meeting_ids: list[int]) -> dict[int, datetime]:
    return {
        meeting_id: meeting.starts_at
        for meeting_id in set(meeting_ids)
        if (meeting := session.get(Meeting, meeting_id)) is not None
    }


def describe_delivery(delivery: Delivery, tz: ZoneInfo) -> str:
    """`Rob Ellis (UCOLP)`, or the deputy `on behalf of` an away member, for dry runs."""
    person = f"{delivery.send_to.display_name} ({delivery.send_to.slack_user_id})"
    if delivery.on_behalf_of:
        person += f" on behalf of {delivery.on_behalf_of}"
    return f"{person}, {delivery.key.kind} for the meeting {when(delivery.meeting.starts_at, tz)}"
