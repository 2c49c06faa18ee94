"""Who is asking, on which board, where and when: everything a handler needs besides the input."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from models.tables import Board, Member


@dataclass(frozen=True)
class Context:
    """The caller of a command; `now` is passed in (aware), never read from the clock here."""

    board: Board
    user_id: str
    member: Member | None
    now: datetime
    tz: ZoneInfo
    surface: str = "console"

    @property
    def today(self) -> date:
        """The board's local date at `now`."""
        return self.now.astimezone(self.tz).date()
