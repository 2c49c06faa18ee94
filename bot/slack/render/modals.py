"""Modals as Block Kit: the action form, Mark complete, Add note, and messages in a modal.

Each form field is an input block `soc_field_<key>` (keys as the command's options), so errors
come back to the field they belong to, and the submitted values are read back by key.
"""

from datetime import date
from zoneinfo import ZoneInfo

from bot.slack import ids as slack_ids
from bot.slack.render.blocks import MAX_HOME_BLOCKS, escape, render_blocks
from handlers.register.forms import ActionForm
from handlers.replies import Reply
from models.tables import Strand

TITLE = 24  # characters in a modal's title and its buttons
OPTION_TEXT = 75
MAX_OPTIONS = 100
INPUT_TEXT = 3000  # Slack's most for a plain-text input
MAX_NOTICE = 10
LABELS = {
    "area": "Key crime area",
    "lead": "Lead partners",
    "title": "Title (the issue)",
    "action": "Actions",
    "barriers": "Potential barriers",
    "outcomes": "Expected outcomes",
    "strand": "4P strands",
    "due": "Due date",
    "confidential": "Confidential",
    "note": "Note about this change",
}
TEXT_LIMITS = {"title": 2000, "action": INPUT_TEXT, "barriers": INPUT_TEXT,
               "outcomes": INPUT_TEXT, "note": INPUT_TEXT, "outcome": INPUT_TEXT}  # fmt: skip
MULTILINE = {"action", "barriers", "outcomes", "note", "outcome"}
CONFIDENTIAL_OPTION = "yes"


def loading_view(title: str) -> dict:
    """What a modal shows while its form is being prepared (opened at once, as triggers expire)."""
    return _modal(title, [_section("Loading…")])


def message_view(reply: Reply, tz: ZoneInfo, title: str = "soc-bot") -> dict:
    """A reply shown in a modal, with a Close button: refusals, and what a form saved."""
    return _modal(title, render_blocks(reply, tz, interactive=False, max_blocks=MAX_HOME_BLOCKS))


def complete_view(
    ref: str,
    metadata: str,
    value: str = "",
    notice: Reply | None = None,
    tz: ZoneInfo | None = None,
) -> dict:
    """Mark complete: the confirmation and the outcome it needs, in one step (`notice` on top,
    e.g. that the action changed meanwhile, with what was typed kept as `value`)."""
    text = (f"*{escape(ref)}* will be marked complete (🔵 Blue). What did it achieve? The outcome "
            "is kept in its history and reported to the Board.")  # fmt: skip
    blocks = [_section(text), _text_input("outcome", "Outcome", value, optional=False)]
    blocks = _notice_blocks(notice, tz) + blocks
    return _form(slack_ids.VIEW_COMPLETE, "Mark complete?", "Mark complete", blocks, metadata)


def note_view(
    ref: str,
    metadata: str,
    value: str = "",
    notice: Reply | None = None,
    tz: ZoneInfo | None = None,
) -> dict:
    """Add note: one box; the note counts as an update (`notice` and `value` as for Complete)."""
    blocks = [_text_input("note", f"Progress on {ref}", value, optional=False)]
    blocks = _notice_blocks(notice, tz) + blocks
    return _form(slack_ids.VIEW_NOTE, f"Note on {ref}", "Add note", blocks, metadata)


def action_form_view(form: ActionForm, metadata: str) -> dict:
    """The add/edit form, prefilled with `form.values`; fields the reader may not change are left
    out, and so are texts too long for a Slack input box (with a line saying how to change them).
    """
    values, blocks, left_out = form.values, [], []
    for key in form.editable:
        value = values.get(key)
        if key == "area":
            blocks.append(_area_input(form, value))
        elif key == "lead":
            blocks.append(_lead_input(form, value or []))
        elif key == "strand":
            blocks.append(_strand_input(value or []))
        elif key == "due":
            blocks.append(_due_input(value))
        elif key == "confidential":
            blocks.append(_confidential_input(bool(value)))
        elif len(str(value or "")) > TEXT_LIMITS[key]:
            left_out.append(LABELS[key].lower())
        else:
            blocks.append(_text_input(key, LABELS[key], str(value or ""), optional=key != "title"))
    notes = []
    if form.target is not None and "area" not in form.editable:
        notes.append("The chair, deputy chair or secretariat change area, leads and confidential.")
    if left_out:
        notes.append(f"Too long to edit here: {', '.join(left_out)}; use `/soc action update`.")
    if notes:
        blocks.append({"type": "context", "elements": [_mrkdwn(" ".join(notes))]})
    submit = "Add action" if form.target is None else "Save changes"
    return _form(slack_ids.VIEW_ACTION_FORM, form.title, submit, blocks, metadata)


def field_errors(errors: dict[str, str]) -> dict:
    """The acknowledgement that shows errors under their fields and keeps the form open."""
    return {"response_action": "errors",
            "errors": {_block(key): message[:2000] for key, message in errors.items()}}  # fmt: skip


