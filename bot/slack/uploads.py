"""A reply's files, uploaded to Slack after the acknowledgement through the external upload API.

`WebClient.files_upload_v2` calls files.getUploadURLExternal, POSTs the bytes to the returned
`upload_url`, then files.completeUploadExternal shares the file in the channel (or the DM).
Rendering a chart or a Word file and three HTTP calls can outlast Slack's 3 seconds, so they run
on the reply thread pool once the command has been answered.
"""

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.files import render_file
from bot.slack.listeners.respond import post, report_failure
from handlers.replies import Delivery, Reply, ReplyFile

log = logging.getLogger(__name__)

NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}


@dataclass
class Outbox:
    """One command's files: kept while it runs, uploaded after its acknowledgement."""

    executor: Executor
    client: WebClient
    tz: ZoneInfo
    user_id: str
    channel_id: str | None
    response_url: str | None
    files: list[ReplyFile] = field(default_factory=list)

    def keep(self, reply: Reply) -> Reply:
        """Set the reply's files aside for `send`; the reply is answered without them."""
        self.files.extend(reply.files)
        return reply

    def send(self) -> None:
        """Upload the kept files in the background, never inside the acknowledgement."""
        files, self.files = self.files, []
        if files:
            self.executor.submit(self._upload_all, files)

    def _upload_all(self, files: list[ReplyFile]) -> None:
        for file in files:
            try:
                upload(
                    self.client, file, tz=self.tz, user_id=self.user_id, channel_id=self.channel_id
                )
            except SlackApiError as err:
                self._explain(file, str(err.response.get("error", "")))
            except Exception as err:  # noqa: BLE001  (logged and told; a thread has no caller)
                report_failure(err, self.response_url)

    def _explain(self, file: ReplyFile, error: str) -> None:
        log.warning("uploading %s failed: %s", file.filename, error)
        if error in NOT_A_MEMBER and file.delivery == Delivery.CHANNEL:
            text = (
                f"I couldn't post the {file.filename} file here: I'm not a member of this "
                "channel. Invite me with `/invite @soc-bot`, then try again."
            )
        else:
            text = (
                f"I couldn't send you {file.filename}: Slack said “{error}”. Try again in a "
                "minute; if it keeps happening, tell the secretariat."
            )
        if self.response_url:
            post(
                self.response_url,
                {"response_type": "ephemeral", "replace_original": False, "text": text},
            )


def upload(
    client: WebClient, file: ReplyFile, *, tz: ZoneInfo, user_id: str, channel_id: str | None
) -> dict:
    """Render a file and share it in the channel, or in a DM with the person who asked."""
    content = render_file(file, tz)
    if file.delivery == Delivery.DIRECT or not channel_id:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        comment = f"{file.title}, as you asked."
    else:
        channel, comment = channel_id, None
    response = client.files_upload_v2(
        channel=channel,
        content=content,
        filename=file.filename,
        title=file.title,
        initial_comment=comment,
    )
    return response.get("file") or {}
