"""Importing and exporting the register: the Annex B CSV layout and the JSON interchange format."""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from handlers.errors import CommandError
from handlers.personal_data import import_screen, record_allowed
from handlers.text.parsing import clean
from handlers.text.vocab import parse_rag, parse_ref, parse_strands, parse_yes_no
from models.actions import (
    EVERYTHING,
    areas_by_id,
    create_action,
    get_action,
    leads_of,
    list_actions,
    strands_of,
    update_action,
)
from models.boards import get_or_create_area
from models.people import create_partner, find_partner
from models.tables import Action, Board, CrimeArea, Partner, Rag

ANNEX_B_COLUMNS = (
    "Key crime area",
    "Issues",
    "Lead partner",
    "Actions",
    "Potential barriers",
    "Expected outcomes",
    "Rag rating (blue denotes completion)",
)
EXTRA_COLUMNS = ("Ref", "4P strands", "Due date", "Confidential")
CSV_COLUMNS = ("Ref", *ANNEX_B_COLUMNS, "4P strands", "Due date", "Confidential")
# Row keys used inside this module, mapped from CSV headers.
_CSV_KEYS = dict(
    zip(
        CSV_COLUMNS,
        (
            "ref",
            "area",
            "issue",
            "leads",
            "action",
            "barriers",
            "outcomes",
            "rag",
            "strands",
            "due",
            "confidential",
        ),
        strict=True,
    )
)
RAG_WORD = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green", Rag.BLUE: "Blue", Rag.NONE: ""}
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"  # a leading apostrophe: "show this cell as text"


@dataclass
class ImportResult:
    """What an import did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    areas: set[str] = field(default_factory=set)
    partners_added: list[str] = field(default_factory=list)


def load_partners(session: Session, board: Board, text: str) -> list[str]:
    """Add the partners listed in a partners CSV (Name, Aliases, Collective) that are missing."""
    added = []
    for row in csv.reader(io.StringIO(text)):
        if not row or row[0] == "Name":
            continue
        name, aliases, collective = (row + ["", ""])[:3]
        if find_partner(session=session, board_id=board.id, text=name) is None:
            alias_list = [a.strip() for a in aliases.split("|") if a.strip()]
            create_partner(
                session=session,
                board_id=board.id,
                name=name.strip(),
                aliases=alias_list,
                collective=collective.strip().casefold() == "yes",
            )
            added.append(name.strip())
    return added


def read_rows(text: str, *, json_format: bool) -> list[dict]:
    """Rows of an import file as plain dicts with this module's keys."""
    if json_format:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise CommandError(
                f"The file is not valid JSON: {err.msg} at line {err.lineno}."
            ) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CommandError("The JSON must be a list of actions (objects).")
        return data
    reader = csv.DictReader(io.StringIO(text))
    headers = {h.strip(): h for h in reader.fieldnames or []}
    if "Key crime area" not in headers:
        raise CommandError(
            "The CSV has no “Key crime area” column.",
            "Use the Annex B layout: " + ", ".join(ANNEX_B_COLUMNS),
        )
    rows = []
    for raw in reader:
        rows.append(
            {
                key: from_spreadsheet_text(raw.get(headers[col]) or "") if col in headers else ""
                for col, key in _CSV_KEYS.items()
            }
        )
    return rows


def import_rows(
    session: Session,
    board: Board,
    rows: Iterable[dict],
    now: datetime,
    *,
    allow_personal: bool = False,
) -> ImportResult:
    """Create or update actions from rows; the same file twice changes nothing the second time.

    A row whose text looks like personal data is refused, naming the row, unless `allow_personal`
    (then its action's history records that the check was overridden).
    """
    result = ImportResult()
    areas = {}
    existing = _natural_keys(session, board)
    area_name = ""
    for number, row in enumerate(rows, start=2):
        try:
            area_name = _text(row.get("area")) or area_name  # merged cells: blank continues above
            if not area_name:
                raise CommandError("no key crime area (and none above it).")
            _check_length("Key crime area", area_name, CrimeArea)
            area = areas.get(area_name) or get_or_create_area(
                session=session, board_id=board.id, name=area_name
            )
            areas[area_name] = area
            result.areas.add(area.name)
            fields = _row_fields(session, board, row, result)
            if not any(
                fields[k] for k in ("issue", "action_text", "barriers", "outcomes", "leads")
            ):
                continue  # a key crime area listed without actions yet
            texts = {label: fields[column] for label, _, column in _TEXT_COLUMNS}
            allowed = import_screen(texts, allow_personal)
            action = _import_one(session, board, area.id, row, fields, existing, now, result)
            if action.ref not in result.unchanged:
                record_allowed(session, action, allowed, now=now, actor=None)
        except CommandError as err:
            raise CommandError(f"Row {number}: {err.message}", err.hint) from None
    return result


def _row_fields(session: Session, board: Board, row: dict, result: ImportResult) -> dict:
    leads_value = row.get("leads") or []
    names = (
        leads_value
        if isinstance(leads_value, list)
        else [n for part in str(leads_value).splitlines() for n in part.split(";")]
    )
    lead_ids = []
    for name in (_text(n) for n in names):
        if not name:
            continue
        _check_length("Lead partner", name, Partner)
        partner = find_partner(session=session, board_id=board.id, text=name)
        if partner is None:
            partner = create_partner(session=session, board_id=board.id, name=name)
            result.partners_added.append(name)
        lead_ids.append(partner.id)
    strands_value = row.get("strands") or ""
    strands = parse_strands(
        ",".join(strands_value) if isinstance(strands_value, list) else str(strands_value)
    )
    due = _text(row.get("due"))
    confidential = row.get("confidential")
    for label, key, column in _TEXT_COLUMNS:
        _check_length(label, _text(row.get(key)), Action, column)
    return {
        "issue": _text(row.get("issue")),
        "action_text": _text(row.get("action")),
        "barriers": _text(row.get("barriers")),
        "outcomes": _text(row.get("outcomes")),
        "rag": parse_rag(_text(row.get("rag"))).value,
        "due_date": _parse_iso_date(due) if due else None,
        "confidential": confidential
        if isinstance(confidential, bool)
        else parse_yes_no(_text(confidential) or "no", "Confidential"),
        "leads": lead_ids,
        "strands": strands,
    }


