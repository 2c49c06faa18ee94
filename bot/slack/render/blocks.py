"""Reply objects as Slack Block Kit: escaped, dates localised per reader, within Slack's limits."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.plain_text import format_value, render_text
from bot.rag_marks import RAG_DISPLAY, RAG_LEGEND
from bot.slack import ids as slack_ids
from handlers.priorities.forms import ANSWER
from handlers.replies import Fact, Item, Mention, Operation, Page, Reply, Section, Value
from models.tables import Rag

MAX_BLOCKS = 50  # a message
MAX_HOME_BLOCKS = 100  # the App Home tab
SECTION_TEXT = 3000
FIELD_TEXT = 2000
CONTEXT_TEXT = 2000
MAX_FIELDS = 10
BUTTON_VALUE = 2000
FALLBACK_TEXT = 3000  # the notification text; Slack accepts more but shows far less

# The RAG select offers these; Blue opens the "Mark complete" form, as closing needs the outcome.
RAG_CHOICES = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)
RAG_CHOICE_LABELS = {**RAG_DISPLAY, Rag.BLUE: "🔵 Blue (complete)…"}
CONTROL_LABELS = {"rag": "Update RAG", "done": "Mark complete", "note": "Add note",
                  "due": "Change due date", "edit": "Edit…"}  # fmt: skip
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# The reply-level operations this renderer draws, each as a button in its own actions block.
OPERATION_IDS = {ANSWER: (slack_ids.ANSWER_BLOCK, slack_ids.ANSWER_BUTTON)}


def escape(text: str) -> str:
    """Slack's escaping: only &, < and >, so stored text can neither ping nor fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of typed text (`&amp;` back to `&`), as the handlers want it raw."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """Cut escaped text to `limit` characters without splitting an entity or a `<…>` token."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # After escaping, every `<` opens a token we made and every `&` opens an entity.
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    if cut.rfind("&") > cut.rfind(";"):
        cut = cut[: cut.rfind("&")]
    return cut + "…"


def mention(person: Mention) -> str:
    """`<@U…>` from their stored Slack id; without one (or a malformed one), their name."""
    user_id = person.on("slack")
    if _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(person.name)


def date_token(value: date | datetime, tz: ZoneInfo) -> str:
    """`<!date^…>` so each reader sees the date in their own format and time zone."""
    fallback = escape(format_value(value, tz))
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    # Midday in the Board's zone keeps a calendar date on the same day for nearly every reader.
    noon = datetime.combine(value, time(12), tz)
    return f"<!date^{int(noon.timestamp())}^{{date_short_pretty}}|{fallback}>"


def mrkdwn_value(value: Value, tz: ZoneInfo) -> str:
    """A fact's value as escaped mrkdwn: mentions and dates as Slack tokens."""
    if isinstance(value, Mention):
        return mention(value)
    if isinstance(value, date):
        return date_token(value, tz)
    return escape(format_value(value, tz))


def rag_label(rag: str) -> str:
    """Emoji and word for a RAG rating."""
    try:
        return RAG_DISPLAY[Rag(rag)]
    except ValueError:
        return escape(rag)


def render_blocks(
    reply: Reply,
    tz: ZoneInfo,
    *,
    interactive: bool = True,
    max_blocks: int = MAX_BLOCKS,
    source: str | None = None,
) -> list[dict]:
    """The reply as Block Kit blocks; over `max_blocks`, trailing entries become a `…more` note.

    Item controls remember `source` (default: the reply's own), the command text that redraws it.
    Times are in the reply's Board's zone (`tz` only for a reply made outside any Board).
    """
    tz = reply.tz or tz
    source = reply.source if source is None else source
    mark = "⚠️ " if reply.error else ""
    head = [_section(f"*{mark}{escape(reply.title)}*")]
    if reply.text:
        head.append(_section(escape(reply.text)))
    if reply.notice:
        head.append(_context(escape(reply.notice)))
    groups: list[list[dict]] = []
    counter = iter(range(10_000))
    groups.extend(
        _item_blocks(item, next(counter), tz, interactive, source) for item in reply.items
    )
    for section in reply.sections:
        groups.extend(_section_groups(section, tz, interactive, counter, source))
    tail = _page_blocks(reply.page, interactive) if reply.page else []
    if reply.hint:
        tail.append(_context(escape(reply.hint)))
    if reply.rag_legend:
        tail.append(_context(RAG_LEGEND))
    if interactive:
        tail.extend(operation_blocks(reply.operations))
    return head + _fit(groups, max_blocks - len(head) - len(tail), max_blocks) + tail


