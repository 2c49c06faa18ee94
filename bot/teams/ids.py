"""Names shared by the Teams card renderer and its listeners: routes, verbs and input ids."""

MESSAGES_PATH = "/api/messages"
HEALTH_PATH = "/healthz"
CHART_PATH = "/charts/{token}.png"  # a signed, short-lived link to the RAG chart

CHANNEL = "teams"  # an Identity's / Address's channel
VERB_RAG = "soc.rag"
VERB_DONE = "soc.done"
VERB_NOTE = "soc.note"
VERB_DUE = "soc.due"
VERB_PAGE = "soc.page"
VERB_EDIT = "soc.edit"  # open an action's edit form (its Edit… control, or `action edit`)
VERB_SAVE = "soc.save"  # the edit form submitted
VERB_ANSWER = "soc.answer"  # open the priorities exercise's answer form
VERB_SEND_ANSWER = "soc.answer.send"  # the answer form submitted
ITEM_VERBS = (VERB_RAG, VERB_DONE, VERB_NOTE, VERB_DUE, VERB_EDIT)

# Keys of an Action.Execute's `data`: what the card put there, besides the inputs' values.
TARGET_KEY = "target"  # "A-3:7": the action and the version the control was drawn at
SOURCE_KEY = "source"  # the command text that redraws the card after a change
INPUT_KEY = "input"  # the id of the input this control reads
COMMAND_KEY = "command"  # a page button's listing command
FIELD_PREFIX = "field."  # a form's inputs: `field.title`, `field.lead`, ... (the command's keys)
STANCE_PREFIX = "stance."  # the answer form's choice per key crime area: `stance.<area id>`
ANSWER_NOTE = "answer.note"  # the answer form's box for the partner's own priorities


def input_id(kind: str, index: int) -> str:
    """A card-wide unique input id for one item's control, e.g. `rag.3`."""
    return f"{kind}.{index}"
