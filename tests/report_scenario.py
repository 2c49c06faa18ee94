"""The report tests' Board: a history through 2027 Q2 (the `history` fixture makes it).

Annex B is imported on 2 Jan 2027; the Board meets on the second Tuesday of each month at 10:00.
In Q2 the CoLP contact rates A-1 red (with a barrier and a note naming two members), A-9 and A-11
are completed, the secretariat adds a confidential red action (A-12) whose every field carries
`MARKER`, and the Community Safety Team notes progress on A-7.
"""

import io
import zipfile
from datetime import UTC, datetime

from bot.cli.console import Console
from handlers.replies import Reply
from tests.conftest import LONDON

MARKER = "NIGHTJAR7Q"
SECRET_TITLE = f"Operation {MARKER} covert payments"
# Every member's name, and the person inside a partner alias: none may appear in a public paper.
PEOPLE = (
    "John Simpson",
    "Jon Avern",
    "David MacKintosh",
    "Rob Ellis",
    "Jane Anson",
    "Steve Playle",
    "Nia Agent",
    "Olive Observer",
    "Chris Pelham",
)
MEETING_DAYS = ((1, 12), (2, 9), (3, 9), (4, 13), (5, 11), (6, 8), (7, 13))
MEETINGS = [datetime(2027, m, d, 10, 0, tzinfo=LONDON).astimezone(UTC) for m, d in MEETING_DAYS]
AFTER_Q2 = datetime(2027, 7, 5, 9, 0, tzinfo=UTC)
BEFORE_JUNE_MEETING = datetime(2027, 6, 7, 12, 0, tzinfo=UTC)


def run_at(engine, settings, when: datetime, user: str, text: str) -> Reply:
    """Run a `/soc` command as `user` at `when`; it must succeed."""
    reply = Console(engine, settings, user, clock=lambda: when).ask(text)
    assert not reply.error, f"{text}: {reply.title} {reply.hint}"
    return reply


def file_texts(data: bytes) -> str:
    """Every part of a .docx or .xlsx (a zip of XML), decoded and joined, for searching."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()
        )


def assert_nothing_private(text: str) -> None:
    """No confidential marker and no person's name anywhere in `text`."""
    assert MARKER not in text
    for name in PEOPLE:
        assert name.casefold() not in text.casefold(), name
