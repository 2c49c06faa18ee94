"""Papers as documents: headings, paragraphs, tables and the chart, for any writer to draw.

A `Paper` is to Word, Excel and Markdown what a `Reply` is to a chat channel and the console:
channel neutral. Its author is always the Board, never a person (it becomes the file's metadata).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.register.import_export import CSV_COLUMNS, annex_b_text_cells
from handlers.register.summary import RAG_ORDER
from handlers.reports.papers import MeetingPack, QuarterlyReport, RegisterExport, safe_filename
from handlers.reports.snapshot import ActionLine, ChartData, Group, Move, PartnerLine, Update
from handlers.text.dates import format_uk_date
from models.tables import Rag

RAG_WORDS = {
    Rag.RED: "Red",
    Rag.AMBER: "Amber",
    Rag.GREEN: "Green",
    Rag.BLUE: "Blue",
    Rag.NONE: "Not rated",
}
LEGEND = (
    "RAG rating: Red, Amber (the seed's “Orange”), Green, Blue (blue denotes completion), "
    "Not rated. Every rating is written in words as well as coloured."
)
CONFIDENTIAL_MARK = "[Confidential] "
Cell = str | int | date | None


@dataclass(frozen=True)
class Column:
    """A table column: `kind` is text, number, date or rag (drawn as a coloured word)."""

    name: str
    kind: str = "text"
    width: int = 18


@dataclass
class Table:
    """A titled table; `notes` follow it (e.g. how many confidential rows are withheld)."""

    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    sheet: str = ""


@dataclass(frozen=True)
class Heading:
    """A section heading."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Figure:
    """The RAG chart, with a caption."""

    chart: ChartData
    caption: str


Block = Heading | Paragraph | Table | Figure


@dataclass
class Paper:
    """A whole document; `filename` is a stem the writers add their extension to."""

    title: str
    subtitle: str
    author: str
    filename: str
    public: bool
    blocks: list[Block] = field(default_factory=list)

    def tables(self) -> list[Table]:
        """The paper's tables in order."""
        return [block for block in self.blocks if isinstance(block, Table)]


def rag_word(rag: str) -> str:
    """The word for a rating (`Amber`, `Not rated`)."""
    try:
        return RAG_WORDS[Rag(rag)]
    except ValueError:
        return rag


def breakdown(counts: dict[str, int]) -> str:
    """`2 Red, 5 Amber, 1 Blue` (zeros left out)."""
    parts = [f"{counts[r]} {RAG_WORDS[r]}" for r in RAG_ORDER if counts.get(r)]
    return ", ".join(parts) or "none"


def quarterly_paper(report: QuarterlyReport, tz: ZoneInfo) -> Paper:
    """The quarterly activity report as a document."""
    period, as_at = report.period, report.as_at_text
    paper = _paper(
        f"Quarterly activity report: {period.label}",
        f"{report.board} · {period.span} · to the Safer City Partnership and the Police Committee",
        report.board,
        f"quarterly-report-{safe_filename(period.label)}",
        report.public,
    )
    blocks = paper.blocks
    blocks.append(Paragraph(f"Figures as at {as_at}."))
    blocks.extend(_version_note(report.public, report.withheld, _lines_of(report)))
    blocks.append(Heading("Summary"))
    blocks.append(
        Paragraph(
            f"{_holds(report.counts, report.withheld)} At the end of {report.previous.label}: "
            f"{breakdown(report.counts_before)}. In the quarter {len(report.completed)} "
            f"completed, {len(report.new)} new, {_n(len(report.moves), 'rating change')}; "
            f"exceptions: {len(report.red)} red, {len(report.overdue)} overdue, "
            f"{len(report.not_updated)} without an update."
        )
    )
    blocks.append(
        _counts_table(
            report.counts_before,
            report.counts,
            f"End of {report.previous.label}",
            f"{period.label}",
        )
    )
    blocks.append(
        Figure(
            report.chart,
            f"RAG ratings by key crime area as at {as_at}, and at the Board's recent meetings.",
        )
    )
    blocks.append(Heading("Movement since the previous quarter"))
    blocks.append(_moves_table("Rating changes in the quarter", report.moves))
    blocks.append(_lines_table("Actions completed in the quarter", report.completed, tz))
    blocks.append(_new_table("New actions", report.new))
    blocks.append(Heading("Exceptions"))
    blocks.append(_exceptions_table("Red", report.red, tz))
    blocks.append(_exceptions_table("Overdue", report.overdue, tz))
    blocks.append(_exceptions_table("No update in the quarter", report.not_updated, tz))
    blocks.append(Heading("By key crime area and 4P strand"))
    blocks.append(_groups_table("By key crime area", "Key crime area", report.by_area))
    blocks.append(_groups_table("By 4P strand", "4P strand", report.by_strand))
    blocks.append(Heading("Lead partner accountability"))
    blocks.append(_partners_table(report.by_partner, "Not updated in the quarter"))
    return paper


