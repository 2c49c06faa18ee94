"""Checking typed Board settings, and changing them with a record of who changed what."""

import logging
import re
from collections.abc import Iterable
from zoneinfo import available_timezones

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from models.board_history import SETTINGS, record_board_change
from models.boards import change_board_settings

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_SUMMARY_CHANNELS = 5
MAX_CHANNEL_REF = 200
# Words that empty the summary channels.
NO_CHANNELS = frozenset({"none", "-", ""})
# A channel as a person may type or mention it: `<#ID|name>`, `<#ID>`, or the id itself.
_MENTION = re.compile(r"^<#([^|>\s]+)(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[^\s,<>|]+$")
# How each setting is named when the reply says what changed.
SETTING_LABELS = {
    "name": "name",
    "timezone": "time zone",
    "holiday_region": "bank holidays",
    "reminder_days": "reminder days",
    "reminder_time": "reminder time",
    "summary_channels": "summary channels",
}


def parse_board_name(text: str) -> str:
    """A Board name: not empty, at most 200 characters."""
    name = " ".join(text.split())
    if not name:
        raise CommandError("The Board's name cannot be empty.", 'Example: name="Kent SOC Board".')
    if len(name) > MAX_NAME:
        raise CommandError(f"That name is too long ({MAX_NAME} characters at most).")
    return name


def parse_zone(text: str) -> str:
    """An IANA time zone name such as Europe/London (any letter case), checked."""
    by_case = {zone.casefold(): zone for zone in available_timezones()}
    zone = by_case.get(text.strip().casefold())
    if zone is not None:
        return zone
    raise CommandError(
        f"“{text}” is not a time zone.",
        "Give a name from the IANA list, e.g. timezone=Europe/London or timezone=Europe/Dublin.",
    )


def parse_channel_refs(text: str, channel: str) -> list[str]:
    """Channels typed as ids or mentions (comma-separated) as refs "<channel>:<id>".

    A ref already naming its channel ("teams:19:...@thread.tacv2") is kept as it is; "none"
    empties the list.
    """
    if text.strip().casefold() in NO_CHANNELS:
        return []
    refs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        mention = _MENTION.match(part)
        typed = mention.group(1) if mention else part
        if not _CHANNEL_ID.match(typed) or len(typed) > MAX_CHANNEL_REF:
            raise CommandError(
                f"“{part}” is not a channel.",
                "Mention the channel or give its id; several are separated by commas, "
                "and summary=none removes them all.",
            )
        ref = typed if _names_channel(typed) else f"{channel}:{typed}"
        if ref not in refs:
            refs.append(ref)
    if len(refs) > MAX_SUMMARY_CHANNELS:
        raise CommandError(f"Give at most {MAX_SUMMARY_CHANNELS} summary channels.")
    return refs


def channels_on(refs: Iterable[str], channel: str) -> tuple[list[str], list[str]]:
    """The ids of the channels among `refs` that are on `channel` ("slack", "teams"), and the
    refs on any other."""
    here: list[str] = []
    elsewhere: list[str] = []
    for ref in refs:
        kind, _, channel_id = ref.partition(":")
        if kind == channel and channel_id:
            here.append(channel_id)
        else:
            elsewhere.append(ref)
    return here, elsewhere


def _names_channel(ref: str) -> bool:
    prefix, _, rest = ref.partition(":")
    return bool(rest) and prefix.isalpha() and prefix.islower()


def change_settings(session: Session, ctx: Context, changes: dict[str, object]) -> dict:
    """Save checked settings on the Board, recording who changed what in the Board's history;
    returns the real changes."""
    changed = change_board_settings(session=session, board=ctx.board, **changes)
    for name, (old, new) in changed.items():
        record_board_change(
            session=session, board_id=ctx.board.id, at=ctx.now, by=ctx.member, what=SETTINGS,
            details=f"{SETTING_LABELS[name]}: {setting_text(old)} → {setting_text(new)}",
        )  # fmt: skip
        log.info(
            "board %s setting %s changed by member %s at %s: %r -> %r",
            ctx.board.slug, name, ctx.member.id if ctx.member else None,
            ctx.now.isoformat(timespec="seconds"), old, new,
        )  # fmt: skip
    return changed


def setting_text(value: object) -> str:
    """A setting's value as the history shows it: lists joined, nothing as "none"."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return str(value) if value not in (None, "") else "none"
