"""Report data: the register at a moment and what changed, as plain dataclasses for the writers.

Pure assembly from the database (no clock, no files): `bot.files` draws and writes the result.
A public version reads only non-confidential actions, counts the rest, and names no individual:
no history actor names, lead partners by official name only, members' names removed from text.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.register.present import action_title, describe_change
from handlers.register.summary import RAG_ORDER
from handlers.text.dates import format_uk_date
from models.actions import PUBLIC, Visibility, leads_of, list_actions, rag_as_at, strands_of
from models.boards import list_areas
from models.meetings import list_meetings
from models.people import list_members, list_partners
from models.reporting import changes_between, last_changed, latest_notes
from models.tables import Action, ActionChange, AreaSource, Board, Partner, Rag, Strand

TREND_MEETINGS = 6
NAME_REMOVED = "[name removed]"
Scrub = Callable[[str], str]


def tally(rags: Iterable[str]) -> dict[str, int]:
    """Counts per RAG value, every rating present (zeros included), in display order."""
    counts = {rag.value: 0 for rag in RAG_ORDER}
    for rag in rags:
        counts[rag] = counts.get(rag, 0) + 1
    return counts


@dataclass(frozen=True)
class ActionLine:
    """One action as a paper shows it, with its RAG at the report's moment."""

    ref: str
    title: str
    area: str
    leads: tuple[str, ...]
    rag: str
    due: date | None
    barriers: str
    outcomes: str
    latest_note: str
    latest_note_at: datetime | None
    latest_note_by: str
    confidential: bool


@dataclass(frozen=True)
class Group:
    """RAG counts of one key crime area or 4P strand."""

    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """All actions in the group."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class PartnerLine:
    """A lead partner's accountability: open actions, overdue, and not updated in the period."""

    partner: str
    open: int
    overdue: int
    not_updated: int


@dataclass(frozen=True)
class Move:
    """An action whose rating changed between two moments."""

    action: ActionLine
    before: str
    after: str


@dataclass(frozen=True)
class Update:
    """One change to an action in a period (never naming who made it in a public paper)."""

    action: ActionLine
    at: datetime
    what: str
    note: str
    by: str


@dataclass(frozen=True)
class TrendPoint:
    """RAG counts at one moment (a meeting's start, or the report's moment)."""

    label: str
    at: datetime
    counts: dict[str, int]


@dataclass(frozen=True)
class ChartData:
    """What the RAG chart draws: a stacked bar per key crime area and a trend over meetings."""

    board: str
    as_at: datetime
    as_at_text: str
    areas: tuple[Group, ...]
    trend: tuple[TrendPoint, ...]
    withheld: int
    empty_areas: tuple[str, ...]
    tz: ZoneInfo

    @property
    def total(self) -> int:
        """Actions drawn in the bars."""
        return sum(group.total for group in self.areas)


