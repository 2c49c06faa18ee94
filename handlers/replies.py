"""Channel-neutral reply objects that every handler returns and every renderer draws."""

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo


class Audience(enum.StrEnum):
    """Who sees a reply: only the person who asked, or the whole channel."""

    EPHEMERAL = "ephemeral"
    IN_CHANNEL = "in_channel"


@dataclass(frozen=True)
class Mention:
    """A person, by name and by their stored ids per channel (never from typed text).

    Each renderer mentions them on its own channel (`on("slack")`) and shows the name where it
    has no id for them.
    """

    name: str
    # (channel, id on that channel) pairs, e.g. (("slack", "U0123"), ("teams", "<object id>")).
    ids: tuple[tuple[str, str], ...] = ()

    def on(self, channel: str) -> str:
        """Their id on `channel` ("" if they have none there)."""
        return next((found for where, found in self.ids if where == channel), "")


Value = str | int | date | datetime | Mention | None


@dataclass(frozen=True)
class Fact:
    """A labelled value: dates stay dates so each renderer can localise them."""

    label: str
    value: Value
    at: datetime | None = None


@dataclass
class Item:
    """One action (or other record) in a reply, with the operations the reader may use on it."""

    title: str
    ref: str | None = None
    rag: str | None = None
    facts: list[Fact] = field(default_factory=list)
    body: str = ""
    operations: tuple[str, ...] = ()
    # The record's version when read: a button carries it, so a click on a stale copy is refused.
    version: int | None = None


@dataclass
class Section:
    """A headed part of a reply: lines of text, facts and items."""

    heading: str
    lines: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Operation:
    """Something the reader can do from the reply as a whole (an item's own are `Item.operations`).

    Where the surface draws controls it is a button; elsewhere the reply's hint says what to type.
    `target` is what the use case behind it takes back, e.g. `"7:3"` (exercise 7, partner 3).
    """

    name: str
    label: str
    target: str


@dataclass(frozen=True)
class Page:
    """Where a paged listing is: page `number` of `pages`, re-run with `command` + " page N"."""

    number: int
    pages: int
    command: str


class Delivery(enum.StrEnum):
    """Where a reply's file goes: the channel the command came from, or a DM to the asker."""

    CHANNEL = "channel"
    DIRECT = "direct"


@dataclass(frozen=True)
class ReplyFile:
    """A file that follows a reply: report data (`document`) the transport renders as `format`."""

    title: str
    filename: str
    format: str
    document: object
    delivery: Delivery = Delivery.CHANNEL


@dataclass
class Reply:
    """What a handler answers; plain text throughout (renderers escape it)."""

    title: str
    text: str = ""
    items: list[Item] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    audience: Audience = Audience.EPHEMERAL
    error: bool = False
    hint: str = ""
    notice: str = ""
    page: Page | None = None
    operations: list[Operation] = field(default_factory=list)
    rag_legend: bool = False
    # The command text (without prefix) that shows this reply afresh, to redraw a message after
    # one of its buttons.
    source: str = ""
    # Sent after the reply (an upload can take longer than a chat channel waits for an answer).
    files: list[ReplyFile] = field(default_factory=list)
    # Channel refs ("slack:C0123", "teams:19:...") the reply is also posted to, besides the asker.
    post_to: tuple[str, ...] = ()
    # The Board's time zone, which the reply's times are shown in: set by the runner (and by the
    # worker's messages); None for a reply made outside any Board.
    tz: ZoneInfo | None = None


def error_reply(message: str, hint: str = "") -> Reply:
    """A refusal or mistake, explained in one line with a hint."""
    return Reply(title=message, error=True, hint=hint)
