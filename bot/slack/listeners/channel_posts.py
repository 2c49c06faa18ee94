"""A reply meant for the Board's own channels (`Reply.post_to`, e.g. `/soc rag post`), posted.

Each Slack channel named gets the reply as a message; the person who asked is answered
ephemerally with where it went. A channel that refuses (the app is not in it, it was archived)
is named with the fix, and the other channels still get the message. Channels of another chat
(Teams) are listed as not on Slack: they are posted to from there.
"""

import logging
from http.client import HTTPException
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.render.blocks import escape, fallback_text, render_blocks
from bot.slack.surface import SLACK
from handlers.boards.settings import channels_on
from handlers.replies import Reply

log = logging.getLogger(__name__)

INVITE = "/invite @soc-bot"
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})
ARCHIVED = "is_archived"
CHANGE_CHANNELS = "board settings summary=#channel"


def post_to_channels(client: WebClient, reply: Reply, tz: ZoneInfo) -> dict:
    """Post `reply` to each Slack channel in `reply.post_to`: the ephemeral answer saying where
    it went, and why not where it did not."""
    message = {
        "text": fallback_text(reply, tz),
        "blocks": render_blocks(reply, tz, interactive=False),
        "unfurl_links": False,
        "unfurl_media": False,
    }
    posted: list[str] = []
    lines: list[str] = []
    here, elsewhere = channels_on(reply.post_to, SLACK.identity_channel)
    for channel in here:
        problem = _post(client, channel, message)
        if problem:
            lines.append(problem)
        else:
            posted.append(f"<#{escape(channel)}>")
    what = escape(reply.title)
    if posted:
        lines.insert(0, f"Posted the {what} to {', '.join(posted)}.")
    else:
        lines.insert(0, f"The {what} was not posted to any channel.")
    if elsewhere:
        others = ", ".join(escape(ref) for ref in elsewhere)
        lines.append(f"Not on Slack, so not posted from here: {others}.")
    return {"response_type": "ephemeral", "text": "\n".join(lines)}


def _post(client: WebClient, channel: str, message: dict) -> str:
    """Post one message; "" if it went, else a line naming the channel, the reason and the fix."""
    here = f"<#{escape(channel)}>"
    try:
        client.chat_postMessage(channel=channel, **message)
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        log.warning("posting to a summary channel failed: %s", code)
        if code in NOT_A_MEMBER:
            return (
                f"Not posted to {here}: I'm not in that channel. Invite the app: `{INVITE}` in "
                f"{here}, then try again."
            )
        if code == ARCHIVED:
            return (
                f"Not posted to {here}: the channel is archived. Unarchive it, or the secretariat "
                f"changes the summary channels with `{SLACK.typed(CHANGE_CHANNELS)}`."
            )
        return f"Not posted to {here}: Slack said “{escape(code)}”. Try again in a minute."
    except (OSError, HTTPException) as error:  # Slack unreachable, after the client's retries
        log.warning("posting to a summary channel failed: %s", type(error).__name__)
        return f"Not posted to {here}: Slack could not be reached. Try again in a minute."
    return ""
