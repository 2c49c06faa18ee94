"""Splitting `/soc` text into words and key=value options."""

import re
import shlex
from dataclasses import dataclass, field

from handlers.errors import CommandError

# Chat apps (and phones) turn straight quotes into curly ones; people mean the same thing.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_OPTION = re.compile(r"^([a-z][a-z_-]{0,20})=(.*)$", re.DOTALL | re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_COMMAND_LENGTH = 8000


@dataclass
class Args:
    """Positional words and key=value options of one command."""

    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The positional words joined back into one string."""
        return " ".join(self.words)

    def expect_no_words(self, command: str, hint: str) -> None:
        """Refuse words after a command that takes none, saying what was typed."""
        if self.words:
            raise CommandError(f"`{command}` takes nothing more (“{self.text()}”).", hint)


def clean(text: str) -> str:
    """Text as stored: control characters removed, curly quotes kept, ends trimmed."""
    return _CONTROL.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    """Split into words, honouring "double" and 'single' quotes (curly ones too)."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(
            f"That command is too long ({len(text):,} characters).",
            f"Keep it under {MAX_COMMAND_LENGTH:,}; put long text in several notes.",
        )
    try:
        lexer = shlex.shlex(clean(text).translate(_QUOTES), posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        # Apostrophes in words (partner's) are common; only double quotes group words.
        lexer.quotes = '"'
        lexer.escape = ""
        return list(lexer)
    except ValueError:
        raise CommandError(
            "A quotation mark is not closed.", 'Put quotes round text with spaces: title="..."'
        ) from None


def split_args(words: list[str], allowed: set[str]) -> Args:
    """Separate key=value options (keys from `allowed`) from positional words."""
    args = Args()
    for word in words:
        match = _OPTION.match(word)
        if match and match.group(1).casefold() in allowed:
            key = match.group(1).casefold().replace("-", "_")
            if key in args.options:
                raise CommandError(f"{key}= is given twice.", "Give each option once.")
            args.options[key] = clean(match.group(2))
        elif match:
            known = ", ".join(f"{k}=" for k in sorted(allowed)) or "none"
            raise CommandError(f"Unknown option “{match.group(1)}=”.", f"Options here: {known}.")
        else:
            args.words.append(word)
    return args
