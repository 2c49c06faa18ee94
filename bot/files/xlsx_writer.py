"""Papers as Excel workbooks (openpyxl): a summary sheet, a sheet per table, RAG cells filled."""

import io
from datetime import date
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.files.chart import draw_chart
from bot.files.palette import FILL, INK, as_rag
from handlers.register.import_export import FORMULA_STARTS
from handlers.register.summary import RAG_ORDER
from handlers.reports.document import LEGEND, Figure, Heading, Paper, Paragraph, Table, rag_word

HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")
WRAP = Alignment(wrap_text=True, vertical="top")
SUMMARY_WIDTH = 120
SHEET_NAME = 31  # Excel's limit
FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_xlsx(paper: Paper, tz: ZoneInfo) -> bytes:
    """The paper as .xlsx bytes; the metadata names the Board, never a person."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    _set_properties(workbook, paper)
    names = _sheet_names(paper.tables())
    if any(isinstance(block, Paragraph | Figure) for block in paper.blocks):
        _summary_sheet(workbook, paper, names)
    for table in paper.tables():
        _table_sheet(workbook.create_sheet(names[id(table)]), paper, table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set_properties(workbook: Workbook, paper: Paper) -> None:
    props = workbook.properties
    props.creator = props.lastModifiedBy = paper.author
    props.title = paper.title
    props.subject = paper.subtitle
    props.description = props.keywords = props.category = ""
    props.contentStatus = "Public" if paper.public else "Not for publication"


def _summary_sheet(workbook: Workbook, paper: Paper, names: dict[int, str]) -> None:
    sheet = workbook.create_sheet("Summary")
    sheet.column_dimensions["A"].width = SUMMARY_WIDTH
    _append(sheet, [paper.title])
    sheet["A1"].font = Font(bold=True, size=14)
    _append(sheet, [paper.subtitle])
    sheet["A2"].font = Font(italic=True)
    for block in paper.blocks:
        if isinstance(block, Heading):
            sheet.append([])
            _append(sheet, [block.text])
            sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        elif isinstance(block, Paragraph):
            _append(sheet, [block.text])
            sheet.cell(sheet.max_row, 1).alignment = WRAP
        elif isinstance(block, Table):
            _append(sheet, [f"{block.title}: see the “{names[id(block)]}” sheet."])
        elif isinstance(block, Figure):
            drawn = draw_chart(block.chart)
            _append(sheet, [block.caption])
            image = Image(io.BytesIO(drawn.png))
            image.width, image.height = drawn.width * 0.8, drawn.height * 0.8
            sheet.add_image(image, f"A{sheet.max_row + 1}")
            # Leave room below the picture (rows are about 20 pixels high).
            for _ in range(round(image.height / 20) + 1):
                sheet.append([])


def _table_sheet(sheet: Worksheet, paper: Paper, table: Table) -> None:
    _append(sheet, [paper.title if table.title == table.sheet else f"{paper.title}: {table.title}"])
    sheet["A1"].font = Font(bold=True, size=13)
    _append(sheet, [paper.subtitle])
    sheet["A2"].font = Font(italic=True)
    sheet.append([])
    header = sheet.max_row + 1
    _append(sheet, [column.name for column in table.columns])
    for index, column in enumerate(table.columns, start=1):
        cell = sheet.cell(header, index)
        cell.font, cell.fill, cell.alignment = Font(bold=True), HEADER_FILL, WRAP
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row in table.rows:
        _append(sheet, [_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        for index, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = sheet.cell(sheet.max_row, index)
            cell.alignment = WRAP
            rag = as_rag(value) if column.kind == "rag" else None
            if rag is not None:
                cell.fill = PatternFill("solid", fgColor=FILL[rag])
                cell.font = Font(color=INK[rag], bold=True)
            elif column.kind == "date" and value is not None:
                cell.number_format = "dd/mm/yyyy"
    if not table.rows:
        sheet.append(["None."])
    else:
        sheet.freeze_panes = sheet.cell(header + 1, 1)
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A{header}:{last}{sheet.max_row}"
    for note in table.notes:
        _append(sheet, [note])
        sheet.cell(sheet.max_row, 1).font = Font(italic=True)
    _legend(sheet)


def _legend(sheet: Worksheet) -> None:
    sheet.append([])
    sheet.append(["Key", *(rag_word(rag) for rag in RAG_ORDER)])
    row = sheet.max_row
    sheet.cell(row, 1).font = Font(bold=True)
    for index, rag in enumerate(RAG_ORDER, start=2):
        cell = sheet.cell(row, index)
        cell.fill = PatternFill("solid", fgColor=FILL[rag])
        cell.font = Font(color=INK[rag], bold=True)
    sheet.append([LEGEND])


def _sheet_names(tables: list[Table]) -> dict[int, str]:
    names: dict[int, str] = {}
    taken = {"Summary"}
    for table in tables:
        base = (table.sheet or table.title).translate(FORBIDDEN).strip()[:SHEET_NAME] or "Table"
        name, number = base, 2
        while name in taken:
            suffix = f" ({number})"
            name, number = base[: SHEET_NAME - len(suffix)] + suffix, number + 1
        taken.add(name)
        names[id(table)] = name
    return names


def _append(sheet: Worksheet, values: list[object]) -> None:
    """Append a row of values, text always stored as text."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        # Text typed as "=..." must never become a formula (spreadsheet injection).
        if cell.data_type == "f":
            cell.data_type = "s"
        # Excel's "'" mark: text like "=..." or "-5 arrests" stays text when someone edits it.
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True


def _value(value: object, kind: str) -> object:
    if kind == "rag":
        return rag_word(str(value)) if value is not None else ""
    if isinstance(value, date) or value is None or isinstance(value, int):
        return value
    return str(value)