def pack_paper(pack: MeetingPack, tz: ZoneInfo) -> Paper:
    """The chairman's meeting pack as a document."""
    meeting, as_at = _moment(pack.meeting_at, tz), _moment(pack.as_at, tz)
    since = _moment(pack.last_meeting_at, tz) if pack.last_meeting_at else ""
    paper = _paper(
        f"Meeting pack: Board meeting, {meeting}",
        f"{pack.board} · for the chairman · since the last meeting"
        + (f" ({since})" if since else " (none recorded)"),
        pack.board,
        f"meeting-pack-{pack.meeting_at.astimezone(tz).date().isoformat()}",
        pack.public,
    )
    blocks = paper.blocks
    blocks.append(Paragraph(f"Figures as at {as_at}."))
    blocks.extend(_version_note(pack.public, pack.withheld, _lines_of(pack)))
    blocks.append(Heading("Summary"))
    text = _holds(pack.counts, pack.withheld)
    if pack.counts_before is not None:
        text += (
            f" At the last meeting: {breakdown(pack.counts_before)}. Since then "
            f"{len(pack.proposed_for_closure)} marked complete, {len(pack.new)} new, "
            f"{_n(len(pack.moves), 'rating change')}, {_n(len(pack.updates), 'update')}."
        )
    else:
        text += " No earlier meeting is recorded, so there is nothing to compare with."
    blocks.append(Paragraph(text))
    if pack.counts_before is not None:
        blocks.append(_counts_table(pack.counts_before, pack.counts, "Last meeting", "Now"))
    blocks.append(Figure(pack.chart, f"RAG ratings by key crime area as at {as_at}."))
    blocks.append(Heading("For decision: actions proposed for closure"))
    blocks.append(
        Paragraph(
            "These actions have been marked Blue (complete) since the last meeting. The Board is "
            "asked to agree that they are closed."
        )
    )
    blocks.append(_lines_table("Proposed for closure", pack.proposed_for_closure, tz))
    blocks.append(Heading("Exceptions"))
    blocks.append(_exceptions_table("Red", pack.red, tz))
    blocks.append(_exceptions_table("Overdue", pack.overdue, tz))
    blocks.append(_exceptions_table("No update since the last meeting", pack.not_updated, tz))
    blocks.append(Heading("What changed since the last meeting"))
    blocks.append(_moves_table("Rating changes", pack.moves))
    blocks.append(_new_table("New actions", pack.new))
    blocks.append(_updates_table(pack.updates, tz, named=not pack.public))
    blocks.append(Heading("By key crime area and lead partner"))
    blocks.append(_groups_table("By key crime area", "Key crime area", pack.by_area))
    blocks.append(_partners_table(pack.by_partner, "Not updated since the last meeting"))
    return paper


