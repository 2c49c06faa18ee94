"""One reminder pass through Slack, exactly once: claim in the ledger, send, record, reconcile.

Each message is claimed (a ledger INSERT) before it is sent and marked sent afterwards. If a
worker dies in between, its claim outlives the lease; whoever takes it over first asks Slack
(`conversations.history`, the message metadata carries the ledger key) whether it went out, and
resends only if it did not. Slack's rate limits and 5xx are retried by the client; errors that
resending cannot fix are recorded as failed and reported to the secretariat once.
"""

import http.client
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.error import URLError
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryIntervalCalculator,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render.blocks import fallback_text, render_blocks
from handlers.reminder_messages import failure_notice, when
from handlers.reminders import Delivery, ReminderPlan, plan_reminders
from handlers.replies import Reply
from models.boards import get_board
from models.db import session_scope
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
    finish,
    insert_new,
    key_of,
    new_row,
    open_rows,
    reported_in,
    take_over,
    unreported_failures,
)
from models.people import list_members
from models.tables import Board, Meeting, ReminderDelivery, Role

log = logging.getLogger(__name__)

EVENT_TYPE = "soc_reminder"
DEFAULT_LEASE = timedelta(minutes=10)
CHUNK = 25
# Errors worth another try on the next tick; every other error (user_not_found, account_inactive,
# channel_not_found, cannot_dm_bot, not_allowed_token_type, invalid_blocks...) would only repeat.
RETRYABLE_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
    }
)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock (ledger times are real times: Slack's message timestamps are)."""
    return datetime.now(UTC)


def reminder_client(
    settings: Settings, *, retry_interval: RetryIntervalCalculator | None = None
) -> WebClient:
    """A Web API client that waits out 429s (Retry-After) and retries 5xx and dropped links."""
    interval = retry_interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
            ConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=interval),
        ],
    )


@dataclass
class Outcome:
    """What happened to one message."""

    status: str
    channel: str = ""
    ts: str = ""
    error: str = ""


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

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"sent {self.sent}, found already sent {self.reconciled}, failed {self.failed}, "
            f"to retry {self.retry}, superseded {self.superseded}, nothing to report "
            f"{self.nothing}, claimed by another worker {self.busy}, failure notices "
            f"{self.notices}"
        )


