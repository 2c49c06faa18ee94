"""`soc-bot worker`: the one process that runs the scheduler and sends pre-meeting reminders.

The scheduler only ticks (every SOC_TICK_SECONDS); each tick reads what is due from the database
and the ledger, so a tick missed during a restart or a deploy loses nothing: the next one sends
the latest reminder that fell due meanwhile. A tick serves every active Board, each in its own
time zone and holidays and through its own workspace's couriers (`bot.couriers`), several
Boards at once (SOC_WORKER_BOARDS), so a large or rate-limited Board holds up only itself.
Several workers, on several machines, may tick at once: the ledger sends everything once.
"""

import logging
import signal
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot.config import Settings, SettingsError
from bot.couriers import BoardCouriers
from bot.plain_text import render_text
from bot.senders.courier import Courier
from bot.senders.priorities import PrioritySender
from bot.senders.reminders import (
    CHUNK,
    DEFAULT_LEASE,
    PassReport,
    ReminderSender,
    describe_delivery,
    utc_now,
)
from bot.setup import open_engine
from handlers.context import board_zone
from handlers.meetings.commands import reminder_config, top_up_meetings
from handlers.meetings.reminder_messages import when
from handlers.meetings.reminders import ReminderPlan, plan_reminders
from models.board_seal import sealed_engine
from models.boards import get_board, list_boards
from models.claim_locks import claimant
from models.db import reader, session_scope
from models.meetings import next_meeting
from models.people import identities_by_member, list_members, reachable_identity
from models.tables import Board
from models.workspaces import bindings_by_board

log = logging.getLogger(__name__)

DEFAULT_TICK_SECONDS = 60
DEFAULT_BOARDS_AT_ONCE = 4


@dataclass(frozen=True)
class WorkerOptions:
    """How often the worker ticks, how long a claim is trusted before it is taken over, and how
    many Boards it sends to at once."""

    tick: timedelta = timedelta(seconds=DEFAULT_TICK_SECONDS)
    lease: timedelta = DEFAULT_LEASE
    boards_at_once: int = DEFAULT_BOARDS_AT_ONCE


def worker_options(environ: Mapping[str, str]) -> WorkerOptions:
    """SOC_TICK_SECONDS, SOC_REMINDER_LEASE_SECONDS and SOC_WORKER_BOARDS, checked."""
    values = {}
    for name, default, low in (
        ("SOC_TICK_SECONDS", DEFAULT_TICK_SECONDS, 1),
        ("SOC_REMINDER_LEASE_SECONDS", int(DEFAULT_LEASE.total_seconds()), 0),
        ("SOC_WORKER_BOARDS", DEFAULT_BOARDS_AT_ONCE, 1),
    ):
        text = environ.get(name) or str(default)
        if not text.isdigit() or int(text) < low:
            unit = "Boards" if name == "SOC_WORKER_BOARDS" else "seconds"
            raise SettingsError(f"{name}={text!r} must be a whole number of {unit} >= {low}.")
        values[name] = int(text)
    return WorkerOptions(
        timedelta(seconds=values["SOC_TICK_SECONDS"]),
        timedelta(seconds=values["SOC_REMINDER_LEASE_SECONDS"]),
        values["SOC_WORKER_BOARDS"],
    )


@dataclass
class BoardReport:
    """What one tick did for one Board: its reminder pass and its priorities pass."""

    board: str
    reminders: PassReport
    priorities: PassReport


@dataclass
class TickReport:
    """What one tick did, Board by Board, and the Boards it left alone."""

    boards: list[BoardReport] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # no courier to send on this tick
    failed: list[str] = field(default_factory=list)  # an error; the next tick tries again

    def board(self, slug: str) -> BoardReport:
        """One Board's report (KeyError if it was not served)."""
        return next(b for b in self.boards if b.board == slug)

    def lines(self) -> list[str]:
        """One line per Board served, then those left alone, for the CLI."""
        found = [f"Reminder pass for {b.board}: {b.reminders.summary()}." for b in self.boards]
        left = (
            ("Inactive Boards, skipped", self.inactive),
            ("Boards with no channel to send on yet", self.waiting),
            ("Boards that failed (the next pass tries again)", self.failed),
        )
        for label, slugs in left:
            if slugs:
                found.append(f"{label}: {', '.join(slugs)}.")
        return found


