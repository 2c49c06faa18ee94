"""A reply's files in Teams: charts as inline images, papers through the file consent flow.

A chart (PNG) follows the reply as an inline image where the reply went. A paper (Word, Excel,
Markdown) goes to the person's personal chat as a FileConsentCard: when they accept, Teams sends
a `fileConsent/invoke` with an upload URL in their OneDrive; the bot runs the command again as
them (so the permissions are checked again, and nothing is kept in memory meanwhile), PUTs the
file there, and posts a FileInfoCard linking to it.
"""

import asyncio
import base64
import logging

import aiohttp
from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from bot.files import render_file
from handlers.replies import ReplyFile

log = logging.getLogger(__name__)

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
# Teams shows inline images up to 1 MB; a bigger chart would be refused whole.
MAX_INLINE_IMAGE = 1024 * 1024


def is_image(file: ReplyFile) -> bool:
    """A chart drawn inline rather than offered as a download."""
    return file.format == "png"


async def file_bytes(file: ReplyFile, tz) -> bytes:
    """Render the file off the event loop (charts and Word files take a moment)."""
    return await asyncio.to_thread(render_file, file, tz)


def image_activity(file: ReplyFile, data: bytes) -> Activity | None:
    """The chart as an inline image message; None if it is too big to show inline."""
    if len(data) > MAX_INLINE_IMAGE:
        return None
    url = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    attachment = Attachment(content_type="image/png", content_url=url, name=file.filename)
    return Activity(type=ActivityTypes.message, text=file.title, text_format="plain",
                    attachments=[attachment])  # fmt: skip


def consent_activity(file: ReplyFile, size: int, command: str) -> Activity:
    """Ask the person to accept the file: it is uploaded to their OneDrive when they do."""
    content = {
        "description": file.title,
        "sizeInBytes": size,
        "acceptContext": {"command": command, "file": file.filename},
        "declineContext": {"file": file.filename},
    }
    attachment = Attachment(content_type=FILE_CONSENT, name=file.filename, content=content)
    return Activity(type=ActivityTypes.message, attachments=[attachment])


def file_info_activity(upload: dict) -> Activity:
    """The message linking to the uploaded file."""
    attachment = Attachment(
        content_type=FILE_INFO,
        name=str(upload.get("name") or "file"),
        content_url=str(upload.get("contentUrl") or ""),
        content={"uniqueId": upload.get("uniqueId"), "fileType": upload.get("fileType")},
    )
    return Activity(type=ActivityTypes.message, attachments=[attachment])


def upload_allowed(url: str, *, allow_http: bool) -> bool:
    """Only https upload URLs (OneDrive's), unless a local test connector is allowed."""
    return url.startswith("https://") or (allow_http and url.startswith("http://127.0.0.1"))


async def upload(url: str, data: bytes) -> None:
    """PUT the whole file to the upload URL Teams gave (one range)."""
    headers = {"Content-Length": str(len(data)),
               "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}  # fmt: skip
    timeout = aiohttp.ClientTimeout(total=60)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.put(url, data=data, headers=headers) as response,
    ):
        response.raise_for_status()
