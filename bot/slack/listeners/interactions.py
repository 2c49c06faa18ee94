"""What buttons and forms share: where a click came from, running its use case, and redrawing.

After a click changes the register (or is refused), what it came from is redrawn from the
database, so its controls carry the new version and a second press of a stale one is refused:
a posted message (a reminder DM) with chat.update, item by item; a reply only the clicker sees
through its response_url, re-running the `/soc` text that made it; and the clicker's Home tab,
which is published again after any change they make.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from slack_sdk import WebClient

from bot.slack import ids as slack_ids
from bot.slack.listeners.respond import post
from bot.slack.listeners.runtime import Runtime
from bot.slack.render.blocks import item_blocks, replace_item
from bot.slack.render.home import home_view
from bot.slack.surface import SLACK
from handlers.commands import is_read_only
from handlers.context import Context
from handlers.register import forms
from handlers.register.forms import Target
from handlers.register.home import dashboard
from handlers.replies import Reply
from handlers.run import run_use_case

log = logging.getLogger(__name__)

MESSAGE, EPHEMERAL, HOME, COMMAND = "message", "ephemeral", "home", "command"
UseCase = Callable[[Any, Context], Any]


@dataclass(frozen=True)
class Origin:
    """Where a click or form came from: enough to redraw it once the register has changed."""

    kind: str
    ref: str = ""
    channel: str = ""
    ts: str = ""
    response_url: str = ""
    source: str = ""
    position: int = 0
    page: int = 1

    @classmethod
    def of_click(cls, body: dict, block_id: str, ref: str) -> "Origin":
        """The origin of a block_actions payload."""
        container = body.get("container") or {}
        _, position, source = slack_ids.parse_actions_block_id(block_id) or ("", 0, "")
        if container.get("type") == "view":
            return cls(HOME, ref, page=home_page(body))
        kind = EPHEMERAL if container.get("is_ephemeral") else MESSAGE
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        return cls(kind, ref, channel, container.get("message_ts", ""),
                   body.get("response_url") or "", source, position)  # fmt: skip


def form_metadata(target: Target | None, origin: Origin) -> str:
    """A modal's private_metadata: the action and version it edits, and where it came from."""
    return json.dumps({"target": str(target) if target else "", "origin": asdict(origin)})


def read_metadata(text: str) -> tuple[Target | None, Origin]:
    """The target (None: a new action) and origin of a form; ValueError if unreadable."""
    try:
        data = json.loads(text)
        target = Target.parse(data["target"]) if data["target"] else None
        if data["target"] and target is None:
            raise ValueError("not an action target")
        return target, Origin(**data["origin"])
    except (TypeError, KeyError, AttributeError) as err:
        raise ValueError("unreadable form metadata") from err


def home_page(body: dict) -> int:
    """The page of "your actions" the clicker's Home tab was showing."""
    view = body.get("view") or {}
    try:
        return max(1, int(json.loads(view.get("private_metadata") or "{}").get("page", 1)))
    except (TypeError, ValueError, AttributeError):
        return 1


def use(runtime: Runtime, user_id: str, use_case: UseCase, *, read_only: bool = False) -> Any:
    """Run a handler for a Slack user in one transaction, as a typed command is run."""
    return run_use_case(engine=runtime.engine, board_slug=runtime.board_slug,
                        user_id=user_id, now=runtime.clock(), use_case=use_case,
                        read_only=read_only, surface=SLACK)  # fmt: skip


def publish_home(
    runtime: Runtime, client: WebClient, user_id: str, page: int = 1, notice: Reply | None = None
) -> None:
    """Publish the user's Home tab as it is now (with `notice` at the top, if any)."""
    board = use(runtime, user_id, lambda session, ctx: dashboard(session, ctx, page),
                read_only=True)  # fmt: skip
    view = home_view(board, runtime.settings.tz, notice)
    view["private_metadata"] = json.dumps({"page": getattr(board, "page", 1)})
    client.views_publish(user_id=user_id, view=view)


def redraw(
    runtime: Runtime,
    client: WebClient,
    user_id: str,
    origin: Origin,
    result: Reply,
    message: dict | None = None,
    *,
    explain: bool = True,
) -> None:
    """Show the result where the click came from, explain a refusal there, and refresh Home.

    A form's refusal is explained in the form itself (`explain=False`).
    """
    if origin.kind == EPHEMERAL and origin.response_url:
        _redraw_reply(runtime, user_id, origin, result)
    elif origin.kind == MESSAGE and origin.channel and origin.ts:
        _redraw_message(runtime, client, user_id, origin, message)
    elif origin.kind == COMMAND and origin.response_url and not result.error:
        post(origin.response_url, runtime.render(result, response_type="ephemeral"))
    if explain and result.error and origin.kind in (EPHEMERAL, MESSAGE):
        _explain(runtime, client, user_id, origin, result)
    if origin.kind == HOME or not result.error:
        notice = result if result.error and explain else None
        publish_home(runtime, client, user_id, origin.page if origin.kind == HOME else 1, notice)


def _redraw_reply(runtime: Runtime, user_id: str, origin: Origin, result: Reply) -> None:
    fresh = None
    if origin.source and is_read_only(origin.source):
        fresh = runtime.run(user_id, origin.source)
    if fresh is None or fresh.error:
        fresh = runtime.run(user_id, f"action status {origin.ref}")
    if not result.error:
        fresh.notice = f"✓ {result.title}" + (f" {result.text}" if result.text else "")
    post(origin.response_url, runtime.render(fresh, replace_original=True))


def _redraw_message(
    runtime: Runtime, client: WebClient, user_id: str, origin: Origin, message: dict | None
) -> None:
    message = message or _fetch_message(client, origin)
    if not message or not message.get("blocks"):
        return
    current = use(runtime, user_id, lambda s, ctx: forms.current_state(s, ctx, origin.ref),
                  read_only=True)  # fmt: skip
    if current.error or not current.items:
        # Out of the clicker's reach now: the item stays, without its controls.
        new = [b for b in message["blocks"]
               if slack_ids.block_ref(b.get("block_id", "")) == origin.ref
               and b.get("type") != "actions"]  # fmt: skip
    else:
        new = item_blocks(current.items[0], origin.position, runtime.settings.tz, "")
    blocks = replace_item(message["blocks"], origin.ref, new)
    if blocks is not None:
        client.chat_update(channel=origin.channel, ts=origin.ts, blocks=blocks,
                           text=message.get("text") or origin.ref)  # fmt: skip


def _fetch_message(client: WebClient, origin: Origin) -> dict | None:
    """The message a form was opened from (a form submission does not carry it)."""
    found = client.conversations_history(channel=origin.channel, latest=origin.ts, inclusive=True,
                                         limit=1).get("messages") or []  # fmt: skip
    return found[0] if found and found[0].get("ts") == origin.ts else None


def _explain(
    runtime: Runtime, client: WebClient, user_id: str, origin: Origin, result: Reply
) -> None:
    message = runtime.render(result, response_type="ephemeral", replace_original=False)
    if origin.response_url:
        post(origin.response_url, message)
    else:
        client.chat_postEphemeral(channel=origin.channel, user=user_id, text=message["text"],
                                  blocks=message["blocks"])  # fmt: skip
