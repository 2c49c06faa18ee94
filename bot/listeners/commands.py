"""The `/soc` slash command: run it as the Slack user and answer within Slack's 3 seconds.

Every command gets the same treatment rather than a hand-kept list of "slow" ones: it runs while
the request waits, up to `Runtime.ack_budget` (2 s). Finished in time (measured: well under 10 ms
for `/soc rag` and `action status all` on 10,000 actions), the reply is the acknowledgement body
itself, so it appears at once and needs no second request. Still running at the deadline (a big
register, a database lock held by the worker), the request is acknowledged with "Working on it…"
and the reply follows through `response_url` when ready. A command never runs twice either way.
"""

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.listeners.respond import post
from bot.listeners.runtime import WORKING, Runtime
from bot.render.blocks import unescape
from bot.slack_ids import SOC_COMMAND
from bot.uploads import Outbox


def register(app: App, runtime: Runtime) -> None:
    """Listen for `/soc`."""

    @app.command(SOC_COMMAND)
    def soc_command(ack: Ack, command: dict, client: WebClient) -> None:
        # Slack escapes &, < and > in what people type; the handlers want the text as typed.
        text, user_id = unescape(command.get("text") or ""), command["user_id"]
        response_url = command.get("response_url")
        # A reply's files (chart, report) are uploaded only after it is answered.
        outbox = Outbox(runtime.executor, client, runtime.settings.tz, user_id,
                        command.get("channel_id"), response_url)  # fmt: skip
        message = runtime.within_budget(
            lambda: runtime.render(outbox.keep(runtime.run(user_id, text))), response_url,
            late=lambda late_message: (post(response_url, late_message), outbox.send()),
        )  # fmt: skip
        if message is None:
            ack(text=WORKING, response_type="ephemeral")
        else:
            ack(**message)
            outbox.send()
