"""The Teams app package: manifest.json (schema 1.22), color.png 192x192 and outline.png 32x32."""

import io
import json
import re
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

MANIFEST_VERSION = "1.22"
MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
ACCENT = "#1F4E79"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)

# The command menu: what people use most, by scope (titles are what the menu inserts).
PERSONAL_COMMANDS = (
    ("action status", "Your partner's actions, with controls to update them"),
    ("action status overdue", "Overdue actions"),
    ("rag private", "The RAG summary, for you only"),
    ("meeting next", "The next Board meeting"),
    ("priorities", "The Board's priorities and the priorities exercise"),
    ("report quarter", "The quarterly report, sent to you as a file"),
    ("help", "What you can ask"),
)
TEAM_COMMANDS = (
    ("rag", "Post the RAG summary here (chair, deputy, secretariat)"),
    ("rag chart", "Post the RAG summary with a chart (chair, deputy, secretariat)"),
    ("priorities results", "Post the priorities tally (chair, deputy, secretariat)"),
    ("meeting next", "The next Board meeting"),
    ("help", "What you can ask (answered in your personal chat)"),
)


class PackageError(ValueError):
    """A value the package cannot be built with; the message says which and why."""


def build_manifest(
    app_id: str,
    host: str,
    *,
    name: str = "soc",
    board_name: str = "Serious and Organised Crime Partnership Board",
    version: str = "1.0.0",
    website: str = "",
) -> dict:
    """The app manifest for the bot registered as `app_id`, answering at `https://{host}`."""
    if not _GUID.match(app_id or ""):
        raise PackageError(f"--app-id {app_id!r} is not an Entra application (client) id (a GUID).")
    host = (host or "").strip().removeprefix("https://").rstrip("/")
    if not _HOST.match(host):
        raise PackageError(f"--host {host!r} is not a host name, e.g. soc-bot.example.org.")
    website = website or f"https://{host}"
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": board_name[:32],
            "websiteUrl": website,
            "privacyUrl": f"{website}/privacy",
            "termsOfUseUrl": f"{website}/terms",
        },
        "name": {"short": name[:30], "full": f"{board_name} action register"[:100]},
        "description": {
            "short": "The Board's action register: status, updates, RAG and reminders."[:80],
            "full": (
                f"Keeps the {board_name}'s action table: each partner sees and updates its "
                "actions, the chair posts the RAG summary, and lead partners are reminded "
                "before each meeting."
            )[:4000],
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": _commands(PERSONAL_COMMANDS)},
                    {"scopes": ["team", "groupChat"], "commands": _commands(TEAM_COMMANDS)},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def color_icon() -> bytes:
    """The 192x192 full-colour icon: the accent colour with a white register mark."""
    image = Image.new("RGBA", (192, 192), ACCENT)
    _draw_mark(ImageDraw.Draw(image), 192, (255, 255, 255, 255))
    return _png(image)


def outline_icon() -> bytes:
    """The 32x32 outline icon: white on transparent, as Teams requires."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    _draw_mark(ImageDraw.Draw(image), 32, (255, 255, 255, 255))
    return _png(image)


def write_package(manifest: dict, output: Path) -> Path:
    """Zip the manifest and both icons at the top level of `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return output


def _commands(entries: tuple[tuple[str, str], ...]) -> list[dict]:
    return [{"title": title[:32], "description": text[:128]} for title, text in entries]


def _draw_mark(draw: ImageDraw.ImageDraw, size: int, colour: tuple[int, int, int, int]) -> None:
    """Three rows of a register, each a tick box and a line."""
    unit = size / 8
    width = max(1, round(size / 32))
    for row in range(3):
        top = unit * (1.6 + row * 1.8)
        draw.rectangle([unit * 1.4, top, unit * 2.6, top + unit * 1.2], outline=colour, width=width)
        draw.rectangle([unit * 3.2, top + unit * 0.4, unit * 6.6, top + unit * 0.8], fill=colour)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
