"""The Board's papers as data: the quarterly activity report, the meeting pack, the action table."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import CONSOLE, Surface
from handlers.errors import CommandError
from handlers.register.import_export import export_records
from handlers.reports.snapshot import (
    ActionLine,
    ChartData,
    Group,
    Move,
    PartnerLine,
    Snapshot,
    Update,
    chart_data,
    completed,
    moves,
    people_scrubber,
    ratings_at,
    take_snapshot,
    tally,
    updates,
)
from handlers.text.dates import format_uk_date
from handlers.text.quarters import Period, previous_quarter
from models.actions import Visibility
from models.meetings import last_meeting, list_meetings, next_meeting
from models.tables import Board, Meeting

_A_MOMENT = datetime.resolution
# The free-text fields of an exported record, scrubbed of people's names in a public export.
_RECORD_TEXT = ("issue", "action", "barriers", "outcomes")


@dataclass(frozen=True)
class QuarterlyReport:
    """The quarterly activity report to the Safer City Partnership and the Police Committee."""

    board: str
    period: Period
    previous: Period
    as_at: datetime
    public: bool
    counts: dict[str, int]
    counts_before: dict[str, int]
    moves: tuple[Move, ...]
    completed: tuple[ActionLine, ...]
    new: tuple[ActionLine, ...]
    red: tuple[ActionLine, ...]
    overdue: tuple[ActionLine, ...]
    not_updated: tuple[ActionLine, ...]
    by_area: tuple[Group, ...]
    by_strand: tuple[Group, ...]
    by_partner: tuple[PartnerLine, ...]
    chart: ChartData
    withheld: int

    @property
    def as_at_text(self) -> str:
        """When the figures were taken, in words (`the end of 2027 Q1 (Wed 31 Mar 2027)`)."""
        return self.chart.as_at_text


@dataclass(frozen=True)
class MeetingPack:
    """What the chairman needs for a meeting: summary, exceptions, changes, closures to agree."""

    board: str
    meeting_at: datetime
    last_meeting_at: datetime | None
    as_at: datetime
    public: bool
    counts: dict[str, int]
    counts_before: dict[str, int] | None
    moves: tuple[Move, ...]
    new: tuple[ActionLine, ...]
    updates: tuple[Update, ...]
    proposed_for_closure: tuple[ActionLine, ...]
    red: tuple[ActionLine, ...]
    overdue: tuple[ActionLine, ...]
    not_updated: tuple[ActionLine, ...]
    by_area: tuple[Group, ...]
    by_partner: tuple[PartnerLine, ...]
    chart: ChartData
    withheld: int


@dataclass(frozen=True)
class RegisterExport:
    """The action table in the Annex B layout (records as `export_records` makes them)."""

    board: str
    as_at: datetime
    public: bool
    records: tuple[dict, ...]
    withheld: int


def quarterly_report(
    session: Session,
    board: Board,
    period: Period,
    *,
    now: datetime,
    visibility: Visibility,
    public: bool,
    tz: ZoneInfo,
) -> QuarterlyReport:
    """The report for `period`, its figures taken at the period's end (or now, if it is running)."""
    as_at = period.as_at(now)
    snap = take_snapshot(session, board, at=as_at, visibility=visibility, public=public, tz=tz)
    before = ratings_at(session, board, snap, period.start)
    return QuarterlyReport(
        board=board.name,
        period=period,
        previous=previous_quarter(period, tz),
        as_at=as_at,
        public=public,
        counts=snap.counts(),
        counts_before=tally(before.values()),
        moves=tuple(moves(snap, before)),
        completed=tuple(completed(session, board, snap, period.start)),
        new=tuple(snap.created_after(period.start)),
        red=tuple(snap.red()),
        overdue=tuple(snap.overdue()),
        not_updated=tuple(snap.not_updated_since(period.start)),
        by_area=snap.by_area,
        by_strand=snap.by_strand(),
        by_partner=snap.by_partner(period.start),
        chart=chart_data(session, board, snap, tz=tz, moment=_quarter_moment(period, snap)),
        withheld=snap.withheld,
    )


def _quarter_moment(period: Period, snap: Snapshot) -> tuple[str, str]:
    if snap.as_at < period.end:
        return format_uk_date(snap.today), "Now"
    return f"the end of {period.label} ({format_uk_date(period.last_day)})", f"End {period.label}"


def meeting_pack(
    session: Session,
    board: Board,
    meeting: Meeting,
    *,
    now: datetime,
    visibility: Visibility,
    public: bool,
    tz: ZoneInfo,
) -> MeetingPack:
    """The pack for `meeting`: the register now (or at the meeting, if it is past)."""
    as_at = min(now, meeting.starts_at)
    previous = last_meeting(session=session, board_id=board.id, now=meeting.starts_at - _A_MOMENT)
    snap = take_snapshot(session, board, at=as_at, visibility=visibility, public=public, tz=tz)
    since = previous.starts_at if previous else None
    before = ratings_at(session, board, snap, since) if since else None
    blue_since = completed(session, board, snap, since) if since else []
    return MeetingPack(
        board=board.name,
        meeting_at=meeting.starts_at,
        last_meeting_at=since,
        as_at=as_at,
        public=public,
        counts=snap.counts(),
        counts_before=tally(before.values()) if before is not None else None,
        moves=tuple(moves(snap, before)) if before is not None else (),
        new=tuple(snap.created_after(since)) if since else (),
        updates=tuple(updates(session, board, snap, since, public=public)) if since else (),
        proposed_for_closure=tuple(blue_since),
        red=tuple(snap.red()),
        overdue=tuple(snap.overdue()),
        not_updated=tuple(snap.not_updated_since(since)) if since else (),
        by_area=snap.by_area,
        by_partner=snap.by_partner(since or as_at),
        chart=chart_data(session, board, snap, tz=tz),
        withheld=snap.withheld,
    )


def register_export(
    session: Session, board: Board, *, now: datetime, public: bool
) -> RegisterExport:
    """The whole action table; a public one without confidential rows or members' names."""
    records = export_records(session, board)
    shown = [r for r in records if not (public and r["confidential"])]
    if public:
        scrub = people_scrubber(session, board.id)
        shown = [{**r, **{k: scrub(r[k]) for k in _RECORD_TEXT}} for r in shown]
    return RegisterExport(
        board=board.name,
        as_at=now,
        public=public,
        records=tuple(shown),
        withheld=len(records) - len(shown),
    )


def safe_filename(text: str) -> str:
    """A file name from a label: letters, digits and hyphens only."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "report"


def require_meeting(meeting: Meeting | None, when: str, surface: Surface = CONSOLE) -> Meeting:
    """The meeting, or a one-line refusal saying how to see the recorded ones."""
    if meeting is None:
        raise CommandError(
            f"No Board meeting is recorded {when}.",
            f"See the meetings with `{surface.typed('meeting list')}`, or give the date of one.",
        )
    return meeting


def find_meeting(
    session: Session,
    board: Board,
    day: date | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    surface: Surface = CONSOLE,
) -> Meeting:
    """The meeting on `day` (local date), or the next one when no day is given."""
    if day is None:
        found = next_meeting(session=session, board_id=board.id, now=now)
        return require_meeting(found, "after today", surface)
    on_day = [
        m
        for m in list_meetings(session=session, board_id=board.id)
        if not m.cancelled and m.starts_at.astimezone(tz).date() == day
    ]
    return require_meeting(on_day[0] if on_day else None, f"on {format_uk_date(day)}", surface)
