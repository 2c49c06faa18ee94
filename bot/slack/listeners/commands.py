"""The `/soc` slash command: run it as the Slack user and answer within Slack's 3 seconds.

Every command gets the same treatment rather than a hand-kept list of "slow" ones: it runs while
the request waits, up to `Runtime.ack_budget` (2 s). Finished in time (measured: well under 10 ms
for `/soc rag` and `action status all` on 10,000 actions), the reply is the acknowledgement body
itself, so it appears at once and needs no second request. Still running at the deadline (a big
register, a database lock held by the worker), the request is acknowledged with "Working on it…"
and the reply follows through `response_url` when ready. A command never runs twice either way.

`action add` with nothing after it and `action edit <ref>` open a form instead: the modal opens
first (its trigger expires in 3 seconds) and is filled in once the database has answered. After
any change the person's Home tab is published again, in the background. A reply for the Board's
summary channels (`/soc rag post`) is posted there within the same budget, and the person is told
ephemerally where it went.
"""

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.ids import SOC_COMMAND
from bot.slack.listeners.channel_posts import post_to_channels
from bot.slack.listeners.interactions import COMMAND, Origin, publish_home
from bot.slack.listeners.modals import open_action_form
from bot.slack.listeners.respond import post
from bot.slack.listeners.runtime import WORKING, Runtime
from bot.slack.render.blocks import unescape
from bot.slack.uploads import Outbox
from handlers.commands import is_read_only
from handlers.errors import CommandError
from handlers.register.forms import Target
from handlers.text.vocab import parse_ref

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    """Listen for `/soc`."""

    @app.command(SOC_COMMAND)
    def soc_command(ack: Ack, command: dict, client: WebClient, runtime: Runtime) -> None:
        # Slack escapes &, < and > in what people type; the handlers want the text as typed.
        text, user_id = unescape(command.get("text") or ""), command["user_id"]
        response_url = command.get("response_url")
        form = form_request(text)
        if form is not None and command.get("trigger_id"):
            target = form if isinstance(form, Target) else None
            origin = Origin(COMMAND, target.ref if target else "", response_url=response_url or "")
            open_action_form(runtime, client, user_id, command["trigger_id"], target, origin)
            ack()
            return
        # A reply's files (chart, report) are uploaded only after it is answered.
        outbox = Outbox(runtime.executor, client, runtime.settings.tz, user_id,
                        command.get("channel_id"), response_url)  # fmt: skip

        def answer() -> dict:
            reply = runtime.run(user_id, text)
            if not reply.error and not is_read_only(text):
                runtime.executor.submit(_refresh_home, runtime, client, user_id)
            if reply.post_to and not reply.error:
                # Inside the answer: a slow post makes it a late answer, never a lost one.
                return post_to_channels(client, reply, runtime.settings.tz)
            return runtime.render(outbox.keep(reply))

        message = runtime.within_budget(
            answer, response_url,
            late=lambda late_message: (post(response_url, late_message), outbox.send()),
        )  # fmt: skip
        if message is None:
            ack(text=WORKING, response_type="ephemeral")
        else:
            ack(**message)
            outbox.send()


def form_request(text: str) -> Target | bool | None:
    """`action add` alone (True) or `action edit <ref>` (its target): the commands with a form."""
    words = text.split()
    lowered = [word.casefold() for word in words]
    if lowered == ["action", "add"]:
        return True
    if len(words) == 3 and lowered[:2] == ["action", "edit"]:
        try:
            return Target(f"A-{parse_ref(words[2])}")
        except CommandError:
            return None  # the command itself explains the reference
    return None


def _refresh_home(runtime: Runtime, client: WebClient, user_id: str) -> None:
    try:
        publish_home(runtime, client, user_id)
    except Exception:  # noqa: BLE001  (a background refresh has no one to tell)
        log.warning("could not refresh the Home tab after a change", exc_info=True)
