"""The papers as files: Word, Excel and Markdown content, colours, metadata, redaction, the CLI."""

import io
import re

import pytest
import time_machine
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlmodel import Session

from bot.cli.main import main
from bot.files import write_paper
from bot.files.palette import FILL
from handlers.register.import_export import ANNEX_B_COLUMNS, CSV_COLUMNS
from handlers.reports.document import Column, Paper, Table
from models.boards import get_board
from tests.code_fixtures import imported_modules, python_files
from tests.conftest import LONDON
from tests.report_scenario import (
    AFTER_Q2,
    BEFORE_JUNE_MEETING,
    MARKER,
    PEOPLE,
    SECRET_TITLE,
    assert_nothing_private,
    file_texts,
)

pytest_plugins = ("tests.report_fixtures",)

BOARD = "Serious and Organised Crime Partnership Board"
RAG_HEADER = ANNEX_B_COLUMNS[-1]


@pytest.fixture
def cli(history, database_url, monkeypatch, tmp_path):
    """Run `soc-bot` against the history Board at a moment; returns (exit code, path written)."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(args: list[str], *, at=AFTER_Q2, name: str | None = None):
        output = tmp_path / name if name else None
        with time_machine.travel(at, tick=False):
            code = main([*args, *(["--output", str(output)] if output else [])])
        return code, output

    return run


def docx_tables(data: bytes) -> list[list[list[str]]]:
    """Every table of a .docx as rows of cell texts."""
    document = Document(io.BytesIO(data))
    return [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]


def docx_fills(data: bytes) -> dict[str, set[str]]:
    """Cell text -> the fills of the cells showing it."""
    fills: dict[str, set[str]] = {}
    for table in Document(io.BytesIO(data)).tables:
        for row in table.rows:
            for cell in row.cells:
                shading = cell._tc.tcPr.find(qn("w:shd")) if cell._tc.tcPr is not None else None
                if shading is not None:
                    fills.setdefault(cell.text, set()).add(shading.get(qn("w:fill")))
    return fills


# --- the action table in the Annex B layout ----------------------------------------------------


def test_export_xlsx_is_the_annex_b_table_with_coloured_rag_cells(cli):
    code, path = cli(["export", "--format", "xlsx"], name="table.xlsx")
    assert code == 0
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Action table"]
    sheet = workbook["Action table"]
    assert sheet["A1"].value.startswith("Serious and Organised Crime – Action Table as at")
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(tuple(CSV_COLUMNS))
    data = [r for r in rows[header + 1 :] if r[0] and str(r[0]).startswith("A-")]
    assert [r[0] for r in data] == [f"A-{n}" for n in range(1, 13)]
    a4 = data[3]
    assert a4[3] == "Chairman and Deputy Chairman" and a4[7] == "Blue"
    rag_column = CSV_COLUMNS.index(RAG_HEADER) + 1
    by_word = {}
    for row in sheet.iter_rows(min_row=header + 2, max_row=header + 1 + len(data)):
        cell = row[rag_column - 1]
        by_word.setdefault(cell.value, set()).add(cell.fill.fgColor.rgb[-6:])
    assert by_word == {
        "Amber": {FILL["amber"]},
        "Blue": {FILL["blue"]},
        "Red": {FILL["red"]},
        "Not rated": {FILL["none"]},
    }
    assert any(r[0] == "Key" for r in rows), "a legend follows the table"
    assert workbook.properties.creator == BOARD and workbook.properties.lastModifiedBy == BOARD


def test_export_docx_has_the_table_colours_and_a_legend(cli):
    code, path = cli(["export", "--format", "docx"], name="table.docx")
    assert code == 0
    data = path.read_bytes()
    table, legend = docx_tables(data)
    assert table[0] == list(CSV_COLUMNS)
    assert len(table) == 13
    assert [row[CSV_COLUMNS.index(RAG_HEADER)] for row in table[1:4]] == ["Red", "Amber", "Amber"]
    fills = docx_fills(data)
    assert fills["Amber"] == {FILL["amber"]} and fills["Red"] == {FILL["red"]}
    assert legend == [["Red", "Amber", "Green", "Blue", "Not rated"]]
    props = Document(io.BytesIO(data)).core_properties
    assert (props.author, props.last_modified_by) == (BOARD, BOARD)
    assert props.title.startswith("Serious and Organised Crime – Action Table")


def test_binary_export_needs_an_output_file(cli, capsys):
    code, _ = cli(["export", "--format", "xlsx"])
    assert code == 1
    err = capsys.readouterr().err
    assert "binary" in err and "--output" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "csv", "json"])
def test_public_export_has_no_confidential_text_or_names(cli, fmt):
    code, path = cli(["export", "--format", fmt, "--public"], name=f"public.{fmt}")
    assert code == 0
    data = path.read_bytes()
    text = file_texts(data) if fmt in ("xlsx", "docx") else data.decode()
    assert_nothing_private(text)
    assert "Raising awareness" in text  # the rest is there
    full_code, full = cli(["export", "--format", fmt], name=f"full.{fmt}")
    full_text = file_texts(full.read_bytes()) if fmt in ("xlsx", "docx") else full.read_text()
    assert full_code == 0 and MARKER in full_text


# --- the quarterly report ----------------------------------------------------------------------


def test_quarterly_report_docx(cli):
    code, path = cli(["report", "quarterly", "--quarter", "2027Q2"], name="q2.docx")
    assert code == 0
    data = path.read_bytes()
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Quarterly activity report: 2027 Q2"
    assert "Figures as at the end of 2027 Q2 (Wed 30 Jun 2027)." in paragraphs
    assert any(p.startswith("Not for publication") for p in paragraphs)
    for heading in ("Summary", "Exceptions", "Lead partner accountability"):
        assert heading in paragraphs
    tables = docx_tables(data)
    counts = tables[0]
    assert counts[0] == ["Rating", "End of 2027 Q1", "2027 Q2", "Change"]
    assert counts[1] == ["Red", "0", "2", "+2"] and counts[-1] == ["Total", "11", "12", "+1"]
    completed = next(t for t in tables if t[0][-1] == "Outcome / latest note")
    assert [r[0] for r in completed[1:]] == ["A-9", "A-11"]
    red = next(t for t in tables if t[0][-2:] == ["Potential barriers", "Latest note"])
    assert red[1][0] == "A-1" and red[1][5] == "Analyst post vacant"
    assert red[1][6].startswith("Rob Ellis met Jane Anson")
    assert red[2][1] == f"[Confidential] {SECRET_TITLE}"
    assert len(document.inline_shapes) == 1  # the chart
    assert document.core_properties.author == BOARD


def test_quarterly_report_xlsx_has_a_sheet_per_table_and_the_chart(cli):
    code, path = cli(
        ["report", "quarterly", "--quarter", "2027Q2", "--format", "xlsx"], name="q2.xlsx"
    )
    assert code == 0
    workbook = load_workbook(path)
    assert workbook.sheetnames[:2] == ["Summary", "RAG ratings"]
    assert {"Red", "Overdue", "Lead partners", "By key crime area"} <= set(workbook.sheetnames)
    assert len(workbook["Summary"]._images) == 1
    red = [r for r in workbook["Red"].iter_rows(values_only=True) if r[0] in ("A-1", "A-12")]
    assert [r[0] for r in red] == ["A-1", "A-12"] and red[0][3] == "Red"
    cell = next(c for row in workbook["Red"].iter_rows() for c in row if c.value == "Red")
    assert cell.fill.fgColor.rgb.endswith(FILL["red"])
    partners = {r[0]: r[1:4] for r in workbook["Lead partners"].iter_rows(values_only=True)}
    assert partners["City of London Police"] == (3, 1, 0)


def test_quarterly_report_markdown_links_the_chart_written_beside_it(cli, tmp_path):
    code, path = cli(["report", "quarterly", "--quarter", "2027Q2", "--format", "md"], name="q2.md")
    assert code == 0
    text = path.read_text()
    assert text.startswith("# Quarterly activity report: 2027 Q2")
    assert "(q2-chart.png)" in text
    assert (tmp_path / "q2-chart.png").read_bytes().startswith(b"\x89PNG")
    assert "| A-1 | Ensure the Board" not in text  # titles come from the register
    assert "| A-9 |" in text and "🔴 Red" in text


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "md"])
def test_public_quarterly_report_never_leaks(cli, fmt, tmp_path):
    code, path = cli(
        ["report", "quarterly", "--quarter", "2027Q2", "--format", fmt, "--public"],
        name=f"public.{fmt}",
    )
    assert code == 0
    data = path.read_bytes()
    text = file_texts(data) if fmt != "md" else data.decode()
    assert_nothing_private(text)
    assert "1 confidential action is withheld" in text
    assert "The register holds 12 actions, 1 of them confidential and withheld here" in text
    assert "[name removed] met [name removed]" in text
    for png in tmp_path.glob("*.png"):
        assert MARKER.encode() not in png.read_bytes()


def test_quarterly_report_default_is_the_last_complete_quarter(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _ = cli(["report", "quarterly"])
    assert code == 0
    assert (tmp_path / "quarterly-report-2027-q2.docx").exists()


def test_report_errors_are_one_line(cli, capsys):
    code, _ = cli(["report", "quarterly", "--quarter", "2027Q4"])
    err = capsys.readouterr().err
    assert code == 1 and "2027 Q4 has not started yet" in err and "Traceback" not in err
    code, _ = cli(["report", "pack", "--meeting", "9/6/2027"], at=BEFORE_JUNE_MEETING)
    err = capsys.readouterr().err
    assert code == 1 and "No Board meeting is recorded on Wed 9 Jun 2027" in err
    code, _ = cli(["report", "pack", "--meeting", "31/02/2027"], at=BEFORE_JUNE_MEETING)
    assert code == 1 and "Traceback" not in capsys.readouterr().err


# --- the meeting pack and the chart ------------------------------------------------------------


def test_meeting_pack_docx_asks_the_board_to_agree_closures(cli):
    code, path = cli(
        ["report", "pack", "--meeting", "8/6/2027"], at=BEFORE_JUNE_MEETING, name="pack.docx"
    )
    assert code == 0
    data = path.read_bytes()
    paragraphs = [p.text for p in Document(io.BytesIO(data)).paragraphs]
    assert paragraphs[0] == "Meeting pack: Board meeting, Tue 8 Jun 2027 10:00"
    assert "For decision: actions proposed for closure" in paragraphs
    tables = docx_tables(data)
    closure = next(t for t in tables if t[0][-1] == "Outcome / latest note")
    assert [r[0] for r in closure[1:]] == ["A-11"]
    assert closure[1][-1].startswith("Bag campaign launched")
    updates = next(t for t in tables if t[0][:3] == ["Ref", "When", "Change"])
    assert [r[0] for r in updates[1:]] == ["A-11", "A-7"]
    assert updates[0][-1] == "By" and updates[2][-1] == "Jane Anson"


def test_meeting_pack_defaults_to_the_next_meeting_and_public_names_no_one(cli, tmp_path):
    code, path = cli(
        ["report", "pack", "--format", "md", "--public"], at=BEFORE_JUNE_MEETING, name="pack.md"
    )
    assert code == 0
    text = path.read_text()
    assert "# Meeting pack: Board meeting, Tue 8 Jun 2027 10:00" in text
    assert_nothing_private(text)
    assert "| By |" not in text


def test_report_chart_writes_a_png(cli):
    code, path = cli(["report", "chart", "--public"], name="rag.png")
    assert code == 0 and path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# --- writers -----------------------------------------------------------------------------------


def one_table_paper(title: str, *cells: str) -> Paper:
    """A paper holding one single-column table."""
    table = Table("T", (Column("Issue"),), [(cell,) for cell in cells])
    return Paper(title, "", BOARD, "t", public=False, blocks=[table])


def test_text_that_looks_like_a_formula_stays_text_in_excel():
    paper = one_table_paper("Title", '=HYPERLINK("http://evil","x")')
    workbook = load_workbook(io.BytesIO(write_paper(paper, "xlsx", LONDON)))
    cell = next(
        c
        for row in workbook.worksheets[0].iter_rows()
        for c in row
        if str(c.value).startswith("=HYPERLINK")
    )
    assert cell.data_type == "s"


def test_markdown_escapes_pipes_and_markup():
    text = write_paper(one_table_paper("A *bold* title", "a | b\nnext <script>"), "md", LONDON)
    assert "# A \\*bold\\* title" in text.decode()
    assert "| a \\| b<br>next \\<script\\> |" in text.decode()


def test_no_person_is_named_in_any_public_file_metadata(cli):
    for fmt in ("docx", "xlsx"):
        code, path = cli(
            ["report", "quarterly", "--quarter", "2027Q2", "--format", fmt, "--public"],
            name=f"m.{fmt}",
        )
        parts = file_texts(path.read_bytes())
        core = re.search(r"<cp:coreProperties.*?</cp:coreProperties>", parts, re.S).group(0)
        assert re.search(f"<dc:creator[^>]*>{BOARD}</dc:creator>", core)
        for name in PEOPLE:
            assert name not in core


def test_handlers_never_import_the_file_libraries():
    # Papers are data in handlers/; only bot/ draws them (the same direction the layers keep).
    writers = ("matplotlib", "docx", "openpyxl", "slack_sdk", "slack_bolt", "bot")
    bad = [
        f"{path.name} imports {name}"
        for path in python_files("handlers")
        for name in imported_modules(path)
        if name.split(".")[0] in writers
    ]
    assert bad == []


def test_papers_from_the_command_line_are_in_the_boards_time_zone(cli, history, settings):
    with Session(history) as session:
        board = get_board(session=session, slug=settings.board_slug)
        board.timezone = "Asia/Tokyo"  # SOC_TIMEZONE stays Europe/London
        session.add(board)
        session.commit()
    code, path = cli(["report", "pack", "--format", "md"], at=BEFORE_JUNE_MEETING, name="p.md")
    assert code == 0
    # 12:00 UTC is 21:00 in Tokyo (20:00 would be summer time in London).
    assert "Figures as at Mon 7 Jun 2027 21:00." in path.read_text()
