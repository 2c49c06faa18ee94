"""Writers for reports: the RAG chart (PNG), Word, Excel and Markdown papers."""

from zoneinfo import ZoneInfo

from handlers.papers import Paper
from handlers.priority_messages import TallyChart
from handlers.replies import ReplyFile
from handlers.reports import ChartData

FORMATS = ("docx", "xlsx", "md")
# The writers below import matplotlib, python-docx or openpyxl (slow to load): only on first use,
# so the web process starts quickly and a command never pays for a format it does not use.


def write_paper(paper: Paper, fmt: str, tz: ZoneInfo, *, image: str | None = None) -> bytes:
    """A paper as the bytes of a .docx, .xlsx or .md file (`image`: a chart file for Markdown)."""
    if fmt == "docx":
        from bot.reports.docx_writer import write_docx

        return write_docx(paper, tz)
    if fmt == "xlsx":
        from bot.reports.xlsx_writer import write_xlsx

        return write_xlsx(paper, tz)
    if fmt == "md":
        from bot.reports.markdown import write_markdown

        return write_markdown(paper, tz, image=image).encode("utf-8")
    raise ValueError(f"unknown paper format: {fmt}")


def render_file(file: ReplyFile, tz: ZoneInfo) -> bytes:
    """The bytes of a reply's file: a chart as PNG, or a paper in its format."""
    if file.format == "png" and isinstance(file.document, ChartData):
        from bot.reports.chart import render_png

        return render_png(file.document)
    if file.format == "png" and isinstance(file.document, TallyChart):
        from bot.reports.priority_chart import render_tally_png

        return render_tally_png(file.document)
    if isinstance(file.document, Paper):
        return write_paper(file.document, file.format, tz)
    raise ValueError(f"cannot render {type(file.document).__name__} as {file.format}")