def register_paper(export: RegisterExport, tz: ZoneInfo) -> Paper:
    """The action table in the Annex B layout (plus reference, strands, due date)."""
    as_at = export.as_at.astimezone(tz).date()
    title = f"Serious and Organised Crime – Action Table as at {as_at:%d.%m.%y}"
    names = CSV_COLUMNS if not export.public else CSV_COLUMNS[:-1]
    kinds = {"Rag rating (blue denotes completion)": "rag", "Due date": "date"}
    widths = {
        "Ref": 7,
        "Key crime area": 22,
        "Issues": 34,
        "Lead partner": 20,
        "Actions": 44,
        "Potential barriers": 30,
        "Expected outcomes": 26,
        "4P strands": 14,
    }
    columns = tuple(Column(n, kinds.get(n, "text"), widths.get(n, 12)) for n in names)
    rows = []
    for r in export.records:
        row = [
            *annex_b_text_cells(r),
            r["rag"],
            ", ".join(s.title() for s in r["strands"]),
            date.fromisoformat(r["due"]) if r["due"] else None,
        ]
        if not export.public:
            row.append("Yes" if r["confidential"] else "")
        rows.append(tuple(row))
    notes = (
        (
            f"{export.withheld} confidential action{'s are' if export.withheld != 1 else ' is'} "
            "withheld from this public version.",
        )
        if export.withheld
        else ()
    )
    paper = _paper(
        title, export.board, export.board, f"action-table-{as_at.isoformat()}", export.public
    )
    paper.blocks.append(Table("Action table", columns, rows, notes, sheet="Action table"))
    return paper


def _paper(title: str, subtitle: str, author: str, filename: str, public: bool) -> Paper:
    suffix = "-public" if public else ""
    return Paper(title, subtitle, author, filename + suffix, public)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _holds(counts: dict[str, int], withheld: int) -> str:
    shown = sum(counts.values())
    if not withheld:
        return f"The register holds {_n(shown, 'action')}: {breakdown(counts)}."
    return (
        f"The register holds {_n(shown + withheld, 'action')}, {withheld} of them confidential "
        f"and withheld here; the other {shown}: {breakdown(counts)}."
    )


def _moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{format_uk_date(local.date())} {local:%H:%M}"


def _lines_of(data: QuarterlyReport | MeetingPack) -> list[ActionLine]:
    found = [
        *data.red,
        *data.overdue,
        *data.not_updated,
        *data.new,
        *(m.action for m in data.moves),
    ]
    return found + list(getattr(data, "completed", getattr(data, "proposed_for_closure", ())))


def _version_note(public: bool, withheld: int, lines: list[ActionLine]) -> list[Paragraph]:
    if public:
        count = (
            f"{withheld} confidential action{'s are' if withheld != 1 else ' is'} withheld"
            if withheld
            else "No confidential actions are withheld"
        )
        return [
            Paragraph(
                f"Public version: confidential (closed) items are redacted and no "
                f"individual is named. {count}."
            )
        ]
    if any(line.confidential for line in lines):
        return [
            Paragraph(
                "Not for publication: this version includes confidential (closed) "
                f"items, marked {CONFIDENTIAL_MARK.strip()}."
            )
        ]
    return []


def _title(line: ActionLine) -> str:
    return (CONFIDENTIAL_MARK if line.confidential else "") + line.title


def _note(line: ActionLine, tz: ZoneInfo) -> str:
    if not line.latest_note:
        return ""
    when = format_uk_date(line.latest_note_at.astimezone(tz).date()) if line.latest_note_at else ""
    who = f", {line.latest_note_by}" if line.latest_note_by else ""
    return f"{line.latest_note} ({when}{who})"


_REF, _ACTION = Column("Ref", width=7), Column("Action", width=40)
_AREA, _LEADS = Column("Key crime area", width=24), Column("Lead partners", width=22)
_RAG, _DUE = Column("RAG", "rag", 10), Column("Due", "date", 12)


