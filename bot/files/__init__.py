"""Writers for reports: the RAG chart (PNG), Word, Excel and Markdown papers."""

from zoneinfo import ZoneInfo

from handlers.priorities.tally import TallyChart
from handlers.replies import ReplyFile
from handlers.reports.document import Paper
from handlers.reports.snapshot import ChartData

FORMATS = ("docx", "xlsx", "md")
# The writers below import matplotlib, python-docx or openpyxl (slow to load): only on first use,
# so the web process starts quickly and a command never pays for a format it does not use.


def write_paper(paper: Paper, fmt: str, tz: ZoneInfo, *, image: str | None = None) -> bytes:
    """A paper as the bytes of a .docx, .xlsx or .md file (`image`: a chart file for Markdown)."""
    if fmt == "docx":
        from bot.files.docx_writer import write_docx

        return write_docx(paper, tz)
    if fmt == "xlsx":
        from bot.files.xlsx_writer import write_xlsx

        return write_xlsx(paper, tz)
    if fmt == "md":
        from bot.files.markdown import write_markdown

        return write_markdown(paper, tz, image=image).encode("utf-8")
    raise ValueError(f"unknown paper format: {fmt}")


def render_file(file: ReplyFile, tz: ZoneInfo) -> bytes:
    """The bytes of a reply's file: a chart as PNG, or a paper in its format."""
    if file.format == "png" and isinstance(file.document, ChartData):
        from bot.files.chart import render_png

        return render_png(file.document)
    if file.format == "png" and isinstance(file.document, TallyChart):
        from bot.files.priority_chart import render_tally_png

        return render_tally_png(file.document)
    if isinstance(file.document, Paper):
        return write_paper(file.document, file.format, tz)
    raise ValueError(f"cannot render {type(file.document).__name__} as {file.format}")
