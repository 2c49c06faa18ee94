"""A text console that drives the same `/soc` dispatcher as Slack (errbot's text backend)."""

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.plain_text import render_text
from handlers.context import CONSOLE, Surface
from handlers.errors import CommandError
from handlers.replies import Audience, Reply
from handlers.run import run_command
from handlers.text.vocab import parse_user_id

# CLI subcommands that take a command's own words (`soc-bot meeting move ...`): hints show it typed
# after `soc-bot`. `soc-bot run` shows who it runs as too (`run_as`).
CLI = Surface(name="cli", prefix="soc-bot")
# A hint that shows a command (in backticks), an option (`name=`) or a mention (@name).
_CHAT_SYNTAX = re.compile(r"[`=@]")
PROMPT_HELP = "Type /soc commands (or just `action status`); /as <user> to switch; /quit to leave."
Clock = Callable[[], datetime]


def run_as(user_id: str) -> Surface:
    """`soc-bot run --as U123 ...`: hints show the command line that runs a command as them."""
    return replace(CLI, prefix=f"soc-bot run --as {user_id}")


def in_cli_syntax(refusal: CommandError, usage: str) -> CommandError:
    """A chat handler's refusal for a CLI subcommand with its own options (`--name`): a hint
    written in chat syntax (`member add U1 name=...`) becomes `usage`; others (values, "Did you
    mean ...?") stay."""
    if not _CHAT_SYNTAX.search(refusal.hint):
        return refusal
    return CommandError(refusal.message, usage)


def system_clock() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


class Console:
    """Runs typed lines as a given Slack user and renders the replies as text."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        user_id: str,
        clock: Clock = system_clock,
        surface: Surface = CONSOLE,
    ) -> None:
        self.engine, self.settings, self.user_id, self.clock = engine, settings, user_id, clock
        self.surface = surface

    def run_line(self, line: str) -> str:
        """One input line in, the text that a person would see out."""
        line = line.strip()
        if line.startswith("/as"):
            try:
                self.user_id = parse_user_id(line[3:].strip())
            except Exception:  # noqa: BLE001  (any bad id gets the same explanation)
                return "Usage: /as U123ABC"
            return f"Now acting as {self.user_id}."
        text = line[4:] if line.casefold().startswith("/soc") else line
        reply = self.ask(text)
        return format_console_reply(reply, self.settings, self.surface)

    def ask(self, text: str) -> Reply:
        """Run `/soc text` as the current user and return the reply object."""
        return run_command(
            engine=self.engine,
            board_slug=self.settings.board_slug,
            user_id=self.user_id,
            text=text,
            now=self.clock(),
            surface=self.surface,
        )

    def loop(
        self, lines: Iterable[str], out: TextIO = sys.stdout, interactive: bool = True
    ) -> None:
        """Read-eval-print until /quit or end of input."""
        if interactive:
            print(PROMPT_HELP, file=out)
        for line in lines:
            if line.strip() in ("/quit", "/exit", "quit", "exit"):
                break
            if line.strip():
                print(self.run_line(line), file=out)
                print(file=out)
            if interactive:
                print(f"{self.user_id}> ", end="", file=out, flush=True)


def format_console_reply(reply: Reply, settings: Settings, surface: Surface = CONSOLE) -> str:
    """A rendered reply, marked with who would see it in a chat channel."""
    where = (
        "[posted in the channel]"
        if reply.audience == Audience.IN_CHANNEL
        else "[only you can see this]"
    )
    if reply.post_to:
        # The console reaches no chat: say where Slack or Teams would have posted it.
        where = f"[not posted from here: in Slack or Teams it goes to {', '.join(reply.post_to)}]"
    return f"{where}\n{render_text(reply, settings.tz, surface)}"
