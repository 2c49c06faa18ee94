"""The messages a reminder pass sends: a lead partner's reminder, the digest, failure notices."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.context import DIRECT_MESSAGE, Surface
from handlers.meetings.rules import ReminderPoint
from handlers.register.present import OPERATIONS, action_title
from handlers.replies import Fact, Item, Reply, Section
from handlers.text.dates import format_uk_date, format_uk_moment
from models.tables import Meeting, ReminderDelivery

MAX_LISTED = 10
UPDATE_EXAMPLE = 'action update A-n rag=... note="..."'
OVERDUE, DUE, STALE, UNDATED = "overdue", "due", "stale", "undated"
KIND_NAMES = {"reminder": "reminder", "digest": "digest", "failures": "failure notice"}


@dataclass(slots=True)
class OpenAction:
    """The columns of an open action that a reminder shows (lighter than loading `Action`s)."""

    id: int
    number: int
    issue: str
    action_text: str
    rag: str
    due_date: date | None
    confidential: bool
    updated_at: datetime
    version: int

    @property
    def ref(self) -> str:
        """The short reference, e.g. A-12."""
        return f"A-{self.number}"


@dataclass(frozen=True)
class Listed:
    """An action in someone's reminder, why it is there, and whether they may change it."""

    action: OpenAction
    reasons: tuple[str, ...]
    may_update: bool

    @property
    def rank(self) -> tuple[int, int]:
        """Overdue first, then due by the meeting, then the rest; by reference within each."""
        order = (OVERDUE, DUE, STALE, UNDATED)
        return (min(order.index(r) for r in self.reasons), self.action.number)


when = format_uk_moment  # `Tue 9 Feb 2027 10:00` in the Board's zone


def _why(listed: Listed, last_meeting: datetime | None, tz: ZoneInfo) -> str:
    due = listed.action.due_date
    texts = {
        OVERDUE: f"overdue (due {format_uk_date(due)})" if due else "",
        DUE: f"due {format_uk_date(due)}, by this meeting" if due else "",
        STALE: "no update since the last meeting"
        + (f" ({format_uk_date(last_meeting.astimezone(tz).date())})" if last_meeting else ""),
        UNDATED: "no due date, so due at this meeting",
    }
    text = "; ".join(texts[r] for r in listed.reasons)
    return text[:1].upper() + text[1:]


def reminder_reply(
    *,
    meeting: Meeting,
    point: ReminderPoint,
    tz: ZoneInfo,
    listed: list[Listed],
    lead_names: dict[int, str],
    last_meeting: datetime | None,
    on_behalf_of: str = "",
    surface: Surface = DIRECT_MESSAGE,
) -> Reply:
    """A lead partner's reminder of actions to update before the meeting, written for `surface`."""
    listed = sorted(listed, key=lambda entry: entry.rank)
    count = len(listed)
    to_go = (
        "The meeting is on the next working day."
        if point.days_before == 1
        else f"The meeting is {point.days_before} working days away."
    )
    reply = Reply(
        title=f"Board meeting {when(meeting.starts_at, tz)}: "
        f"{count} of your actions need{'s' if count == 1 else ''} an update",
        text=f"{to_go} Please bring these up to date so the meeting discusses progress rather "
        f"than chasing it: {'use the buttons, or ' if surface.buttons else ''}"
        f"`{surface.typed(UPDATE_EXAMPLE)}`.",
        tz=tz,
    )
    if on_behalf_of:
        reply.notice = f"Sent to you as deputy for {on_behalf_of}, who is away."
    for entry in listed[:MAX_LISTED]:
        action = entry.action
        reply.items.append(
            Item(
                title=("🔒 " if action.confidential else "") + action_title(action),
                ref=action.ref,
                rag=action.rag,
                facts=[
                    Fact("Why", _why(entry, last_meeting, tz)),
                    Fact("Due", action.due_date or "next Board meeting"),
                    Fact("Last update", action.updated_at),
                    Fact("Lead", lead_names.get(action.id, "")),
                ],
                operations=OPERATIONS if entry.may_update else (),
                version=action.version,
            )
        )
    if count > MAX_LISTED:
        more = count - MAX_LISTED
        reply.hint = f"…and {more} more: type `{surface.typed('action status')}` to see them all."
    return reply


def digest_reply(
    *,
    meeting: Meeting,
    tz: ZoneInfo,
    summary: Reply,
    stale_by_partner: dict[str, list[OpenAction]],
    last_meeting: datetime | None,
) -> Reply:
    """The chair's digest: the RAG summary and which partners have not updated since last time."""
    section = Section("Partners who have not updated since the last meeting")
    if last_meeting is None:
        section.lines.append("No previous meeting is recorded, so there is nothing to compare.")
    elif not stale_by_partner:
        section.lines.append("None: every open action has been updated since the last meeting.")
    for partner, actions in sorted(stale_by_partner.items()):
        refs = ", ".join(a.ref for a in sorted(actions, key=lambda a: a.number)[:12])
        more = "…" if len(actions) > 12 else ""
        section.lines.append(f"{partner}: {len(actions)} ({refs}{more})")
    return Reply(
        title=f"Digest for the Board meeting {when(meeting.starts_at, tz)}",
        text=summary.text,
        sections=[section, *summary.sections],
        rag_legend=True,
        tz=tz,
    )


def failure_notice(
    rows: list[ReminderDelivery], names: dict[int, str], starts: dict[int, datetime], tz: ZoneInfo
) -> Reply:
    """Tell the secretariat which reminders were refused, so nobody is left out unknowingly."""
    count = len(rows)
    section = Section(
        "Not delivered",
        lines=[
            f"{names.get(r.recipient_member_id, '?')}: {KIND_NAMES.get(r.kind, r.kind)} of "
            f"{format_uk_date(date.fromisoformat(r.point))} for the meeting "
            f"{when(starts[r.meeting_id], tz) if r.meeting_id in starts else '?'}"
            f" ({r.error or 'unknown error'})"
            for r in rows
        ],
    )
    return Reply(
        title=f"{count} reminder{'s' if count != 1 else ''} could not be delivered",
        text="These messages were refused, so these people have not been reminded. Check they "
        "are still in the workspace and can receive messages from the app; `soc-bot reminders "
        "status` shows every delivery.",
        sections=[section],
    )


def meeting_day(meeting: Meeting, tz: ZoneInfo) -> date:
    """The meeting's local date."""
    return meeting.starts_at.astimezone(tz).date()
