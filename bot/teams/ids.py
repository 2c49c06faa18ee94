"""Names shared by the Teams card renderer and its listeners: routes, verbs and input ids."""

MESSAGES_PATH = "/api/messages"
HEALTH_PATH = "/healthz"

CHANNEL = "teams"  # an Identity's / Address's channel
VERB_RAG = "soc.rag"
VERB_DONE = "soc.done"
VERB_NOTE = "soc.note"
VERB_DUE = "soc.due"
VERB_PAGE = "soc.page"
ITEM_VERBS = (VERB_RAG, VERB_DONE, VERB_NOTE, VERB_DUE)

# Keys of an Action.Execute's `data`: what the card put there, besides the inputs' values.
TARGET_KEY = "target"  # "A-3:7": the action and the version the control was drawn at
SOURCE_KEY = "source"  # the command text that redraws the card after a change
INPUT_KEY = "input"  # the id of the input this control reads
COMMAND_KEY = "command"  # a page button's listing command


def input_id(kind: str, index: int) -> str:
    """A card-wide unique input id for one item's control, e.g. `rag.3`."""
    return f"{kind}.{index}"
