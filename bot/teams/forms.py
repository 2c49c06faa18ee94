"""The edit form and the priorities answer form as Adaptive Cards, and what they send back.

Teams has no modals for a bot's message: a form is the card itself, drawn in place of the
message whose Edit… or Answer control opened it (an `Action.Execute` answered with a new card).
Its inputs come back in the Save action's `data`, keyed `field.<key>` with the keys of the
typed command's options, so the handlers' form use cases check them exactly as Slack's modal.
The Save action carries the action's ref and the version the form was drawn at: a form
submitted after someone else changed the action saves nothing and says who did. A value the
handler refuses comes back under its field, with everything typed still in the form.
"""

from collections.abc import Mapping
from datetime import date

from bot.teams import ids
from bot.teams.cards import MAX_CARD_BYTES, card_bytes, empty_card, rich_text, safe_text
from handlers.priorities.forms import AnswerForm
from handlers.priorities.messages import STANCE_LABELS, closing_text
from handlers.register.forms import FORM_FIELDS, ActionForm
from models.tables import Strand

LABELS = {
    "area": "Key crime area",
    "lead": "Lead partners",
    "title": "Title (the issue)",
    "action": "Actions",
    "barriers": "Potential barriers",
    "outcomes": "Expected outcomes",
    "strand": "4P strands",
    "due": "Due date (empty: the next Board meeting)",
    "confidential": "Closed item: never shown in channels or to observers",
    "note": "Note about this change",
}
TEXT_LIMITS = {"title": 2000, "action": 3000, "barriers": 3000, "outcomes": 3000, "note": 3000}
MULTILINE = {"action", "barriers", "outcomes", "note"}
ANSWER_NOTE_LIMIT = 3000
BAD_DATE = "Choose the date with the date picker."


def field_id(key: str) -> str:
    """The input id of a form field, e.g. `field.title`."""
    return ids.FIELD_PREFIX + key


def action_form_card(
    form: ActionForm,
    source: str,
    *,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
) -> dict:
    """The add/edit form, filled with `values` (default: the action as it is) and `errors`.

    Fields the reader may not change are left out; a text too long for the card is left out
    too (with a line saying how to change it), longest first, until the card fits.
    """
    values = form.values if values is None else {**form.values, **values}
    errors = errors or {}
    # Never shown cut: a cut text would be saved back cut with the rest of the form.
    left_out = [key for key in form.editable if key in TEXT_LIMITS
                and len(str(values.get(key) or "")) > TEXT_LIMITS[key]]  # fmt: skip
    while True:
        body = _form_head(form.title, notice, errors)
        for key in form.editable:
            if key in left_out:
                continue
            body.append(_field(form, key, values.get(key)))
            if key in errors:
                body.append(_error(errors[key]))
        notes = []
        if form.target is not None and "area" not in form.editable:
            notes.append("The chair, deputy chair or secretariat change area, leads and "
                         "confidential.")  # fmt: skip
        if left_out:
            names = ", ".join(LABELS[key].lower() for key in left_out)
            notes.append(f"Too long to edit here: {names}; use `@soc action update`.")
        if notes:
            body.append(_text(" ".join(notes), subtle=True))
        submit = "Add action" if form.target is None else "Save changes"
        target = "" if form.target is None else str(form.target)
        card = _card(body, [_execute(submit, ids.VERB_SAVE, target, source), _cancel(source)])
        if card_bytes(card) <= MAX_CARD_BYTES:
            return card
        longest = _longest_text(form, values, left_out)
        if longest is None:
            message = "This form is too long for a Teams card: use `@soc action update`."
            return _card([_error(message)], [_cancel(source)])
        left_out.append(longest)