def form_values(view: dict) -> dict[str, object]:
    """The submitted fields by key, typed: ids as ints, dates as dates, texts as text."""
    state = view.get("state", {}).get("values", {})
    values: dict[str, object] = {}
    for block_id, elements in state.items():
        if not block_id.startswith(slack_ids.FIELD_BLOCK):
            continue
        key = block_id.removeprefix(slack_ids.FIELD_BLOCK)
        element = elements.get(slack_ids.FIELD_ELEMENT) or {}
        kind = element.get("type")
        if kind == "static_select":
            values[key] = _int((element.get("selected_option") or {}).get("value"))
        elif kind == "multi_static_select":
            values[key] = [i for o in element.get("selected_options") or []
                           if (i := _int(o.get("value"))) is not None]  # fmt: skip
        elif kind == "checkboxes":
            chosen = [o.get("value") for o in element.get("selected_options") or []]
            values[key] = CONFIDENTIAL_OPTION in chosen if key == "confidential" else chosen
        elif kind == "datepicker":
            values[key] = _date(element.get("selected_date"))
        else:
            values[key] = element.get("value") or ""
    return values


def _notice_blocks(notice: Reply | None, tz: ZoneInfo | None) -> list[dict]:
    if notice is None or tz is None:
        return []
    return [
        *render_blocks(notice, tz, interactive=False, max_blocks=MAX_NOTICE),
        {"type": "divider"},
    ]


def _area_input(form: ActionForm, value: object) -> dict:
    options = [_option(name, str(area_id)) for area_id, name in form.areas[:MAX_OPTIONS]]
    element = {"type": "static_select", "placeholder": _plain("Choose an area"), "options": options}
    chosen = [o for o in options if o["value"] == str(value)]
    if chosen:
        element["initial_option"] = chosen[0]
    return _input("area", element)


def _lead_input(form: ActionForm, value: list) -> dict:
    options = [_option(name, str(partner_id)) for partner_id, name in form.partners[:MAX_OPTIONS]]
    element = {"type": "multi_static_select", "placeholder": _plain("Choose lead partners"),
               "options": options}  # fmt: skip
    chosen = [o for o in options if int(o["value"]) in value]
    if chosen:
        element["initial_options"] = chosen
    return _input("lead", element)


def _strand_input(value: list) -> dict:
    options = [_option(s.value.title(), s.value) for s in Strand]
    element: dict = {"type": "checkboxes", "options": options}
    chosen = [o for o in options if o["value"] in value]
    if chosen:
        element["initial_options"] = chosen
    return _input("strand", element, optional=True)


def _due_input(value: object) -> dict:
    element: dict = {"type": "datepicker", "placeholder": _plain("Next Board meeting")}
    if isinstance(value, date):
        element["initial_date"] = value.isoformat()
    block = _input("due", element, optional=True)
    block["hint"] = _plain("Leave it empty and the action is due at the next Board meeting.")
    return block


def _confidential_input(value: bool) -> dict:
    option = {"text": _mrkdwn("*Closed item*: never shown in channels or to observers"),
              "value": CONFIDENTIAL_OPTION}  # fmt: skip
    element: dict = {"type": "checkboxes", "options": [option]}
    if value:
        element["initial_options"] = [option]
    return _input("confidential", element, optional=True)


def _text_input(key: str, label: str, value: str = "", *, optional: bool = True) -> dict:
    element: dict = {"type": "plain_text_input", "multiline": key in MULTILINE,
                     "max_length": TEXT_LIMITS[key]}  # fmt: skip
    if value:
        element["initial_value"] = value
    block = _input(key, element, optional=optional)
    block["label"] = _plain(label[:2000])
    return block


def _input(key: str, element: dict, *, optional: bool = False) -> dict:
    return {"type": "input", "block_id": _block(key), "optional": optional,
            "label": _plain(LABELS.get(key, key)),
            "element": {**element, "action_id": slack_ids.FIELD_ELEMENT}}  # fmt: skip


def _form(callback_id: str, title: str, submit: str, blocks: list[dict], metadata: str) -> dict:
    view = _modal(title, blocks, close="Cancel")
    view.update(callback_id=callback_id, submit=_plain(submit[:TITLE]), private_metadata=metadata)
    return view


def _modal(title: str, blocks: list[dict], close: str = "Close") -> dict:
    return {"type": "modal", "title": _plain(title[:TITLE]), "close": _plain(close),
            "blocks": blocks[:MAX_HOME_BLOCKS]}  # fmt: skip


def _block(key: str) -> str:
    return f"{slack_ids.FIELD_BLOCK}{key}"


def _option(label: str, value: str) -> dict:
    text = label if len(label) <= OPTION_TEXT else label[: OPTION_TEXT - 1] + "…"
    return {"text": _plain(text), "value": value}


def _section(text: str) -> dict:
    return {"type": "section", "text": _mrkdwn(text)}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
