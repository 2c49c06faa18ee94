"""Reply objects as plain text: the console, the CLI and Slack's notification fallback."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.context import CONSOLE, Surface
from handlers.replies import Fact, Item, Mention, Reply, Value
from handlers.text.dates import format_uk_date
from models.tables import Rag

RAG_LEGEND = "RAG: Red · Amber (the seed's “Orange”) · Green · Blue = complete · Not rated"
RAG_TAGS = {
    Rag.RED: "RED",
    Rag.AMBER: "AMBER",
    Rag.GREEN: "GREEN",
    Rag.BLUE: "BLUE",
    Rag.NONE: "NOT RATED",
}


def format_value(value: Value, tz: ZoneInfo) -> str:
    """A fact's value as text, dates in the Board's time zone."""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%a %d %b %Y %H:%M")
    if isinstance(value, date):
        return format_uk_date(value)
    if isinstance(value, Mention):
        return value.name
    return "" if value is None else str(value)


def format_fact(fact: Fact, tz: ZoneInfo) -> str:
    """`label: value`, prefixed with the moment for dated facts (history)."""
    when = format_value(fact.at, tz) + " · " if fact.at else ""
    return f"{when}{fact.label}: {format_value(fact.value, tz)}"


def render_text(reply: Reply, tz: ZoneInfo, surface: Surface = CONSOLE) -> str:
    """The whole reply as plain text lines; paging commands as typed on `surface`.

    Times are shown in the reply's Board's zone; `tz` only for a reply made outside any Board.
    """
    tz = reply.tz or tz
    lines = [("⚠ " if reply.error else "") + reply.title]
    for extra in (reply.text, reply.notice):
        if extra:
            lines.append(extra)
    for item in reply.items:
        lines.extend(_item_lines(item, tz))
    for section in reply.sections:
        lines.append("")
        lines.append(f"== {section.heading} ==")
        lines.extend("  " + format_fact(f, tz) for f in section.facts)
        lines.extend("  " + line for line in section.lines)
        for item in section.items:
            lines.extend(_item_lines(item, tz))
    if reply.page:
        page = reply.page
        nav = []
        if page.number > 1:
            nav.append(f"previous: `{surface.typed(f'{page.command} page {page.number - 1}')}`")
        if page.number < page.pages:
            nav.append(f"next: `{surface.typed(f'{page.command} page {page.number + 1}')}`")
        lines.append(f"Page {page.number} of {page.pages} ({'; '.join(nav)})")
    if reply.hint:
        lines.append(reply.hint)
    if reply.rag_legend:
        lines.append(RAG_LEGEND)
    return "\n".join(lines)


def _item_lines(item: Item, tz: ZoneInfo) -> list[str]:
    tag = f"[{RAG_TAGS[Rag(item.rag)]}] " if item.rag else ""
    ref = f"{item.ref} " if item.ref else ""
    lines = [f"• {ref}{tag}{item.title}"]
    if item.facts:
        lines.append("    " + " · ".join(format_fact(f, tz) for f in item.facts))
    for body_line in item.body.splitlines():
        lines.append("    " + body_line)
    return lines
