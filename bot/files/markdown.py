"""Papers as Markdown: headings, pipe tables, RAG as emoji and word (never colour alone)."""

from datetime import date
from zoneinfo import ZoneInfo

from bot.files.palette import EMOJI, as_rag
from handlers.reports.document import LEGEND, Figure, Heading, Paper, Paragraph, Table, rag_word
from handlers.text.dates import format_uk_date

NO_IMAGE = "(The chart is in the Word and Excel versions; its figures are in the tables below.)"


def write_markdown(paper: Paper, tz: ZoneInfo, *, image: str | None = None) -> str:
    """The paper as Markdown text; `image` is the chart's file name, if one is written beside it."""
    out = [f"# {_inline(paper.title)}", "", f"*{_inline(paper.subtitle)}*", ""]
    for block in paper.blocks:
        if isinstance(block, Heading):
            out += [f"## {_inline(block.text)}", ""]
        elif isinstance(block, Paragraph):
            out += [_inline(block.text), ""]
        elif isinstance(block, Table):
            out += _table(block)
        elif isinstance(block, Figure):
            picture = f"![{_inline(block.caption)}]({image})" if image else NO_IMAGE
            out += [picture, "", f"*{_inline(block.caption)}*", ""]
    out += ["---", "", _inline(LEGEND), ""]
    return "\n".join(out)


def _table(table: Table) -> list[str]:
    lines = [f"### {_inline(table.title)}", ""]
    if not table.rows:
        return [*lines, "None.", ""]
    lines.append("| " + " | ".join(_cell(c.name) for c in table.columns) + " |")
    lines.append(
        "|" + "|".join("---:" if c.kind == "number" else "---" for c in table.columns) + "|"
    )
    for row in table.rows:
        cells = [
            _rag(value) if column.kind == "rag" else _cell(value)
            for value, column in zip(row, table.columns, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for note in table.notes:
        lines += [f"*{_inline(note)}*", ""]
    return lines


def _rag(value: object) -> str:
    rag = as_rag(value)
    return f"{EMOJI[rag]} {rag_word(rag)}" if rag is not None else _cell(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return format_uk_date(value)
    return _inline(str(value)).replace("|", "\\|").replace("\n", "<br>")


def _inline(text: str) -> str:
    # Stored text is plain: keep it from turning into markup (emphasis, code, HTML, links).
    for char in "\\`*_<>#":
        text = text.replace(char, "\\" + char)
    return text.replace("](", "]\\(")
