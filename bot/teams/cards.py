"""Reply objects as Adaptive Cards (schema 1.5) for Teams: safe text, controls, within 28 KB.

Everything a person or the register wrote is drawn as a `TextRun`, which Teams never reads as
Markdown, so stored text cannot fake a link, a heading or a mention; the plain-text fallback
goes out with `textFormat: plain` for the same reason. Controls are `Action.Execute` actions that
carry the action's ref and the version they were drawn at (`A-3:7`), so a stale or repeated
click is refused by the same handlers as a Slack button.
"""

import json
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.plain_text import format_value, render_text
from bot.rag_marks import RAG_DISPLAY, RAG_LEGEND
from bot.teams import ids
from handlers.priorities.forms import ANSWER
from handlers.register.actions import EDIT_FORM, NOTE_LIMIT
from handlers.replies import Fact, Item, Operation, Page, Reply, Section
from models.tables import Rag

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses a message over 28 KB: the card (with its fallbackText), the activity's text
# (the same fallback) and the envelope together stay under it.
MAX_CARD_BYTES = 26_000
TEXT_LIMIT = 4_000  # one text run; longer text is cut with an ellipsis
FALLBACK_TEXT = 1_000  # UTF-8 bytes; notifications show far less

# Blue is not offered here: closing needs the outcome, which "Mark complete" asks for.
RAG_CHOICES = (Rag.RED, Rag.AMBER, Rag.GREEN)
CONTROL_LABELS = {"rag": "Save RAG", "done": "Mark complete", "note": "Add note",
                  "due": "Change due date", "edit": "Edit…"}  # fmt: skip
# The reply-level operations drawn as buttons: each opens its form (`bot.teams.forms`).
OPERATION_VERBS = {EDIT_FORM: ids.VERB_EDIT, ANSWER: ids.VERB_ANSWER}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class SentCard(dict):
    """A rendered card on its way out: never changed, so the SDK's per-send deep copy reuses it.

    `TurnContext.send_activities` deep-copies every activity; for a listing's card that copy
    took about as long as running the command itself (measured with cProfile).
    """

    def __deepcopy__(self, memo: dict) -> "SentCard":
        return self


def safe_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """User text fit for a TextRun: no control or direction-override characters, cut to `limit`."""
    text = _CONTROL_CHARACTERS.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_card(
    reply: Reply,
    tz: ZoneInfo,
    *,
    interactive: bool = True,
    images: Mapping[str, str] | None = None,
) -> dict:
    """The reply as one Adaptive Card; over the size limit, trailing items become a note.

    `images` maps a reply file's name to a link the client can fetch (the RAG chart's signed
    link): that file is drawn in the card, under the reply's text. Times are in the reply's
    Board's zone (`tz` only for a reply made outside any Board).
    """
    tz = reply.tz or tz
    source = reply.source
    head: list[dict] = [
        rich_text(
            ("⚠️ " if reply.error else "") + reply.title,
            weight="Bolder",
            size="Medium",
            color="Attention" if reply.error else None,
        )  # fmt: skip
    ]
    if reply.text:
        head.append(rich_text(reply.text))
    if reply.notice:
        head.append(rich_text(reply.notice, subtle=True))
    for file in reply.files:
        if images and file.filename in images:
            head.append({"type": "Image", "url": images[file.filename],
                         "altText": safe_text(file.title, 200), "size": "Stretch"})  # fmt: skip
    groups: list[dict] = []
    index = iter(range(100_000))
    groups.extend(_item(item, next(index), tz, interactive, source) for item in reply.items)
    for section in reply.sections:
        groups.extend(_section(section, tz, interactive, index, source))
    tail: list[dict] = _page(reply.page, interactive) if reply.page else []
    if interactive:
        # An item drawn with its own Edit… control needs no second one for the whole reply.
        items = [*reply.items, *(item for section in reply.sections for item in section.items)]
        editable = {f"{i.ref}:{i.version}" for i in items if i.ref and "update" in i.operations}
        operations = [op for op in reply.operations
                      if not (op.name == EDIT_FORM and op.target in editable)]  # fmt: skip
        tail.extend(_operations(operations, reply.source))
    if reply.hint:
        tail.append(rich_text(reply.hint, subtle=True))
    if reply.rag_legend:
        tail.append(rich_text(RAG_LEGEND, subtle=True))
    fallback = fallback_text(reply, tz)
    return _fit(head, groups, tail, fallback)