def top_up(engine: Engine, board_slug: str, now: datetime) -> int:
    """Make the Board's rule meetings for the next 12 months exist; returns how many were added."""
    for _ in range(2):
        try:
            with session_scope(engine) as session:
                board = get_board(session=session, slug=board_slug)
                if board is None:
                    return 0
                added, _ = top_up_meetings(session, board, now)
                return len(added)
        except IntegrityError:
            # Another worker added some of the same meetings at the same moment (each occurrence
            # is unique): theirs are committed, so a second try adds only what is still missing.
            continue
    return 0


def serve_board(
    engine: Engine, sender: ReminderSender, now: datetime, token: str | None = None
) -> BoardReport:
    """One Board's share of a tick: top up its meetings, a reminder pass at `now`, then the
    priorities exercise's messages (`token`: the tick's claim lock, if the caller holds one)."""
    top_up(engine, sender.board_slug, now)
    report = sender.run_pass(now, token)
    at = now.isoformat(timespec="seconds")
    log.info("Board %s: reminder pass at %s: %s", sender.board_slug, at, report.summary())
    asked = PrioritySender.beside(sender).run_pass(now, token)
    if asked.sent or asked.reconciled or asked.failed or asked.retry or asked.superseded:
        log.info("Board %s: priorities pass at %s: %s", sender.board_slug, at, asked.summary())
    return BoardReport(sender.board_slug, report, asked)


def tick_boards(
    engine: Engine,
    couriers: BoardCouriers,
    now: datetime,
    *,
    options: WorkerOptions = WorkerOptions(),
    board_slug: str | None = None,
    chunk: int = CHUNK,
) -> TickReport:
    """One tick over every active Board (or only `board_slug`): each Board served as
    `serve_board` does, in its own zone, through its own couriers, `options.boards_at_once` at
    a time, so one large or rate-limited Board holds up only itself."""
    report = TickReport()
    with Session(reader(engine), expire_on_commit=False) as session:
        boards = list_boards(session=session)
        bindings = bindings_by_board(session=session)
    served: list[tuple[Board, dict[str, Courier]]] = []
    for board in boards:
        if board_slug is not None and board.slug != board_slug:
            continue
        if not board.active:
            log.debug("Board %s is inactive: no reminders", board.slug)
            report.inactive.append(board.slug)
            continue
        found = couriers.for_board(board, bindings.get(board.id, []))
        if not found:
            report.waiting.append(board.slug)
            continue
        served.append((board, found))
    if not served:
        return report
    workers = min(options.boards_at_once, len(served))
    # One claim lock for the whole tick: every Board's claims die with this process together.
    with claimant(engine) as token, ThreadPoolExecutor(workers, "soc-boards") as pool:
        passes: list[tuple[str, Future]] = [
            (board.slug, pool.submit(serve_board, sealed, ReminderSender(
                sealed, found, board_zone(board), board_slug=board.slug, lease=options.lease,
                chunk=chunk), now, token))
            for board, found in served
            # Each Board's pass sees only its own rows, even through a query that forgot them.
            for sealed in [sealed_engine(engine, board.id)]
        ]  # fmt: skip
        for slug, running in passes:
            try:
                report.boards.append(running.result())
            except Exception:
                # The other Boards go on; the ledger keeps this one's place for the next tick.
                log.exception("Board %s: reminder tick failed; the next tick tries again", slug)
                report.failed.append(slug)
    return report


