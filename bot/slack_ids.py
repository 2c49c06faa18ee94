"""Slack identifiers shared by the renderers and the listeners, so the two cannot drift."""

import re

SOC_COMMAND = "/soc"
EVENTS_PATH = "/slack/events"

# Buttons. Paging buttons carry the command text to run; item buttons carry the action's ref.
PAGE_PREVIOUS = "soc_page_previous"
PAGE_NEXT = "soc_page_next"
OPERATION_UPDATE = "soc_op_update"
OPERATION_DONE = "soc_op_done"
OPERATION_NOTE = "soc_op_note"
OPERATION_ACTIONS = {"update": OPERATION_UPDATE, "done": OPERATION_DONE, "note": OPERATION_NOTE}
OPERATION_LABELS = {"update": "Update", "done": "Mark done", "note": "Add note"}

# Block ids: `ITEM_ACTIONS_BLOCK` is followed by the item's position, as block ids must be unique.
PAGE_BLOCK = "soc_page"
ITEM_ACTIONS_BLOCK = "soc_item_ops_"

PAGE_ACTION_IDS = re.compile(f"^({PAGE_PREVIOUS}|{PAGE_NEXT})$")
OPERATION_ACTION_IDS = re.compile(f"^({OPERATION_UPDATE}|{OPERATION_DONE}|{OPERATION_NOTE})$")