def fallback_text(reply: Reply, tz: ZoneInfo) -> str:
    """The plain-text rendering, for notifications and clients that draw no cards."""
    text = safe_text(render_text(reply, tz), FALLBACK_TEXT)
    data = text.encode("utf-8")
    if len(data) <= FALLBACK_TEXT:
        return text
    # Counted in bytes, as Teams' size limit is.
    return data[: FALLBACK_TEXT - 3].decode("utf-8", errors="ignore") + "…"


def card_bytes(card: dict) -> int:
    """The card's size as Teams counts it: its JSON in UTF-8."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def rag_label(rag: str) -> str:
    """Emoji and word for a RAG rating."""
    try:
        return RAG_DISPLAY[Rag(rag)]
    except ValueError:
        return rag


def _fit(head: list[dict], groups: list[dict], tail: list[dict], fallback: str) -> dict:
    card = _card(head + groups + tail, fallback)
    if card_bytes(card) <= MAX_CARD_BYTES:
        return card
    kept = list(groups)
    while kept:
        kept.pop()
        hidden = len(groups) - len(kept)
        note = rich_text(f"…{hidden} more not shown here: a Teams card holds about 28 KB. "
                     "Narrow the command to see the rest.", subtle=True)  # fmt: skip
        card = _card(head + kept + [note] + tail, fallback)
        if card_bytes(card) <= MAX_CARD_BYTES:
            return card
    return _card(head + [rich_text("The reply is too long for a Teams card.")], fallback)


def _card(body: list[dict], fallback: str) -> dict:
    return {**empty_card(body), "fallbackText": fallback}


def empty_card(body: list[dict], actions: list[dict] | None = None) -> dict:
    """An Adaptive Card (schema 1.5) with this body and, if given, card-level actions."""
    card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def _item(item: Item, index: int, tz: ZoneInfo, interactive: bool, source: str) -> dict:
    parts = []
    if item.ref:
        parts.append(_run(item.ref, weight="Bolder"))
    if item.rag:
        parts.append(_run((" · " if parts else "") + rag_label(item.rag)))
    content: list[dict] = [{"type": "RichTextBlock", "inlines": parts}] if parts else []
    content.append(rich_text(item.title, weight="Bolder" if not parts else None))
    content.extend(_fact(fact, tz) for fact in item.facts)
    if item.body:
        content.append(rich_text(item.body))
    if interactive and item.ref and item.operations:
        content.extend(_controls(item, index, source))
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": content}


def _controls(item: Item, index: int, source: str) -> list[dict]:
    """The RAG choice, Mark complete, Add note and the due date, as the reader may use them."""
    ops = item.operations
    target = item.ref if item.version is None else f"{item.ref}:{item.version}"
    elements: list[dict] = []
    actions: list[dict] = []

    def execute(kind: str, verb: str) -> dict:
        data = {ids.TARGET_KEY: target, ids.SOURCE_KEY: source,
                ids.INPUT_KEY: ids.input_id(kind, index)}  # fmt: skip
        return {"type": "Action.Execute", "title": CONTROL_LABELS[kind], "verb": verb,
                "data": data}  # fmt: skip

    if "update" in ops:
        choices = [{"title": RAG_DISPLAY[rag], "value": rag.value} for rag in RAG_CHOICES]
        elements.append({"type": "Input.ChoiceSet", "id": ids.input_id("rag", index),
                         "style": "compact", "label": "RAG", "placeholder": "Choose a rating",
                         "choices": choices})  # fmt: skip
        actions.append(execute("rag", ids.VERB_RAG))
    if "done" in ops:
        box = _text_input(ids.input_id("done", index), "What did the action achieve?")
        actions.append(_show_card(CONTROL_LABELS["done"], [box], execute("done", ids.VERB_DONE)))
    if "note" in ops:
        box = _text_input(ids.input_id("note", index), "Progress note")
        actions.append(_show_card(CONTROL_LABELS["note"], [box], execute("note", ids.VERB_NOTE)))
    if "update" in ops:
        picker = {"type": "Input.Date", "id": ids.input_id("due", index), "label": "New due date",
                  "isRequired": True, "errorMessage": "Choose a date."}  # fmt: skip
        actions.append(_show_card(CONTROL_LABELS["due"], [picker], execute("due", ids.VERB_DUE)))
        edit = execute("edit", ids.VERB_EDIT)
        del edit["data"][ids.INPUT_KEY]  # the form it opens has its own inputs
        actions.append(edit)
    if actions:
        elements.append({"type": "ActionSet", "actions": actions})
    return elements


def _operations(operations: list[Operation], source: str) -> list[dict]:
    """A reply's own operations (Edit…, Answer) as buttons; one not drawn here is in the hint."""
    actions = [
        {"type": "Action.Execute", "title": operation.label, "style": "positive",
         "verb": OPERATION_VERBS[operation.name],
         "data": {ids.TARGET_KEY: operation.target, ids.SOURCE_KEY: source}}
        for operation in operations
        if operation.name in OPERATION_VERBS
    ]  # fmt: skip
    return [{"type": "ActionSet", "actions": actions}] if actions else []