def outcome_of(error: Exception) -> Outcome:
    """Sort a Slack or network error into failed (resending won't help) or retry."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        data = error.response.data if isinstance(error.response.data, dict) else {}
        code = data.get("error") or f"HTTP {status}"
        if status in (408, 429) or status >= 500 or code in RETRYABLE_ERRORS:
            return Outcome(RETRY, error=code)
        return Outcome(FAILED, error=code)
    if isinstance(error, URLError | TimeoutError | ConnectionError | http.client.HTTPException):
        return Outcome(RETRY, error=f"{type(error).__name__}: {error}"[:200])
    raise error


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
        self.engine, self.client, self.tz, self.board_slug = engine, client, tz, board_slug
        self.lease, self.clock, self.chunk = lease, clock, chunk

    def plan(self, now: datetime) -> ReminderPlan | None:
        """What a pass at `now` would send (nothing is recorded)."""
        with Session(self.engine, expire_on_commit=False) as session:
            board = get_board(session=session, slug=self.board_slug)
            return plan_reminders(session, board, now, self.tz) if board else None

    def run_pass(self, now: datetime) -> PassReport:
        """Send what is due at `now` (Board time may be simulated; the ledger uses real time)."""
        report = PassReport()
        token = uuid.uuid4().hex
        with session_scope(self.engine) as session:
            board = get_board(session=session, slug=self.board_slug)
            if board is None:
                return report
            plan = plan_reminders(session, board, now, self.tz)
            leftovers = open_rows(session=session, board_id=board.id)
        self._record_quiet(board, plan, report)
        for row in leftovers:
            self._recover(board, plan, row, token, report)
        fresh = [d for d in plan.deliveries if d.reply is not None and d.key not in plan.ledger]
        for start in range(0, len(fresh), self.chunk):
            self._send_chunk(board, fresh[start : start + self.chunk], token, report)
        self._report_failures(board, token, report)
        return report

    def _record_quiet(self, board: Board, plan: ReminderPlan, report: PassReport) -> None:
        """Ledger rows for points nobody is messaged about: superseded, or nothing to report."""
        now = self.clock()
        reason = "superseded by the reminder of {}"
        rows = [
            _row(d, board.id, SUPERSEDED, now, error=reason.format(plan.due[d.meeting.id].key))
            for d in plan.superseded
        ] + [
            _row(d, board.id, NOTHING, now)
            for d in plan.deliveries
            if d.reply is None and d.key not in plan.ledger
        ]
        if rows:
            with session_scope(self.engine) as session:
                inserted = insert_new(session=session, rows=rows)
            superseded = {d.key for d in plan.superseded}
            report.superseded += sum(1 for key in inserted if key in superseded)
            report.nothing += sum(1 for key in inserted if key not in superseded)

    def _send_chunk(
        self, board: Board, chunk: list[Delivery], token: str, report: PassReport
    ) -> None:
        now = self.clock()
        rows = [
            _row(
                d,
                board.id,
                CLAIMED,
                now,
                token=token,
                sent_to_user_id=d.send_to.slack_user_id,
                on_behalf_of=d.on_behalf_of,
                action_count=d.action_count,
            )
            for d in chunk
        ]
        with session_scope(self.engine) as session:
            ours = insert_new(session=session, rows=rows)
        report.busy += len(chunk) - len(ours)
        results = []
        for delivery in chunk:
            if delivery.key in ours:
                user_id = delivery.send_to.slack_user_id
                outcome = self._post(user_id, delivery.reply, delivery.key)
                results.append((ours[delivery.key], user_id, outcome))
                _count(report, outcome)
        self._finish(results, token)

    def _finish(self, results: list[tuple[int, str, Outcome]], token: str) -> None:
        """Record outcomes of our claims in one transaction."""
        if not results:
            return
        now = self.clock()
        with session_scope(self.engine) as session:
            for row_id, user_id, outcome in results:
                recorded = finish(
                    session=session,
                    row_id=row_id,
                    token=token,
                    status=outcome.status,
                    now=now,
                    channel=outcome.channel,
                    ts=outcome.ts,
                    error=outcome.error,
                    sent_to_user_id=user_id,
                )
                if not recorded:
                    # The lease ran out mid-send and another worker took the claim over.
                    log.warning("reminder %s: claim taken over before it was recorded", row_id)

    def _post(self, user_id: str, reply: Reply, key: LedgerKey) -> Outcome:
        """Send one DM (to the user id: Slack opens the app's DM with them)."""
        try:
            response = self.client.chat_postMessage(
                channel=user_id,
                text=fallback_text(reply, self.tz),
                blocks=render_blocks(reply, self.tz),
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key.text()}},
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as error:  # noqa: BLE001  (outcome_of re-raises what it does not know)
            outcome = outcome_of(error)
            log.warning(
                "reminder %s to %s: %s (%s)", key.text(), user_id, outcome.error, outcome.status
            )
            return outcome
        return Outcome(SENT, channel=response.get("channel") or "", ts=response.get("ts") or "")

    def find_sent(self, row: ReminderDelivery) -> Outcome | None:
        """Ask Slack whether this row's message went out (its metadata carries the key)."""
        key = key_of(row).text()
        oldest = (row.created_at - timedelta(seconds=60)).timestamp()
        try:
            channel = self.client.conversations_open(users=row.sent_to_user_id)["channel"]["id"]
            cursor = None
            while True:
                page = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == key:
                        return Outcome(SENT, channel=channel, ts=message.get("ts", ""))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
        except Exception as error:  # noqa: BLE001  (outcome_of re-raises what it does not know)
            outcome = outcome_of(error)
            outcome.error = f"could not check whether it was sent: {outcome.error}"
            return outcome

    def _recover(
        self,
        board: Board,
        plan: ReminderPlan,
        row: ReminderDelivery,
        token: str,
        report: PassReport,
    ) -> None:
        """Take over a retry or an abandoned claim: reconcile with Slack, then resend or settle."""
        now = self.clock()
        with session_scope(self.engine) as session:
            mine = take_over(
                session=session,
                row_id=row.id,
                old_token=row.claim_token,
                new_token=token,
                now=now,
                stale_before=now - self.lease,
            )
        if not mine:
            report.busy += 1
            return
        found = self.find_sent(row)
        if found is not None:
            if found.status == SENT:
                report.reconciled += 1
            else:
                _count(report, found)
            self._finish([(row.id, row.sent_to_user_id, found)], token)
            return
        user_id, reply, reason = self._resend_content(board, plan, row)
        if reply is None:
            outcome = Outcome(SUPERSEDED, error=reason)
        else:
            outcome = self._post(user_id, reply, key_of(row))
        _count(report, outcome)
        self._finish([(row.id, user_id, outcome)], token)

    def _resend_content(
        self, board: Board, plan: ReminderPlan, row: ReminderDelivery
    ) -> tuple[str, Reply | None, str]:
        """Who gets the message now and what it says (from the register as it is now)."""
        if row.kind == FAILURES:
            with Session(self.engine) as session:
                told = reported_in(session=session, report_key=row.point)
                starts = _meeting_starts(session, [r.meeting_id for r in told])
                members = list_members(session=session, board_id=board.id)
                names = {m.id: m.display_name for m in members}
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
        if delivery.reply is None:
            return row.sent_to_user_id, None, "nothing left to report when it was retried"
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
        by_id = {m.id: m for m in readers}
        results = []
        for key, row_id in ours.items():
            user_id = by_id[key.recipient_member_id].slack_user_id
            if told:
                outcome = self._post(user_id, notice, key)
            else:
                outcome = Outcome(SUPERSEDED, error="another notice told these failures")
            results.append((row_id, user_id, outcome))
            if outcome.status == SENT:
                report.notices += 1
            else:
                _count(report, outcome)
        self._finish(results, token)


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


def _count(report: PassReport, outcome: Outcome) -> None:
    if outcome.status == SENT:
        report.sent += 1
    elif outcome.status == FAILED:
        report.failed += 1
        report.errors.append(outcome.error)
    elif outcome.status == RETRY:
        report.retry += 1
    elif outcome.status == SUPERSEDED:
        report.superseded += 1


def describe_delivery(delivery: Delivery, tz: ZoneInfo) -> str:
    """`Rob Ellis (UCOLP)`, or the deputy `on behalf of` an away member, for dry runs."""
    person = f"{delivery.send_to.display_name} ({delivery.send_to.slack_user_id})"
    if delivery.on_behalf_of:
        person += f" on behalf of {delivery.on_behalf_of}"
    return f"{person}, {delivery.key.kind} for the meeting {when(delivery.meeting.starts_at, tz)}"
