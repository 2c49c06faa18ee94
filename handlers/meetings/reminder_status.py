"""`soc-bot reminders status`: for the coming meetings, what each reminder point has done."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.meetings.commands import reminder_config
from handlers.meetings.reminder_messages import KIND_NAMES, when
from handlers.meetings.reminders import LOOKAHEAD
from handlers.replies import Fact, Item, Reply, Section
from models.ledger import (
    CLAIMED,
    DIGEST,
    FAILED,
    NOTHING,
    REMINDER,
    RETRY,
    SENT,
    SUPERSEDED,
    rows_for_meetings,
)
from models.people import list_members
from models.schedule import get_schedule, meetings_between
from models.tables import Board

MEETINGS_SHOWN = 3
STATUS_WORDS = (
    (SENT, "sent"),
    (CLAIMED, "sending"),
    (RETRY, "to retry"),
    (FAILED, "failed"),
    (SUPERSEDED, "superseded"),
    (NOTHING, "nothing to report"),
)


def reminder_status(session: Session, board: Board, now: datetime, tz: ZoneInfo) -> Reply:
    """Sent, pending, failed and superseded reminders for the next meetings, point by point."""
    config = reminder_config(get_schedule(session=session, board_id=board.id), tz)
    meetings = meetings_between(
        session=session,
        board_id=board.id,
        start=now + timedelta(microseconds=1),
        end=now + LOOKAHEAD,
        include_cancelled=False,
    )[:MEETINGS_SHOWN]
    reply = Reply(title="Reminder status")
    if not meetings:
        reply.text = f"No meeting in the next {LOOKAHEAD.days} days."
        return reply
    ledger = rows_for_meetings(session=session, meeting_ids=[m.id for m in meetings])
    counts: dict[tuple[int, str, str], Counter] = defaultdict(Counter)
    for key, row in ledger.items():
        counts[(key.meeting_id, key.point, key.kind)][row.status] += 1
    for meeting in meetings:
        facts = []
        for point in config.points(meeting):
            label = f"{point.days_before} working day{'s' if point.days_before > 1 else ''} "
            label += f"before, {when(point.at, config.tz)}"
            reminders = counts.get((meeting.id, point.key, REMINDER), Counter())
            digests = counts.get((meeting.id, point.key, DIGEST), Counter())
            if not reminders and not digests:
                text = "not yet due" if point.at > now else "nothing recorded yet"
            else:
                text = _counts_text(reminders) + (
                    f"; digests: {_counts_text(digests)}" if point.last else ""
                )
            facts.append(Fact(label, text))
        reply.items.append(Item(title=f"Meeting {when(meeting.starts_at, config.tz)}", facts=facts))
    failed = [row for row in ledger.values() if row.status in (FAILED, RETRY)]
    if failed:
        names = {m.id: m.display_name for m in list_members(session=session, board_id=board.id)}
        reply.sections.append(
            Section(
                "Failed or waiting to retry",
                lines=[
                    f"{names.get(r.recipient_member_id, '?')}: {KIND_NAMES.get(r.kind, r.kind)} "
                    f"of {r.point}, {r.status} ({r.error or 'no error recorded'})"
                    for r in sorted(failed, key=lambda r: r.id)
                ],
            )
        )
    return reply


def _counts_text(counter: Counter) -> str:
    return ", ".join(f"{counter[s]} {word}" for s, word in STATUS_WORDS if counter[s]) or "none"