def submitted_values(data: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """The form's fields from an Action.Execute's data, typed as the handler wants them.

    Only the fields the card sent come back (an absent field is not a change); a value Teams'
    own inputs could not have sent is an error on its field.
    """
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key in (*FORM_FIELDS, "note"):
        raw = data.get(field_id(key))
        if raw is None:
            continue
        text = str(raw)
        if key == "area":
            values[key] = int(text) if text.isdigit() else None
        elif key == "lead":
            values[key] = [int(part) for part in text.split(",") if part.strip().isdigit()]
        elif key == "strand":
            values[key] = [part.strip() for part in text.split(",") if part.strip()]
        elif key == "due":
            try:
                values[key] = date.fromisoformat(text) if text else None
            except ValueError:
                errors[key] = BAD_DATE
        elif key == "confidential":
            values[key] = text.casefold() == "true"
        else:
            values[key] = text
    return values, errors


def answer_form_card(
    form: AnswerForm,
    source: str,
    *,
    stances: Mapping[int, str] | None = None,
    note: str | None = None,
    notice: str = "",
) -> dict:
    """The priorities answer form, filled with the partner's current answer (or what was typed)."""
    stances = form.stances if stances is None else stances
    note = form.note if note is None else note
    intro = (
        f"{form.partner_name}: for each key crime area, would your service lead on it, "
        "contribute to it, or is it not relevant to you? Leave an area blank if you are not "
        f"sure. Answers close {closing_text(form.closes_on)}; a later answer replaces this one."
    )
    body = _form_head("Priorities exercise", notice, {})
    body.append(_text(intro))
    choices = [{"title": label, "value": stance.value} for stance, label in STANCE_LABELS.items()]
    for area_id, name in form.areas:
        choice = {"type": "Input.ChoiceSet", "id": f"{ids.STANCE_PREFIX}{area_id}",
                  "label": safe_text(name, 200), "style": "expanded",
                  "choices": choices}  # fmt: skip
        if stances.get(area_id):
            choice["value"] = stances[area_id]
        body.append(choice)
    box = {"type": "Input.Text", "id": ids.ANSWER_NOTE, "isMultiline": True,
           "label": "Your service's own current priorities",
           "maxLength": ANSWER_NOTE_LIMIT}  # fmt: skip
    if note:
        box["value"] = safe_text(note, ANSWER_NOTE_LIMIT)
    body.append(box)
    send = _execute("Send answer", ids.VERB_SEND_ANSWER, form.target, source)
    return _card(body, [send, _cancel(source or "priorities")])


def submitted_answer(data: Mapping[str, object]) -> tuple[dict[int, str], str]:
    """The stances chosen (by area id) and the note, from a submitted answer form."""
    stances: dict[int, str] = {}
    for key, value in data.items():
        area = str(key).removeprefix(ids.STANCE_PREFIX)
        if str(key).startswith(ids.STANCE_PREFIX) and area.isdigit() and value:
            stances[int(area)] = str(value)
    return stances, str(data.get(ids.ANSWER_NOTE) or "")


def _field(form: ActionForm, key: str, value: object) -> dict:
    element: dict = {"id": field_id(key), "label": LABELS[key]}
    if key == "area":
        choices = [{"title": safe_text(name, 200), "value": str(i)} for i, name in form.areas]
        element.update(type="Input.ChoiceSet", style="compact", choices=choices,
                       placeholder="Choose an area")  # fmt: skip
        if value is not None:
            element["value"] = str(value)
    elif key == "lead":
        choices = [{"title": safe_text(name, 200), "value": str(i)} for i, name in form.partners]
        element.update(type="Input.ChoiceSet", isMultiSelect=True, choices=choices,
                       placeholder="Choose lead partners")  # fmt: skip
        if value:
            element["value"] = ",".join(str(i) for i in value)
    elif key == "strand":
        choices = [{"title": s.value.title(), "value": s.value} for s in Strand]
        element.update(type="Input.ChoiceSet", isMultiSelect=True, style="expanded",
                       choices=choices)  # fmt: skip
        if value:
            element["value"] = ",".join(value)
    elif key == "due":
        element["type"] = "Input.Date"
        if isinstance(value, date):
            element["value"] = value.isoformat()
    elif key == "confidential":
        element.update(type="Input.Toggle", title=LABELS[key], label="Confidential",
                       valueOn="true", valueOff="false",
                       value="true" if value else "false")  # fmt: skip
    else:
        element.update(type="Input.Text", isMultiline=key in MULTILINE,
                       maxLength=TEXT_LIMITS[key])  # fmt: skip
        if value:
            # As stored: an input shows text as typed (nothing is rendered as markup), and any
            # change to it here would be saved back with the form.
            element["value"] = str(value)
    return element


def _longest_text(form: ActionForm, values: Mapping[str, object], left_out: list[str]):
    texts = [key for key in form.editable if key in TEXT_LIMITS and key not in left_out
             and values.get(key)]  # fmt: skip
    return max(texts, key=lambda key: len(str(values[key]).encode("utf-8")), default=None)


def _form_head(title: str, notice: str, errors: Mapping[str, str]) -> list[dict]:
    head = [_text(title, weight="Bolder", size="Medium")]
    if notice:
        head.append(_error(notice))
    elif errors:
        head.append(_error("Please check the form: nothing was saved."))
    return head


def _execute(title: str, verb: str, target: str, source: str) -> dict:
    return {"type": "Action.Execute", "title": title, "verb": verb, "style": "positive",
            "data": {ids.TARGET_KEY: target, ids.SOURCE_KEY: source}}  # fmt: skip


def _cancel(source: str) -> dict:
    # Cancel redraws what the form was opened from (a listing, the action, the exercise).
    return {"type": "Action.Execute", "title": "Cancel", "verb": ids.VERB_PAGE,
            "associatedInputs": "none", "data": {ids.COMMAND_KEY: source}}  # fmt: skip


def _card(body: list[dict], actions: list[dict]) -> dict:
    return empty_card(body, actions)


def _error(message: str) -> dict:
    return rich_text("⚠️ " + message, color="Attention")


def _text(text: str, **style) -> dict:
    return rich_text(text, **style)
