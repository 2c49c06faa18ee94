"""Who is asking, on which board, where and when: everything a handler needs besides the input."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from models.tables import Board, Member


@dataclass(frozen=True)
class Surface:
    """Where a command was typed and what that place can draw; each channel package makes its own.

    Handlers read abilities from here and never compare `name` to a channel: a new channel is a
    new `Surface`, not a new branch in the core.
    """

    name: str = "console"
    # The channel whose user ids the asker is known by here ("slack" for `console --as U123`).
    identity_channel: str = "slack"
    # How a command is typed here, shown in hints: "/soc" (Slack), "@soc" (Teams), "" (console).
    prefix: str = ""
    # Can show a reply to the asker alone inside a shared channel (Slack's ephemeral messages).
    ephemeral: bool = False
    # Can open a form (a Slack modal, an Adaptive Card with inputs).
    forms: bool = False
    # Can draw controls (buttons, selects) on a reply.
    buttons: bool = False
    # Can send a file (a chart, a paper) after the reply, in the channel or by direct message.
    files: bool = False

    def typed(self, command: str) -> str:
        """`command` as a person types it here: "/soc action status" where the prefix is "/soc"."""
        return f"{self.prefix} {command}".strip()


CONSOLE = Surface()
# Direct messages from the worker (reminders, priorities invitations) are written for this until
# the sender passes the recipient's own surface: a chat where commands start with `/soc` and
# messages carry buttons, as every recipient had before channels were chosen per member.
DIRECT_MESSAGE = Surface(name="direct message", prefix="/soc", buttons=True)


def board_zone(board: Board) -> ZoneInfo:
    """The Board's time zone: every local date and time of the Board is in it."""
    return ZoneInfo(board.timezone)


@dataclass(frozen=True)
class Context:
    """The caller of a command; `now` is passed in (aware), never read from the clock here."""

    board: Board
    user_id: str
    member: Member | None
    now: datetime
    surface: Surface = CONSOLE

    @property
    def tz(self) -> ZoneInfo:
        """The Board's time zone (its own setting, read afresh: a command may change it)."""
        return board_zone(self.board)

    @property
    def today(self) -> date:
        """The board's local date at `now`."""
        return self.now.astimezone(self.tz).date()
