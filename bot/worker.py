"""`soc-bot worker`: the one process that runs the scheduler and sends pre-meeting reminders.

The scheduler only ticks (every SOC_TICK_SECONDS); each tick reads what is due from the database
and the ledger, so a tick missed during a restart or a deploy loses nothing: the next one sends
the latest reminder that fell due meanwhile.
"""

import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot.config import Settings, SettingsError
from bot.plain_text import render_text
from bot.senders.courier import Courier
from bot.senders.priorities import PrioritySender
from bot.senders.reminders import (
    DEFAULT_LEASE,
    PassReport,
    ReminderSender,
    describe_delivery,
    utc_now,
)
from bot.setup import open_engine
from bot.slack.courier import reminder_client, slack_couriers
from bot.teams.config import load_teams_settings
from bot.teams.courier import teams_couriers
from handlers.meetings.commands import reminder_config, top_up_meetings
from handlers.meetings.reminder_messages import when
from handlers.meetings.reminders import ReminderPlan, plan_reminders
from models.boards import get_board
from models.db import session_scope
from models.meetings import next_meeting
from models.people import identities_by_member, list_members, reachable_identity
from models.schedule import get_schedule

log = logging.getLogger(__name__)

DEFAULT_TICK_SECONDS = 60


@dataclass(frozen=True)
class WorkerOptions:
    """How often the worker ticks and how long a claim is trusted before it is taken over."""

    tick: timedelta = timedelta(seconds=DEFAULT_TICK_SECONDS)
    lease: timedelta = DEFAULT_LEASE


def worker_options(environ: Mapping[str, str]) -> WorkerOptions:
    """SOC_TICK_SECONDS and SOC_REMINDER_LEASE_SECONDS, checked."""
    values = {}
    for name, default, low in (
        ("SOC_TICK_SECONDS", DEFAULT_TICK_SECONDS, 1),
        ("SOC_REMINDER_LEASE_SECONDS", int(DEFAULT_LEASE.total_seconds()), 0),
    ):
        text = environ.get(name) or str(default)
        if not text.isdigit() or int(text) < low:
            raise SettingsError(f"{name}={text!r} must be a whole number of seconds >= {low}.")
        values[name] = timedelta(seconds=int(text))
    return WorkerOptions(values["SOC_TICK_SECONDS"], values["SOC_REMINDER_LEASE_SECONDS"])


def top_up(engine: Engine, settings: Settings, now: datetime) -> int:
    """Make the rule's meetings for the next 12 months exist; returns how many were added."""
    try:
        with session_scope(engine) as session:
            board = get_board(session=session, slug=settings.board_slug)
            if board is None:
                return 0
            added, _ = top_up_meetings(session, board, now, settings.tz)
            return len(added)
    except IntegrityError:
        # Another process added the same meetings at the same moment: they exist, all is well.
        return 0


def tick(engine: Engine, sender: ReminderSender, settings: Settings, now: datetime) -> PassReport:
    """One tick: top up the meetings, one reminder pass at `now`, then the priorities exercise's
    messages (returns the reminder pass's report)."""
    top_up(engine, settings, now)
    report = sender.run_pass(now)
    log.info("reminder pass at %s: %s", now.isoformat(timespec="seconds"), report.summary())
    asked = PrioritySender.beside(sender).run_pass(now)
    if asked.sent or asked.reconciled or asked.failed or asked.retry or asked.superseded:
        log.info("priorities pass at %s: %s", now.isoformat(timespec="seconds"), asked.summary())
    return report


def _safe_tick(engine: Engine, sender: ReminderSender, settings: Settings) -> None:
    try:
        tick(engine, sender, settings, utc_now())
    except OperationalError:
        log.error("database unavailable; the next tick will try again", exc_info=True)
    except Exception:
        # The scheduler would log and carry on anyway; say that nothing is lost.
        log.exception("reminder tick failed; the ledger keeps its place for the next tick")


def deployment_couriers(settings: Settings) -> dict[str, Courier]:
    """The couriers this deployment has, by channel: Slack's when its bot token is set, Teams'
    when its app credentials are."""
    couriers: dict[str, Courier] = {}
    if settings.slack_bot_token:
        couriers.update(slack_couriers(reminder_client(settings), settings.tz))
    couriers.update(teams_couriers(load_teams_settings(), settings.tz))
    if not couriers:
        settings.require("slack_bot_token")
    return couriers


def reminder_sender(engine: Engine, settings: Settings, options: WorkerOptions) -> ReminderSender:
    """The sender a worker tick uses: the couriers (clients with retries), the Board, the lease."""
    return ReminderSender(
        engine,
        deployment_couriers(settings),
        settings.tz,
        board_slug=settings.board_slug,
        lease=options.lease,
    )


def run_worker(settings: Settings, options: WorkerOptions) -> int:
    """Run the scheduler until SIGTERM or SIGINT; the tick in progress finishes first."""
    couriers = deployment_couriers(settings)
    engine = open_engine(settings)
    sender = reminder_sender(engine, settings, options)
    log.info("direct messages go out on: %s", ", ".join(sorted(couriers)))
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        _safe_tick,
        IntervalTrigger(seconds=int(options.tick.total_seconds()), timezone=UTC),
        args=(engine, sender, settings),
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


def dry_run(engine: Engine, settings: Settings, now: datetime) -> str:
    """Who a pass at `now` would message and what they would read; nothing is sent or saved."""
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug=settings.board_slug)
        if board is None:
            return "This Board has not been set up yet."
        top_up_meetings(session, board, now, settings.tz)
        session.flush()
        plan = plan_reminders(session, board, now, settings.tz)
        text = format_plan(plan, settings, _ids_shown(session, board.id)) or _nothing_due(
            session, board, now, settings
        )
        session.rollback()
    header = f"Reminder pass at {when(now, settings.tz)} (dry run: nothing is sent or recorded)."
    return f"{header}\n{text}"


def format_plan(plan: ReminderPlan, settings: Settings, ids: dict[int, str] | None = None) -> str:
    """A plan as plain text: each message in full (to whom: `ids`, by member id), then who has
    nothing to report."""
    lines = []
    for delivery in plan.deliveries:
        if delivery.reply is not None:
            where = (ids or {}).get(delivery.send_to.id, "")
            lines.append(f"\n──── To {describe_delivery(delivery, settings.tz, where)}")
            lines.append(render_text(delivery.reply, settings.tz))
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


def _nothing_due(session: Session, board, now: datetime, settings: Settings) -> str:
    meeting = next_meeting(session=session, board_id=board.id, now=now)
    if meeting is None:
        return "No meeting is scheduled, so no reminders are due."
    config = reminder_config(get_schedule(session=session, board_id=board.id), settings.tz)
    coming = [p for p in config.points(meeting) if p.at > now]
    if not coming:
        return "Every reminder for the next meeting has been dealt with."
    return (
        f"Nothing is due now. The next meeting is {when(meeting.starts_at, settings.tz)}; "
        f"its next reminder goes out {when(coming[0].at, settings.tz)}."
    )
