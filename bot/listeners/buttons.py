"""Reply buttons: Next/Previous re-run a listing for the clicker; item buttons say what to type.

Both acknowledge at once and answer through the payload's `response_url` (paging replaces the
message clicked, as it is the clicker's own ephemeral reply).
"""

import re

from slack_bolt import Ack, App

from bot.listeners.runtime import Runtime
from bot.slack_ids import (
    OPERATION_ACTION_IDS,
    OPERATION_DONE,
    OPERATION_NOTE,
    PAGE_ACTION_IDS,
)
from handlers.replies import Reply

_REF = re.compile(r"^A-\d{1,7}$")


def register(app: App, runtime: Runtime) -> None:
    """Listen for paging and item buttons."""

    @app.action(PAGE_ACTION_IDS)
    def turn_page(ack: Ack, body: dict, action: dict) -> None:
        ack()
        user_id, text = body["user"]["id"], action.get("value") or ""
        runtime.answer_later(
            lambda: runtime.message(user_id, text, replace_original=True), body.get("response_url")
        )

    @app.action(OPERATION_ACTION_IDS)
    def item_operation(ack: Ack, body: dict, action: dict) -> None:
        ack()
        reply = operation_hint(action["action_id"], action.get("value") or "")
        runtime.answer_later(
            lambda: runtime.render(reply, response_type="ephemeral", replace_original=False),
            body.get("response_url"),
        )


def operation_hint(action_id: str, ref: str) -> Reply:
    """The command to type for an item button (forms for these come later)."""
    ref = ref if _REF.match(ref) else "A-<number>"
    if action_id == OPERATION_DONE:
        what, command = f"mark {ref} complete", f'/soc action done {ref} note="what was achieved"'
    elif action_id == OPERATION_NOTE:
        what, command = f"add a progress note to {ref}", f"/soc action note {ref} your note here"
    else:
        what = f"update {ref}"
        command = f'/soc action update {ref} rag=green due=31/03/2027 note="what changed"'
    hint = "Change the example values; `/soc help action` lists every option."
    return Reply(title=f"To {what}, type:", text=f"`{command}`", hint=hint)