@dataclass(frozen=True)
class Snapshot:
    """The readable register at one moment: each action's line (RAG as it was then)."""

    as_at: datetime
    lines: dict[int, ActionLine]
    created: dict[int, datetime]
    last_change: dict[int, datetime]
    lead_names: dict[int, tuple[str, ...]]
    strands: dict[int, tuple[str, ...]]
    by_area: tuple[Group, ...]
    empty_areas: tuple[str, ...]
    withheld: int
    today: date

    def counts(self) -> dict[str, int]:
        """RAG counts of the whole register."""
        return tally(line.rag for line in self.lines.values())

    def red(self) -> list[ActionLine]:
        """Actions rated Red."""
        return [line for line in self.lines.values() if line.rag == Rag.RED]

    def overdue(self) -> list[ActionLine]:
        """Open actions past their due date."""
        return [
            line
            for line in self.lines.values()
            if line.due and line.due < self.today and line.rag != Rag.BLUE
        ]

    def not_updated_since(self, since: datetime) -> list[ActionLine]:
        """Open actions with no change or note after `since`."""
        return [
            line
            for action_id, line in self.lines.items()
            if line.rag != Rag.BLUE and self.last_change.get(action_id, since) <= since
        ]

    def created_after(self, since: datetime) -> list[ActionLine]:
        """Actions added after `since`."""
        return [self.lines[i] for i, at in self.created.items() if at > since and i in self.lines]

    def by_strand(self) -> tuple[Group, ...]:
        """RAG counts per 4P strand, plus the actions with none set."""
        groups = [
            Group(
                s.value.title(),
                tally(ln.rag for i, ln in self.lines.items() if s.value in self.strands.get(i, ())),
            )
            for s in Strand
        ]
        unset = [ln.rag for i, ln in self.lines.items() if not self.strands.get(i)]
        if unset:
            groups.append(Group("No strand set", tally(unset)))
        return tuple(groups)

    def by_partner(self, since: datetime) -> tuple[PartnerLine, ...]:
        """Each lead partner's open, overdue and not-updated actions."""
        overdue = {line.ref for line in self.overdue()}
        stale = {line.ref for line in self.not_updated_since(since)}
        rows: dict[str, list[int]] = {}
        for action_id, line in self.lines.items():
            for partner in self.lead_names.get(action_id, ()):
                row = rows.setdefault(partner, [0, 0, 0])
                row[0] += line.rag != Rag.BLUE
                row[1] += line.ref in overdue
                row[2] += line.ref in stale
        return tuple(PartnerLine(name, *rows[name]) for name in sorted(rows))


def people_scrubber(session: Session, board_id: int) -> Scrub:
    """A function removing every member's name from text (for public papers)."""
    names = sorted(
        {
            m.display_name.strip()
            for m in list_members(session=session, board_id=board_id)
            if m.display_name.strip()
        },
        key=len,
        reverse=True,
    )
    if not names:
        return lambda text: text
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE
    )
    return lambda text: pattern.sub(NAME_REMOVED, text)


def take_snapshot(
    session: Session,
    board: Board,
    *,
    at: datetime,
    visibility: Visibility,
    public: bool,
    tz: ZoneInfo,
) -> Snapshot:
    """The register as a reader with `visibility` sees it, with RAG ratings as they were at `at`."""
    visibility = PUBLIC if public else visibility
    scrub = people_scrubber(session, board.id) if public else (lambda text: text)
    rag_then = rag_as_at(session=session, board_id=board.id, at=at)
    readable, _ = list_actions(session=session, board_id=board.id, visibility=visibility)
    actions = [a for a in readable if a.id in rag_then]
    ids = [a.id for a in actions]
    leads = leads_of(session=session, action_ids=ids)
    strands = strands_of(session=session, action_ids=ids)
    notes = latest_notes(session=session, board_id=board.id, until=at)
    areas = list_areas(session=session, board_id=board.id)
    area_names = {area.id: area.name for area in areas}
    lines = {
        a.id: _line(a, rag_then[a.id], area_names, leads[a.id], notes.get(a.id), public, scrub)
        for a in actions
    }
    groups, empty = [], []
    for area in areas:
        rags = [lines[a.id].rag for a in actions if a.area_id == area.id]
        if rags:
            groups.append(Group(area.name, tally(rags)))
        elif area.priority or area.source != AreaSource.NATIONAL_ASSESSMENT:
            empty.append(area.name)
    return Snapshot(
        as_at=at,
        lines=lines,
        created={a.id: a.created_at for a in actions},
        last_change=last_changed(session=session, board_id=board.id, until=at),
        lead_names={i: tuple(p.name for p in leads[i]) for i in ids},
        strands={i: tuple(sorted(strands[i])) for i in ids},
        by_area=tuple(groups),
        empty_areas=tuple(empty),
        withheld=len(rag_then) - len(actions),
        today=at.astimezone(tz).date(),
    )


def ratings_at(session: Session, board: Board, snapshot: Snapshot, at: datetime) -> dict[int, str]:
    """The RAG ratings at an earlier moment of the actions in `snapshot` that existed then."""
    then = rag_as_at(session=session, board_id=board.id, at=at)
    return {i: then[i] for i in snapshot.lines if i in then}