def _safe_tick(engine: Engine, couriers: BoardCouriers, options: WorkerOptions) -> None:
    try:
        tick_boards(engine, couriers, utc_now(), options=options)
    except OperationalError:
        log.error("database unavailable; the next tick will try again", exc_info=True)
    except Exception:
        # The scheduler would log and carry on anyway; say that nothing is lost.
        log.exception("reminder tick failed; the ledger keeps its place for the next tick")


def board_couriers(settings: Settings, engine: Engine) -> BoardCouriers:
    """Every Board's couriers; a SettingsError if the deployment has no channel to send on."""
    couriers = BoardCouriers(settings, engine)
    if not couriers.channels():
        settings.require("slack_bot_token")
    return couriers


def run_worker(settings: Settings, options: WorkerOptions) -> int:
    """Run the scheduler until SIGTERM or SIGINT; the tick in progress finishes first."""
    engine = open_engine(settings)
    couriers = board_couriers(settings, engine)
    log.info("direct messages go out on: %s", ", ".join(couriers.channels()))
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        _safe_tick,
        IntervalTrigger(seconds=int(options.tick.total_seconds()), timezone=UTC),
        args=(engine, couriers, options),
        id="reminders",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=utc_now(),
    )

    def stop(signum: int, _frame) -> None:
        log.info("signal %s: stopping after the current tick", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started: a reminder pass every %s", options.tick)
    scheduler.start()
    engine.dispose()
    log.info("worker stopped")
    return 0


def dry_run(
    engine: Engine, settings: Settings, now: datetime, *, board_slug: str | None = None
) -> str:
    """Who a pass at `now` would message and what they would read (for `board_slug`, else
    SOC_BOARD's Board); nothing is sent or saved."""
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug=board_slug or settings.board_slug)
        if board is None:
            return "This Board has not been set up yet."
        top_up_meetings(session, board, now)
        session.flush()
        plan = plan_reminders(session, board, now)
        text = format_plan(plan, _ids_shown(session, board.id)) or _nothing_due(session, board, now)
        session.rollback()
    zone = plan.config.tz
    header = f"Reminder pass at {when(now, zone)} (dry run: nothing is sent or recorded)."
    return f"{header}\n{text}"


def format_plan(plan: ReminderPlan, ids: dict[int, str] | None = None) -> str:
    """A plan as plain text, times in the Board's zone: each message in full (to whom: `ids`, by
    member id), then who has nothing to report."""
    zone = plan.config.tz
    lines = []
    for delivery in plan.deliveries:
        if delivery.reply is not None:
            where = (ids or {}).get(delivery.send_to.id, "")
            lines.append(f"\n──── To {describe_delivery(delivery, zone, where)}")
            lines.append(render_text(delivery.reply, zone))
    quiet = sorted(d.recipient.display_name for d in plan.deliveries if d.reply is None)
    if quiet:
        lines.append(f"\nNothing to report, so no message: {', '.join(quiet)}.")
    if plan.superseded:
        lines.append(f"{len(plan.superseded)} earlier reminders superseded by these.")
    return "\n".join(lines).strip()


def _ids_shown(session: Session, board_id: int) -> dict[int, str]:
    """Each member's id on the channel their messages go to (of all they have), by member id."""
    shown = {}
    members = {m.id: m for m in list_members(session=session, board_id=board_id)}
    for member_id, identities in identities_by_member(session=session, board_id=board_id).items():
        member = members.get(member_id)
        found = member and reachable_identity(member, identities, {i.channel for i in identities})
        if found:
            shown[member_id] = found.external_id
    return shown


def _nothing_due(session: Session, board, now: datetime) -> str:
    meeting = next_meeting(session=session, board_id=board.id, now=now)
    if meeting is None:
        return "No meeting is scheduled, so no reminders are due."
    config = reminder_config(board)
    coming = [p for p in config.points(meeting) if p.at > now]
    if not coming:
        return "Every reminder for the next meeting has been dealt with."
    return (
        f"Nothing is due now. The next meeting is {when(meeting.starts_at, config.tz)}; "
        f"its next reminder goes out {when(coming[0].at, config.tz)}."
    )