def slack_message(reply: Reply, tz: ZoneInfo) -> dict:
    """A whole message: blocks, the escaped plain-text fallback and who sees it."""
    return {
        "response_type": reply.audience.value,
        "text": fallback_text(reply, tz),
        "blocks": render_blocks(reply, tz),
    }


def fallback_text(reply: Reply, tz: ZoneInfo) -> str:
    """The plain-text rendering, escaped: notifications and screen readers use it."""
    return truncate(escape(render_text(reply, tz)), FALLBACK_TEXT)


def item_blocks(item: Item, position: int, tz: ZoneInfo, source: str) -> list[dict]:
    """One item's blocks with its controls, e.g. to redraw it inside a message after a change."""
    return _item_blocks(item, position, tz, True, source)


def replace_item(blocks: list[dict], ref: str, new: list[dict]) -> list[dict] | None:
    """`blocks` with the item `ref`'s blocks swapped for `new`; None if the item is not there."""
    found = [i for i, b in enumerate(blocks) if slack_ids.block_ref(b.get("block_id", "")) == ref]
    if not found:
        return None
    kept = [block for i, block in enumerate(blocks) if i not in found]
    return kept[: found[0]] + new + kept[found[0] :]


def operation_blocks(operations: list[Operation]) -> list[dict]:
    """A reply's own operations as primary buttons (one not drawn here is left to the hint)."""
    blocks = []
    for operation in operations:
        ids = OPERATION_IDS.get(operation.name)
        if ids is None or len(operation.target) > BUTTON_VALUE:
            continue
        button = {"type": "button", "action_id": ids[1], "style": "primary",
                  "text": {"type": "plain_text", "text": operation.label},
                  "value": operation.target}  # fmt: skip
        blocks.append({"type": "actions", "block_id": ids[0], "elements": [button]})
    return blocks


def _fit(groups: list[list[dict]], room: int, limit: int = MAX_BLOCKS) -> list[dict]:
    if sum(len(g) for g in groups) <= room:
        return [block for group in groups for block in group]
    kept: list[dict] = []
    for shown, group in enumerate(groups):
        if len(kept) + len(group) > room - 1:
            hidden = len(groups) - shown
            note = (f"…{hidden} more not shown here: Slack allows {limit} blocks here. "
                    "Narrow the command to see the rest.")  # fmt: skip
            kept.append(_context(note))
            break
        kept.extend(group)
    return kept


def _item_blocks(
    item: Item, index: int, tz: ZoneInfo, interactive: bool, source: str = ""
) -> list[dict]:
    label = " · ".join(
        part for part in (f"*{escape(item.ref)}*" if item.ref else "",
                          rag_label(item.rag) if item.rag else "") if part
    )  # fmt: skip
    block = _section((label + "\n" if label else "") + escape(item.title))
    if item.facts:
        block["fields"] = [_field(fact, tz) for fact in item.facts[:MAX_FIELDS]]
    blocks = [block]
    extra = [_fact_line(fact, tz) for fact in item.facts[MAX_FIELDS:]]
    blocks.extend(_section(chunk) for chunk in _chunks(extra, SECTION_TEXT))
    if item.body:
        blocks.append(_section(escape(item.body)))
    if item.ref:
        for n, content in enumerate(blocks):
            content["block_id"] = slack_ids.item_block_id(item.ref, index, n)
    if interactive and item.ref and item.operations:
        controls = _controls(item)
        if controls:
            block_id = slack_ids.actions_block_id(_target(item), index, source)
            blocks.append({"type": "actions", "block_id": block_id, "elements": controls})
    return blocks


