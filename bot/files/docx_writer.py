"""Papers as Word documents (python-docx): landscape, RAG cells filled and worded, a legend."""

import io
from datetime import date
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell

from bot.files.chart import render_png
from bot.files.palette import FILL, INK, as_rag
from handlers.register.summary import RAG_ORDER
from handlers.reports.document import LEGEND, Figure, Heading, Paper, Paragraph, Table, rag_word
from handlers.text.dates import format_uk_date

TABLE_FONT = Pt(8)
CHART_WIDTH = Cm(22)


def write_docx(paper: Paper, tz: ZoneInfo) -> bytes:
    """The paper as .docx bytes; the metadata names the Board, never a person."""
    document = Document()
    _set_properties(document, paper)
    _landscape(document)
    document.add_heading(paper.title, level=0)
    document.add_paragraph(paper.subtitle).runs[0].italic = True
    for block in paper.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=1)
        elif isinstance(block, Paragraph):
            document.add_paragraph(block.text)
        elif isinstance(block, Table):
            _add_table(document, block)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(render_png(block.chart)), width=CHART_WIDTH)
            document.add_paragraph(block.caption).runs[0].italic = True
    _add_legend(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_properties(document, paper: Paper) -> None:
    # python-docx's template says "python-docx" and may carry other defaults: set every field.
    props = document.core_properties
    props.author = props.last_modified_by = paper.author
    props.title = paper.title
    props.subject = paper.subtitle
    props.comments = props.keywords = props.category = ""
    props.identifier = props.language = props.version = ""
    props.content_status = "Public" if paper.public else "Not for publication"


def _landscape(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))


def _add_table(document, table: Table) -> None:
    document.add_paragraph().add_run(table.title).bold = True
    if not table.rows:
        document.add_paragraph("None.")
    else:
        grid = document.add_table(rows=1, cols=len(table.columns))
        grid.style = "Table Grid"
        for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
            _write(cell, column.name, bold=True)
            _shade(cell, "E7E6E6")
        _repeat_header(grid.rows[0])
        for row in table.rows:
            cells = grid.add_row().cells
            for cell, column, value in zip(cells, table.columns, row, strict=True):
                rag = as_rag(value) if column.kind == "rag" else None
                if rag is not None:
                    _write(cell, rag_word(rag), colour=INK[rag])
                    _shade(cell, FILL[rag])
                else:
                    _write(cell, _text(value))
    for note in table.notes:
        document.add_paragraph(note).runs[0].italic = True


def _add_legend(document) -> None:
    document.add_paragraph().add_run("Key").bold = True
    grid = document.add_table(rows=1, cols=len(RAG_ORDER))
    grid.style = "Table Grid"
    for cell, rag in zip(grid.rows[0].cells, RAG_ORDER, strict=True):
        _write(cell, rag_word(rag), colour=INK[rag])
        _shade(cell, FILL[rag])
    document.add_paragraph(LEGEND)


def _write(cell: _Cell, text: str, *, bold: bool = False, colour: str | None = None) -> None:
    paragraph = cell.paragraphs[0]
    lines = text.split("\n")
    for number, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.font.size = TABLE_FONT
        run.bold = bold
        if colour:
            run.font.color.rgb = RGBColor.from_string(colour)
        if number < len(lines) - 1:
            run.add_break()


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row) -> None:
    # The header row repeats on every page of a long table.
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return format_uk_date(value)
    return str(value)
