"""The App Home tab as Block Kit: the reader's own actions with controls, then the 4P dashboard."""

from zoneinfo import ZoneInfo

from bot.slack import ids as slack_ids
from bot.slack.render.blocks import (
    MAX_HOME_BLOCKS,
    RAG_DISPLAY,
    RAG_LEGEND,
    SECTION_TEXT,
    date_token,
    escape,
    item_blocks,
    render_blocks,
    truncate,
)
from handlers.register.home import Dashboard, Overview
from handlers.replies import Reply
from models.tables import Rag

RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.NONE)
RAG_DOTS = {rag: label.split()[0] for rag, label in RAG_DISPLAY.items()}
HELP = "Type `/soc help` in any channel for the commands; `/soc rag` for the full RAG summary."


def home_view(board: Dashboard | Reply, tz: ZoneInfo, notice: Reply | None = None) -> dict:
    """The Home tab: a refusal or explanation first if any, then the dashboard (≤ 100 blocks).

    Dates are in the Board's zone (`tz` only for a view made outside any Board)."""
    tz = board.tz or tz
    top = render_blocks(notice, tz, interactive=False, max_blocks=6) if notice else []
    if isinstance(board, Reply):
        blocks = top + render_blocks(board, tz, interactive=False, max_blocks=MAX_HOME_BLOCKS - 6)
        return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
    head = [*top, _section(f"*{escape(_greeting(board))}*"), _mine_heading(board)]
    tail = [*_paging(board), {"type": "divider"}, *_overview(board.overview), *_meetings(board, tz),
            _context(f"{RAG_LEGEND}. {HELP}")]  # fmt: skip
    room = MAX_HOME_BLOCKS - len(head) - len(tail)
    mine: list[dict] = []
    for position, item in enumerate(board.mine):
        blocks = item_blocks(item, position, tz, slack_ids.HOME_SOURCE)
        if len(mine) + len(blocks) > room - 1:
            mine.append(_context("…more of your actions: type `/soc action status` to see them."))
            break
        mine += blocks
    return {"type": "home", "blocks": head + mine + tail}


def rag_counts_text(counts: dict[str, int]) -> str:
    """`🔴 1 · 🟠 5 · 🔵 2` (zeros left out), or `no actions`."""
    parts = [f"{RAG_DOTS[rag]} {counts[rag]}" for rag in RAG_ORDER if counts.get(rag)]
    return " · ".join(parts) or "no actions"


def _greeting(board: Dashboard) -> str:
    return f"{board.name} · {board.partner}" if board.partner else board.name


def _mine_heading(board: Dashboard) -> dict:
    if not board.mine_total:
        return _section(f"*Your actions*\n{escape(board.mine_note)}")
    count = f"{board.mine_total} open action{'s' if board.mine_total != 1 else ''}"
    overdue = f", *{board.mine_overdue} overdue*" if board.mine_overdue else ""
    return _section(
        f"*Your partner's actions*: {count}{overdue}. Choose a RAG rating, mark one complete, "
        "add a note or change its due date right here."
    )


def _paging(board: Dashboard) -> list[dict]:
    if board.pages <= 1:
        return []
    buttons = []
    if board.page > 1:
        buttons.append(_button("◀ Previous", str(board.page - 1)))
    if board.page < board.pages:
        buttons.append(_button("Next ▶", str(board.page + 1)))
    block = {"type": "actions", "block_id": slack_ids.HOME_PAGE_BLOCK, "elements": buttons}
    return [_context(f"Page {board.page} of {board.pages}"), block]


def _overview(overview: Overview) -> list[dict]:
    total = sum(overview.totals.values())
    text = f"*Board overview*: {total} action{'s' if total != 1 else ''}"
    text += f" · {rag_counts_text(overview.totals)}"
    if overview.hidden:
        text += (
            f"\n{overview.hidden} confidential action{'s are' if overview.hidden != 1 else ' is'} "
            "not counted here: details available to authorised members."
        )
    strands = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*By 4P strand*"},
        "fields": [
            {"type": "mrkdwn", "text": f"*{strand.title()}*\n{rag_counts_text(counts)}"}
            for strand, counts in overview.strands.items()
        ],
    }
    blocks = [_section(text), strands]
    if overview.without_strand:
        blocks.append(_context(f"{overview.without_strand} without a strand set."))
    lines = ["*Key crime areas*"] + [
        f"{'★ ' if area.priority else ''}{escape(area.name)}: {rag_counts_text(area.counts)}"
        for area in overview.areas
    ]
    if overview.more_areas:
        lines.append(f"…and {overview.more_areas} more: `/soc rag` lists them all.")
    blocks += [_section(chunk) for chunk in _chunks(lines)][:4]
    return blocks


def _meetings(board: Dashboard, tz: ZoneInfo) -> list[dict]:
    if board.next_meeting is None:
        return [_section("*Next Board meeting*: none scheduled yet.")]
    text = f"*Next Board meeting*: {date_token(board.next_meeting, tz)}"
    if board.next_reminder is not None:
        days = board.days_to_reminder
        when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
        text += f"\n*Next reminder*: {when}, {date_token(board.next_reminder, tz)}"
    return [_section(text)]


def _chunks(lines: list[str]) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > SECTION_TEXT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*chunks, current] if current else chunks


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(label: str, value: str) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": label},
            "action_id": slack_ids.HOME_PAGE, "value": value}  # fmt: skip