def _controls(item: Item) -> list[dict]:
    """The RAG select, Mark complete, Add note, the due-date picker and Edit…, as permitted."""
    target, ops, controls = _target(item), item.operations, []
    if "update" in ops:
        options = [_option(RAG_CHOICE_LABELS[rag], f"{target}|{rag.value}") for rag in RAG_CHOICES]
        select = {"type": "static_select", "action_id": slack_ids.OPERATION_RAG}
        controls.append(
            {**select, "placeholder": _plain(CONTROL_LABELS["rag"]), "options": options}
        )
    if "done" in ops:
        controls.append(_button(CONTROL_LABELS["done"], slack_ids.OPERATION_DONE, target))
    if "note" in ops:
        controls.append(_button(CONTROL_LABELS["note"], slack_ids.OPERATION_NOTE, target))
    if "update" in ops:
        controls.append({"type": "datepicker", "action_id": slack_ids.OPERATION_DUE,
                         "placeholder": _plain(CONTROL_LABELS["due"])})  # fmt: skip
        controls.append(_button(CONTROL_LABELS["edit"], slack_ids.OPERATION_UPDATE, target))
    return controls


def _target(item: Item) -> str:
    """`A-3:7`: the ref and the version the controls were drawn at (just `A-3` if unknown)."""
    return item.ref if item.version is None else f"{item.ref}:{item.version}"


def _section_groups(
    section: Section, tz: ZoneInfo, interactive: bool, counter: Iterator[int], source: str
) -> list[list[dict]]:
    lines = [f"*{escape(section.heading)}*"]
    lines += [_fact_line(fact, tz) for fact in section.facts]
    lines += [escape(line) for line in section.lines]
    groups = [[_section(chunk)] for chunk in _chunks(lines, SECTION_TEXT)]
    groups.extend(
        _item_blocks(item, next(counter), tz, interactive, source) for item in section.items
    )
    return groups


def _chunks(lines: list[str], limit: int) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*chunks, current] if current else chunks


def _fact_line(fact: Fact, tz: ZoneInfo) -> str:
    when = date_token(fact.at, tz) + " · " if fact.at else ""
    return f"{when}*{escape(fact.label)}*: {mrkdwn_value(fact.value, tz)}"


def _field(fact: Fact, tz: ZoneInfo) -> dict:
    when = date_token(fact.at, tz) + " · " if fact.at else ""
    text = f"*{escape(fact.label)}*\n{when}{mrkdwn_value(fact.value, tz)}"
    return {"type": "mrkdwn", "text": truncate(text, FIELD_TEXT)}


def _page_blocks(page: Page, interactive: bool) -> list[dict]:
    previous = f"{page.command} page {page.number - 1}" if page.number > 1 else ""
    following = f"{page.command} page {page.number + 1}" if page.number < page.pages else ""
    where = f"Page {page.number} of {page.pages}"
    buttons = []
    if interactive:
        if previous and len(previous) <= BUTTON_VALUE:
            buttons.append(_button("◀ Previous", slack_ids.PAGE_PREVIOUS, previous))
        if following and len(following) <= BUTTON_VALUE:
            buttons.append(_button("Next ▶", slack_ids.PAGE_NEXT, following))
    if not buttons and following:
        where += f": next, type `{slack_ids.SOC_COMMAND} {escape(following)}`"
    blocks = [_context(where)]
    if buttons:
        blocks.append({"type": "actions", "block_id": slack_ids.PAGE_BLOCK, "elements": buttons})
    return blocks


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)}}


def _context(text: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(text, CONTEXT_TEXT)}],
    }


def _button(label: str, action_id: str, value: str) -> dict:
    return {"type": "button", "text": _plain(label), "action_id": action_id, "value": value}


def _option(label: str, value: str) -> dict:
    return {"text": _plain(label), "value": value}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}