def moves(snapshot: Snapshot, before: dict[int, str]) -> list[Move]:
    """Actions whose rating differs between `before` and the snapshot."""
    return [
        Move(line, before[i], line.rag)
        for i, line in snapshot.lines.items()
        if i in before and before[i] != line.rag
    ]


def completed(
    session: Session, board: Board, snapshot: Snapshot, since: datetime
) -> list[ActionLine]:
    """Actions Blue at the snapshot that were marked Blue after `since` (not created Blue)."""
    marked = {
        c.action_id
        for c in changes_between(
            session=session, board_id=board.id, after=since, until=snapshot.as_at
        )
        if c.field == "rag" and c.new_value == Rag.BLUE and c.old_value is not None
    }
    return [ln for i, ln in snapshot.lines.items() if i in marked and ln.rag == Rag.BLUE]


def updates(
    session: Session, board: Board, snapshot: Snapshot, since: datetime, *, public: bool
) -> list[Update]:
    """Every change and note to the snapshot's actions after `since`, oldest first."""
    scrub = people_scrubber(session, board.id) if public else (lambda text: text)
    areas = {a.id: a.name for a in list_areas(session=session, board_id=board.id)}
    partners = {p.id: p.name for p in list_partners(session=session, board_id=board.id)}
    result = []
    for change in changes_between(
        session=session, board_id=board.id, after=since, until=snapshot.as_at
    ):
        line = snapshot.lines.get(change.action_id)
        if line is None or change.field == "created":
            continue
        what = describe_change(_without_note(change), areas, partners)
        result.append(
            Update(
                line,
                change.at,
                scrub(what),
                scrub(change.note),
                "" if public else change.actor_name,
            )
        )
    return result


def chart_data(
    session: Session,
    board: Board,
    snapshot: Snapshot,
    *,
    tz: ZoneInfo,
    moment: tuple[str, str] | None = None,
) -> ChartData:
    """The chart of a snapshot: bars per area, counts at the last six meetings before it.

    `moment` names the snapshot's moment: (in the title, on the trend axis); default its date
    and "Now".
    """
    meetings = [
        m
        for m in list_meetings(session=session, board_id=board.id)
        if not m.cancelled and m.starts_at <= snapshot.as_at
    ][-TREND_MEETINGS:]
    trend = []
    for meeting in meetings:
        then = ratings_at(session, board, snapshot, meeting.starts_at)
        label = meeting.starts_at.astimezone(tz).strftime("%d %b %y").lstrip("0")
        trend.append(TrendPoint(label, meeting.starts_at, tally(then.values())))
    as_at_text, point = moment or (format_uk_date(snapshot.today), "Now")
    trend.append(TrendPoint(point, snapshot.as_at, snapshot.counts()))
    return ChartData(
        board=board.name,
        as_at=snapshot.as_at,
        as_at_text=as_at_text,
        areas=snapshot.by_area,
        trend=tuple(trend),
        withheld=snapshot.withheld,
        empty_areas=snapshot.empty_areas,
        tz=tz,
    )


def _line(
    action: Action,
    rag: str,
    area_names: dict[int, str],
    leads: list[Partner],
    note: ActionChange | None,
    public: bool,
    scrub: Scrub,
) -> ActionLine:
    return ActionLine(
        ref=action.ref,
        title=scrub(action_title(action)),
        area=area_names.get(action.area_id, ""),
        leads=tuple(p.name for p in leads),
        rag=rag,
        due=action.due_date,
        barriers=scrub(action.barriers),
        outcomes=scrub(action.outcomes),
        latest_note=scrub(note.note) if note else "",
        latest_note_at=note.at if note else None,
        latest_note_by="" if public or note is None else note.actor_name,
        confidential=action.confidential,
    )


def _without_note(change: ActionChange) -> ActionChange:
    # The note has its own column; describe_change would repeat it. A copy, never the row itself.
    fields = ("field", "old_value", "new_value")
    return SimpleNamespace(note="", **{f: getattr(change, f) for f in fields})  # type: ignore