def _counts_table(before: dict[str, int], after: dict[str, int], then: str, now: str) -> Table:
    columns = (
        Column("Rating", "rag", 12),
        Column(then, "number", 14),
        Column(now, "number", 14),
        Column("Change", width=10),
    )
    rows: list[tuple[Cell, ...]] = [
        (r.value, before.get(r, 0), after.get(r, 0), _change(after.get(r, 0) - before.get(r, 0)))
        for r in RAG_ORDER
    ]
    total_before, total_after = sum(before.values()), sum(after.values())
    rows.append(("Total", total_before, total_after, _change(total_after - total_before)))
    return Table("RAG ratings", columns, rows, sheet="RAG ratings")


def _change(delta: int) -> str:
    return f"+{delta}" if delta > 0 else str(delta) if delta else "0"


def _moves_table(title: str, moves: tuple[Move, ...]) -> Table:
    columns = (_REF, _ACTION, _AREA, Column("From", "rag", 10), Column("To", "rag", 10))
    rows = [(m.action.ref, _title(m.action), m.action.area, m.before, m.after) for m in moves]
    return Table(title, columns, rows, sheet="Rating changes")


def _lines_table(title: str, lines: tuple[ActionLine, ...], tz: ZoneInfo) -> Table:
    columns = (_REF, _ACTION, _AREA, _LEADS, Column("Outcome / latest note", width=40))
    rows = [
        (ln.ref, _title(ln), ln.area, ", ".join(ln.leads), _note(ln, tz) or ln.outcomes)
        for ln in lines
    ]
    return Table(title, columns, rows, sheet=title[:31])


def _new_table(title: str, lines: tuple[ActionLine, ...]) -> Table:
    columns = (_REF, _ACTION, _AREA, _LEADS, _RAG, _DUE)
    rows = [(ln.ref, _title(ln), ln.area, ", ".join(ln.leads), ln.rag, ln.due) for ln in lines]
    return Table(title, columns, rows, sheet="New actions")


def _exceptions_table(title: str, lines: tuple[ActionLine, ...], tz: ZoneInfo) -> Table:
    columns = (
        _REF,
        _ACTION,
        _LEADS,
        _RAG,
        _DUE,
        Column("Potential barriers", width=30),
        Column("Latest note", width=36),
    )
    rows = [
        (ln.ref, _title(ln), ", ".join(ln.leads), ln.rag, ln.due, ln.barriers, _note(ln, tz))
        for ln in lines
    ]
    return Table(title, columns, rows, sheet=title[:31])


def _groups_table(title: str, label: str, groups: tuple[Group, ...]) -> Table:
    columns = (
        Column(label, width=32),
        *(Column(RAG_WORDS[r], "number", 9) for r in RAG_ORDER),
        Column("Total", "number", 8),
    )
    rows = [(g.name, *(g.counts.get(r, 0) for r in RAG_ORDER), g.total) for g in groups]
    return Table(title, columns, rows, sheet=title[:31])


def _partners_table(partners: tuple[PartnerLine, ...], stale: str) -> Table:
    columns = (
        Column("Lead partner", width=32),
        Column("Open", "number", 8),
        Column("Overdue", "number", 9),
        Column(stale, "number", 14),
    )
    rows = [(p.partner, p.open, p.overdue, p.not_updated) for p in partners]
    return Table("Lead partner accountability", columns, rows, sheet="Lead partners")


def _updates_table(updates: tuple[Update, ...], tz: ZoneInfo, *, named: bool) -> Table:
    columns = [_REF, Column("When", width=18), Column("Change", width=40), Column("Note", width=40)]
    if named:
        columns.append(Column("By", width=18))
    rows = []
    for u in updates:
        row = (u.action.ref, _moment(u.at, tz), u.what, u.note)
        rows.append((*row, u.by) if named else row)
    return Table("Updates", tuple(columns), rows, sheet="Updates")
