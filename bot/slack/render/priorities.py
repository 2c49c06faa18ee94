"""The priorities exercise in Block Kit: the answer form, and replies shown in a modal.

The form asks one radio question per key crime area (lead / contribute / not relevant, each
optional) and has a box for the partner's own priorities; it opens with the partner's current
answer filled in, so submitting it gives the whole answer. The Answer button on the exercise's
messages is the reply's `Operation`, drawn by `render_blocks`. The ids here are shared with
`bot.slack.listeners.priorities`, so the two cannot drift.
"""

from zoneinfo import ZoneInfo

from bot.slack.render.blocks import MAX_HOME_BLOCKS, escape, render_blocks
from handlers.priorities.forms import AnswerForm
from handlers.priorities.messages import STANCE_LABELS, closing_text
from handlers.replies import Reply

ANSWER_VIEW = "soc_priorities_form"  # the modal's callback id; private_metadata as the button
AREA_BLOCK = "soc_prio_area|"  # followed by the area's id
STANCE_ELEMENT = "stance"
NOTE_BLOCK = "soc_prio_note"
NOTE_ELEMENT = "note"
NOTE_LIMIT = 3000
TITLE = 24  # characters in a modal's title and buttons


def answer_form_view(form: AnswerForm) -> dict:
    """The answer form, filled in with the partner's current answer."""
    intro = (
        f"*{escape(form.partner_name)}*: for each key crime area, would your service *lead* on "
        "it, *contribute* to it, or is it *not relevant* to you? Leave an area blank if you are "
        f"not sure. Answers close {escape(closing_text(form.closes_on))}; a later answer "
        "replaces this one."
    )
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": intro}}]
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": stance.value}
        for stance, label in STANCE_LABELS.items()
    ]
    for area_id, name in form.areas:
        element: dict = {"type": "radio_buttons", "action_id": STANCE_ELEMENT, "options": options}
        chosen = next((o for o in options if o["value"] == form.stances.get(area_id)), None)
        if chosen is not None:
            element["initial_option"] = chosen
        blocks.append(
            {
                "type": "input",
                "block_id": f"{AREA_BLOCK}{area_id}",
                "optional": True,
                "label": {"type": "plain_text", "text": name[:2000]},
                "element": element,
            }
        )
    note: dict = {
        "type": "plain_text_input",
        "action_id": NOTE_ELEMENT,
        "multiline": True,
        "max_length": NOTE_LIMIT,
    }
    if form.note:
        note["initial_value"] = form.note[:NOTE_LIMIT]
    blocks.append(
        {
            "type": "input",
            "block_id": NOTE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Your service's own current priorities"},
            "element": note,
        }
    )
    return {
        "type": "modal",
        "callback_id": ANSWER_VIEW,
        "private_metadata": form.target,
        "title": _plain("Priorities exercise"),
        "submit": _plain("Send answer"),
        "close": _plain("Cancel"),
        "blocks": blocks[:MAX_HOME_BLOCKS],
    }


def submitted_answer(view: dict) -> tuple[dict[int, str], str]:
    """The stances chosen (by area id) and the note, from a submitted answer form."""
    values = (view.get("state") or {}).get("values") or {}
    stances: dict[int, str] = {}
    for block_id, elements in values.items():
        area = block_id.removeprefix(AREA_BLOCK)
        if block_id.startswith(AREA_BLOCK) and area.isdigit():
            option = (elements.get(STANCE_ELEMENT) or {}).get("selected_option") or {}
            if option.get("value"):
                stances[int(area)] = str(option["value"])
    note = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ELEMENT) or {}).get("value") or ""
    return stances, str(note)


def reply_view(reply: Reply, tz: ZoneInfo, title: str = "Priorities exercise") -> dict:
    """A reply shown in a modal with a Close button: a refusal, or what was saved."""
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Close"),
        "blocks": render_blocks(reply, tz, interactive=False, max_blocks=MAX_HOME_BLOCKS),
    }


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text[:TITLE]}
