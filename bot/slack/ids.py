"""Slack identifiers shared by the renderers and the listeners, so the two cannot drift."""

import re

SOC_COMMAND = "/soc"
EVENTS_PATH = "/slack/events"

# Buttons. Paging buttons carry the command text to run; item controls carry the action's
# target, `A-3:7` (ref and the version it was drawn at; older messages carry just `A-3`).
PAGE_PREVIOUS = "soc_page_previous"
PAGE_NEXT = "soc_page_next"
OPERATION_UPDATE = "soc_op_update"  # "Edit…": the prefilled form ("Update" on older messages)
OPERATION_RAG = "soc_op_rag"  # the RAG select; each option's value is `<target>|<rag>`
OPERATION_DUE = "soc_op_due"  # the due-date picker; its target is in the block id
OPERATION_DONE = "soc_op_done"
OPERATION_NOTE = "soc_op_note"
HOME_PAGE = "soc_home_page"  # Home's own paging: the value is the page number
# Controls on a reply as a whole (handlers' `Operation`s), by operation: (block id, action id).
# Each button's value is the operation's target.
ANSWER_BUTTON = "soc_priorities_answer"  # the priorities Answer: `<exercise id>:<partner id>`
ANSWER_BLOCK = "soc_priorities_actions"

# Block ids. An item's blocks are `soc_item|<ref>|<position>|<n>`; its controls are in
# `soc_ops|<target>|<position>|<source>`, where source is the `/soc` text that redraws the reply
# (or `home`). Positions keep block ids unique when a message shows an action twice.
PAGE_BLOCK = "soc_page"
HOME_PAGE_BLOCK = "soc_home_page"
ITEM_BLOCK = "soc_item|"
ITEM_ACTIONS_BLOCK = "soc_ops|"
HOME_SOURCE = "home"
MAX_BLOCK_ID = 255

# Modals: callback ids, and one input block per field (`soc_field_<key>`, element `value`).
VIEW_ACTION_FORM = "soc_action_form"
VIEW_COMPLETE = "soc_complete"
VIEW_NOTE = "soc_note"
FIELD_BLOCK = "soc_field_"
FIELD_ELEMENT = "value"

PAGE_ACTION_IDS = re.compile(f"^({PAGE_PREVIOUS}|{PAGE_NEXT})$")
FORM_ACTION_IDS = re.compile(f"^({OPERATION_UPDATE}|{OPERATION_DONE}|{OPERATION_NOTE})$")


def item_block_id(ref: str, position: int, n: int) -> str:
    """The id of an item's `n`th content block."""
    return f"{ITEM_BLOCK}{ref}|{position}|{n}"


def actions_block_id(target: str, position: int, source: str) -> str:
    """The id of an item's controls block; a source too long to fit is left out."""
    block_id = f"{ITEM_ACTIONS_BLOCK}{target}|{position}|"
    return block_id + source if len(block_id + source) <= MAX_BLOCK_ID else block_id


def parse_actions_block_id(block_id: str) -> tuple[str, int, str] | None:
    """(target, position, source) from an item's controls block id; None for any other block."""
    if not block_id.startswith(ITEM_ACTIONS_BLOCK):
        return None
    parts = block_id.removeprefix(ITEM_ACTIONS_BLOCK).split("|", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def block_ref(block_id: str) -> str | None:
    """The ref an item's content or controls block belongs to."""
    for prefix in (ITEM_BLOCK, ITEM_ACTIONS_BLOCK):
        if block_id.startswith(prefix):
            return block_id.removeprefix(prefix).split("|", 1)[0].split(":", 1)[0]
    return None
