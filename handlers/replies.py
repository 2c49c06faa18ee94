"""Channel-neutral reply objects that every handler returns and every renderer draws."""

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class Audience(enum.StrEnum):
    """Who sees a reply: only the person who asked, or the whole channel."""

    EPHEMERAL = "ephemeral"
    IN_CHANNEL = "in_channel"


@dataclass(frozen=True)
class Mention:
    """A person, mentioned by their stored Slack user id (never from typed text)."""

    user_id: str
    name: str


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
    rag_legend: bool = False
    # The `/soc` text that shows this reply afresh, to redraw a message after one of its buttons.
    source: str = ""
    # Sent after the reply (uploads take longer than Slack's 3-second acknowledgement).
    files: list[ReplyFile] = field(default_factory=list)


def error_reply(message: str, hint: str = "") -> Reply:
    """A refusal or mistake, explained in one line with a hint."""
    return Reply(title=message, error=True, hint=hint)
