"""One reminder pass, exactly once (the protocol: `bot.senders.exactly_once`).

A pass sends what is due for the next meeting, records earlier points it will not send as
superseded, takes over claims left unfinished, and tells the secretariat once about messages
that could not be delivered. Rate limits and 5xx are retried by the courier's client; errors that
resending cannot fix are recorded as failed.
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.senders.courier import Address, Couriers, Result
from bot.senders.exactly_once import LedgerSender, Recipients, Recovered, Writer, outcome_of
from handlers.meetings.reminder_messages import failure_notice, when
from handlers.meetings.reminders import Delivery, ReminderPlan, plan_reminders
from handlers.replies import Reply
from models.boards import get_board
from models.claim_locks import claimant_unless_held
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
from models.tables import Board, Meeting, Member, ReminderDelivery, Role

DEFAULT_LEASE = timedelta(minutes=10)
CHUNK = 25
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock (ledger times are real times, as the channels' message times are)."""
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
    """Runs reminder passes for one Board through this deployment's couriers."""

    def __init__(
        self,
        engine: Engine,
        couriers: Couriers,
        tz: ZoneInfo,
        *,
        board_slug: str = "soc",
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
        chunk: int = CHUNK,
    ) -> None:
        self.engine, self.couriers, self.tz, self.board_slug = engine, couriers, tz, board_slug
        self.lease, self.clock, self.chunk = lease, clock, chunk
        self.ledger = LedgerSender(engine, couriers, clock=clock, lease=lease, name="reminder")

    def plan(self, now: datetime) -> ReminderPlan | None:
        """What a pass at `now` would send (nothing is recorded)."""
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            return plan_reminders(session, board, now) if board else None

    def run_pass(self, now: datetime, token: str | None = None) -> PassReport:
        """Send what is due at `now` (Board time may be simulated; the ledger uses real time);
        `token`: the claim token of a lock the caller holds (else the pass takes its own)."""
        # The pass's claims are trusted while its lock is held: if the process dies, the next
        # pass takes them over at once (`bot.senders.exactly_once`, step 4).
        with claimant_unless_held(self.engine, token) as token:
            return self._run_pass(now, token)

    def _run_pass(self, now: datetime, token: str) -> PassReport:
        report = PassReport()
        # Planning only reads: on SQLite it takes no write lock, so /soc commands don't wait.
        with Session(reader(self.engine), expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            if board is None:
                return report
            plan = plan_reminders(session, board, now)
            leftovers = open_rows(session=session, board_id=board.id)
            recipients = Recipients.load(session, board.id, self.couriers)
        self._record_superseded(board, plan, report)
        for row in leftovers:
            self._recover(board, plan, row, token, recipients, report)
        fresh = [d for d in plan.deliveries if d.key not in plan.ledger]
        self._send(board, fresh, token, recipients, report)
        self._report_failures(board, token, recipients, report)
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

    def _send(
        self,
        board: Board,
        fresh: list[Delivery],
        token: str,
        recipients: Recipients,
        report: PassReport,
    ) -> None:
        """Claim, send and record chunk by chunk: the couriers work on one chunk while the next is
        chosen and written and the last recorded (still one message at a time)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="soc-reminders") as courier:
            waiting: list[tuple[int, Address, Future]] = []
            try:
                for start in range(0, len(fresh), self.chunk):
                    chunk = fresh[start : start + self.chunk]
                    claimed = self._claim(board, chunk, token, recipients, report)
                    sending = [
                        (
                            row_id,
                            to,
                            courier.submit(self.ledger.deliver, to, self._written(d, to), d.key),
                        )
                        for row_id, d, to in claimed
                    ]
                    self._settle(waiting, token, report)
                    waiting = sending
                self._settle(waiting, token, report)
            except BaseException:
                # As if the process died here: nothing queued goes out; the claims stay open.
                courier.shutdown(wait=True, cancel_futures=True)
                raise

    def _written(self, delivery: Delivery, to: Address) -> Reply | None:
        """The delivery's message as written for the recipient's channel (its command prefix)."""
        return delivery.reply_for(self.couriers[to.channel].surface)

    def _claim(
        self,
        board: Board,
        chunk: list[Delivery],
        token: str,
        recipients: Recipients,
        report: PassReport,
    ) -> list[tuple[int, Delivery, Address]]:
        """Claim the messages of a chunk; record who had nothing to report and who cannot be
        reached (failed, for the secretariat's notice)."""
        now = self.clock()
        addresses = {d.key: recipients.address(d.send_to) for d in chunk if d.has_message}
        rows = []
        for d in chunk:
            to = addresses.get(d.key)
            if not d.has_message:
                rows.append(_row(d, board.id, NOTHING, now))
                continue
            sending = {"on_behalf_of": d.on_behalf_of, "action_count": d.action_count}
            if to is None:
                error = recipients.unreachable(d.send_to)
                rows.append(_row(d, board.id, FAILED, now, error=error, **sending))
            else:
                address = to.text()
                rows.append(
                    _row(d, board.id, CLAIMED, now, token=token, address=address, **sending)
                )
        inserted = self.ledger.claim(rows)
        claimed = []
        for d in chunk:
            if d.key not in inserted:
                report.busy += d.has_message
            elif not d.has_message:
                report.nothing += 1
            elif addresses[d.key] is None:
                report.count(FAILED, recipients.unreachable(d.send_to))
            else:
                claimed.append((inserted[d.key], d, addresses[d.key]))
        return claimed

    def _settle(
        self, waiting: list[tuple[int, Address, Future]], token: str, report: PassReport
    ) -> None:
        outcomes = []
        for row_id, to, future in waiting:
            result: Result = future.result()
            report.count(result.status, result.error)
            outcomes.append(outcome_of(row_id, to, result))
        self.ledger.finish(outcomes, token)

    def _recover(
        self,
        board: Board,
        plan: ReminderPlan,
        row: ReminderDelivery,
        token: str,
        recipients: Recipients,
        report: PassReport,
    ) -> None:
        """Take over a retry or an abandoned claim: reconcile, then resend or settle."""

        def content(row: ReminderDelivery) -> tuple[Member | None, Writer | None, str]:
            return self._resend_content(board, plan, row)

        report.count_recovered(self.ledger.recover(row, token, recipients, content))

    def _resend_content(
        self, board: Board, plan: ReminderPlan, row: ReminderDelivery
    ) -> tuple[Member | None, Writer | None, str]:
        """Who gets the message now and what it says (from the register as it is now)."""
        if row.kind == FAILURES:
            with Session(self.engine, expire_on_commit=False) as session:
                told = reported_in(session=session, report_key=row.point)
                starts = _meeting_starts(session, [r.meeting_id for r in told])
                members = {m.id: m for m in list_members(session=session, board_id=board.id)}
            names = {member_id: m.display_name for member_id, m in members.items()}
            notice = failure_notice(told, names, starts, self.tz)
            return members.get(row.recipient_member_id), lambda _surface: notice, ""
        delivery = plan.by_key().get(key_of(row))
        if delivery is None:
            point = plan.due.get(row.meeting_id)
            reason = (
                f"superseded by the reminder of {point.key}"
                if point is not None
                else "the meeting was cancelled, moved or has started before it could be sent"
            )
            return None, None, reason
        if not delivery.has_message:
            return None, None, "nothing left to report when it was retried"
        # The recipient may have changed (away, back): send to whoever should have it now.
        return delivery.send_to, delivery.reply_for, ""

    def _report_failures(
        self, board: Board, token: str, recipients: Recipients, report: PassReport
    ) -> None:
        """Tell the secretariat, once, about messages that could not be delivered."""
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
            # A reader no courier reaches is told nothing (their own failure is in the notice).
            addresses = {m.id: recipients.address(m) for m in readers}
            rows = [
                new_row(
                    LedgerKey(failures[0].meeting_id, report_key, m.id, FAILURES),
                    board_id=board.id,
                    status=CLAIMED if addresses[m.id] else FAILED,
                    now=now,
                    token=token,
                    address=addresses[m.id].text() if addresses[m.id] else "",
                    action_count=len(failures),
                    error="" if addresses[m.id] else recipients.unreachable(m),
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
        outcomes = []
        for key, row_id in ours.items():
            to = addresses[key.recipient_member_id]
            if to is None:
                continue
            if told:
                result = self.ledger.deliver(to, notice, key)
            else:
                result = Result(SUPERSEDED, error="another notice told these failures")
            outcomes.append(outcome_of(row_id, to, result))
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


def describe_delivery(delivery: Delivery, tz: ZoneInfo, where: str = "") -> str:
    """`Rob Ellis (UCOLP)` (`where`: their id on the channel it goes to), or the deputy `on
    behalf of` an away member, for dry runs."""
    person = delivery.send_to.display_name + (f" ({where})" if where else "")
    if delivery.on_behalf_of:
        person += f" on behalf of {delivery.on_behalf_of}"
    return f"{person}, {delivery.key.kind} for the meeting {when(delivery.meeting.starts_at, tz)}"
