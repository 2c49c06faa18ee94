"""What a person typed in Teams, as the command handlers want it: plain text, no mention."""

import html
import re

_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_PREFIXES = ("/soc", "@soc", "soc")


def normalise_command(text: str | None) -> str:
    """Strip mentions, HTML, `&nbsp;`, a leading `/soc` and trailing lines; lower the command word.

    Teams sends what people type as HTML-ish text (`<at>soc</at>&nbsp;action status<br>`); the
    SDK removes the bot's own mention, and this does the rest. Values after the command word keep
    their case (titles, notes).
    """
    text = _MENTION.sub(" ", text or "")
    text = _BREAK.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    text = "\n".join(lines).strip()
    words = text.split(" ", 1)
    if words[0].casefold() in _PREFIXES:
        text = words[1].strip() if len(words) > 1 else ""
    if not text:
        return ""
    first, _, rest = text.partition(" ")
    head, newline, tail = first.partition("\n")
    return head.casefold() + newline + tail + (" " + rest if rest else "")