def _text_input(input_id: str, label: str) -> dict:
    return {"type": "Input.Text", "id": input_id, "label": label, "isMultiline": True,
            "maxLength": NOTE_LIMIT, "isRequired": True,
            "errorMessage": "Write something first."}  # fmt: skip


def _show_card(title: str, body: list[dict], action: dict) -> dict:
    return {"type": "Action.ShowCard", "title": title,
            "card": {"type": "AdaptiveCard", "body": body, "actions": [action]}}  # fmt: skip


def _section(section: Section, tz: ZoneInfo, interactive: bool, index, source: str) -> list[dict]:
    lines = [rich_text(section.heading, weight="Bolder")]
    lines += [_fact(fact, tz) for fact in section.facts]
    lines += [rich_text(line) for line in section.lines]
    groups = [{"type": "Container", "separator": True, "items": lines}]
    groups.extend(_item(item, next(index), tz, interactive, source) for item in section.items)
    return groups


def _fact(fact: Fact, tz: ZoneInfo) -> dict:
    inlines = []
    if fact.at:
        inlines.append(_run(format_value(fact.at, tz) + " · ", subtle=True))
    inlines.append(_run(fact.label + ": ", weight="Bolder"))
    inlines.append(_run(format_value(fact.value, tz)))
    return {"type": "RichTextBlock", "inlines": inlines}


def _page(page: Page, interactive: bool) -> list[dict]:
    blocks = [rich_text(f"Page {page.number} of {page.pages}", subtle=True)]
    moves = []
    if page.number > 1:
        moves.append(("◀ Previous", f"{page.command} page {page.number - 1}"))
    if page.number < page.pages:
        moves.append(("Next ▶", f"{page.command} page {page.number + 1}"))
    if interactive and moves:
        actions = [{"type": "Action.Execute", "title": title, "verb": ids.VERB_PAGE,
                    "data": {ids.COMMAND_KEY: command}} for title, command in moves]  # fmt: skip
        blocks.append({"type": "ActionSet", "actions": actions})
    elif moves:
        blocks.append(rich_text("Next: type @soc " + moves[-1][1], subtle=True))
    return blocks


def rich_text(
    text: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    color: str | None = None,
    subtle: bool = False,
) -> dict:
    """Text in one TextRun (never read as Markdown), cleaned and cut to length."""
    run = _run(text, weight=weight, size=size, color=color, subtle=subtle)
    return {"type": "RichTextBlock", "inlines": [run]}


def _run(
    text: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    color: str | None = None,
    subtle: bool = False,
) -> dict:
    run: dict = {"type": "TextRun", "text": safe_text(text)}
    if weight:
        run["weight"] = weight
    if size:
        run["size"] = size
    if color:
        run["color"] = color
    if subtle:
        run["isSubtle"] = True
    return run