def _import_one(session, board, area_id, row, fields, existing, now, result) -> Action:
    ref = _text(row.get("ref"))
    number = parse_ref(ref) if ref else None
    key = (area_id, fields["issue"], fields["action_text"])
    action = get_action(session=session, board_id=board.id, number=number) if number else None
    action = action or (existing.get(key) if number is None else None)
    if action is None:
        created_at = _parse_timestamp(row.get("created_at")) or now
        action = create_action(
            session=session,
            board_id=board.id,
            area_id=area_id,
            now=created_at,
            actor=None,
            number=number,
            lead_ids=fields.pop("leads"),
            strands=fields.pop("strands"),
            **fields,
        )
        updated_at = _parse_timestamp(row.get("updated_at"))
        if updated_at and updated_at > created_at:
            action.updated_at = updated_at
        existing[key] = action
        result.created.append(action.ref)
        return action
    changes = {"area_id": area_id, **fields}
    if update_action(session=session, action=action, now=now, actor=None, changes=changes):
        result.updated.append(action.ref)
    else:
        result.unchanged.append(action.ref)
    return action


def _natural_keys(session: Session, board: Board) -> dict[tuple, Action]:
    actions, _ = list_actions(session=session, board_id=board.id, visibility=EVERYTHING)
    return {(a.area_id, a.issue, a.action_text): a for a in actions}


def export_records(session: Session, board: Board) -> list[dict]:
    """Every action as a JSON-ready record (the interchange format other tools read)."""
    actions, _ = list_actions(session=session, board_id=board.id, visibility=EVERYTHING)
    ids = [a.id for a in actions]
    areas = areas_by_id(session=session, board_id=board.id)
    leads = leads_of(session=session, action_ids=ids)
    strands = strands_of(session=session, action_ids=ids)
    return [
        {
            "ref": a.ref,
            "area": areas[a.area_id].name,
            "issue": a.issue,
            "action": a.action_text,
            "barriers": a.barriers,
            "outcomes": a.outcomes,
            "leads": [p.name for p in leads[a.id]],
            "strands": sorted(strands[a.id]),
            "rag": a.rag,
            "due": a.due_date.isoformat() if a.due_date else None,
            "confidential": a.confidential,
            "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat(),
        }
        for a in actions
    ]


def export_json(records: list[dict]) -> str:
    """The records as pretty JSON."""
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def annex_b_text_cells(record: dict) -> list[str]:
    """A record's text cells in Annex B order, from the reference to the expected outcomes."""
    return [
        record["ref"],
        record["area"],
        record["issue"],
        "\n".join(record["leads"]),
        record["action"],
        record["barriers"],
        record["outcomes"],
    ]


def export_csv(records: list[dict]) -> str:
    """The records in the Annex B column layout, plus reference, strands, due date, confidential."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        cells = [
            *annex_b_text_cells(r),
            RAG_WORD[Rag(r["rag"])],
            ",".join(r["strands"]),
            r["due"] or "",
            "yes" if r["confidential"] else "",
        ]
        writer.writerow([as_spreadsheet_text(cell) for cell in cells])
    return out.getvalue()


def as_spreadsheet_text(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text: `'` put before a formula start.

    Text that already starts with `'` and would lose it on import (`'=x`, `''`) gets one too, so
    `from_spreadsheet_text` gives back exactly what was written.
    """
    if cell.startswith(FORMULA_STARTS) or from_spreadsheet_text(cell) != cell:
        return TEXT_MARK + cell
    return cell


def from_spreadsheet_text(cell: str) -> str:
    """The text behind a cell `as_spreadsheet_text` wrote: `'=x` is `=x`, `''x` is `'x`."""
    if cell.startswith(TEXT_MARK) and cell[1:].startswith((*FORMULA_STARTS, TEXT_MARK)):
        return cell[1:]
    return cell


# (CSV column, row key, Action column) of the free-text fields.
_TEXT_COLUMNS = (
    ("Issues", "issue", "issue"),
    ("Actions", "action", "action_text"),
    ("Potential barriers", "barriers", "barriers"),
    ("Expected outcomes", "outcomes", "outcomes"),
)


def _check_length(label: str, text: str, table: type, column: str = "name") -> None:
    # The column sizes are real limits on PostgreSQL; refuse here rather than fail the insert.
    limit = table.__table__.c[column].type.length
    if len(text) > limit:
        raise CommandError(
            f"{label} is too long ({len(text):,} characters; the limit is {limit:,})."
        )


def _text(value: object) -> str:
    # Stored as typed text is (control characters out): PostgreSQL refuses NUL in text columns.
    return clean(str(value)) if value is not None else ""


def _parse_iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"due date “{text}” is not YYYY-MM-DD.") from None


def _parse_timestamp(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise CommandError(f"timestamp “{value}” is not ISO 8601.") from None
    return parsed if parsed.tzinfo else None
