"""What every listener shares: the database, the clock, the settings and answering in time."""

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.slack.listeners.respond import ReplyNotShown, post, report_failure
from bot.slack.render.blocks import slack_message
from bot.slack.surface import SLACK
from handlers.replies import Reply
from handlers.run import run_command

log = logging.getLogger(__name__)

# Slack waits 3 s for the acknowledgement; keep a second for the network and the ack itself.
ACK_BUDGET = 2.0
WORKING = "Working on it… the answer will appear here in a moment."


@dataclass
class Runtime:
    """One per app: commands run as the Slack user, answered inline or through `response_url`.

    Each request gets a copy scoped to its workspace's Board (`for_board`); the app's own
    runtime names no Board, so anything run through it finds none.
    """

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime]
    executor: Executor
    ack_budget: float = ACK_BUDGET
    # (team id, enterprise id) -> the slug of the Board serving that workspace, None if none.
    boards: Callable[[str | None, str | None], str | None] | None = None
    board_slug: str = ""

    def board_of(self, team_id: str | None, enterprise_id: str | None) -> str | None:
        """The slug of the Board a request from this workspace runs against (None: none does)."""
        if self.boards is None:
            return self.settings.board_slug  # one workspace, one Board
        return self.boards(team_id, enterprise_id)

    def for_board(self, board_slug: str) -> "Runtime":
        """This runtime for one request, against one Board."""
        return replace(self, board_slug=board_slug)

    def run(self, user_id: str, text: str) -> Reply:
        """Run `/soc text` for a Slack user in one transaction."""
        return run_command(engine=self.engine, board_slug=self.board_slug,
                           user_id=user_id, text=text, now=self.clock(), surface=SLACK)  # fmt: skip

    def message(self, user_id: str, text: str, **extra: Any) -> dict:
        """Run a command and render its reply as a Slack message (plus `extra` fields)."""
        reply = self.run(user_id, text)
        return self.render(reply, **extra)

    def render(self, reply: Reply, **extra: Any) -> dict:
        """A reply as a Slack message; a failure here comes after the command was saved."""
        try:
            return {**slack_message(reply, self.settings.tz), **extra}
        except Exception as err:
            raise ReplyNotShown("rendering the reply failed") from err

    def within_budget(
        self,
        work: Callable[[], Any],
        response_url: str | None,
        late: Callable[[Any], None] | None = None,
    ) -> Any:
        """Run `work`, waiting at most the ack budget: its result, or None if it runs on.

        Work finished in time returns its result (or raises, for the one error handler). Work that
        overruns keeps going: `late` then gets its result, and a failure is reported to the user
        through `response_url`.
        """
        future = self.executor.submit(work)
        try:
            return future.result(timeout=self.ack_budget)
        except TimeoutError:
            if future.done():
                raise  # the work itself timed out
        future.add_done_callback(lambda done: _finish_late(done, response_url, late))
        return None

    def answer_later(self, work: Callable[[], dict], response_url: str | None) -> None:
        """Post the message `work` returns to `response_url` once it is ready."""

        def deliver() -> None:
            message = work()
            try:
                post(response_url, message)
            except Exception as err:
                raise ReplyNotShown("posting the reply failed") from err

        self.within_budget(deliver, response_url)


def _finish_late(
    future: Future, response_url: str | None, late: Callable[[Any], None] | None
) -> None:
    error = future.exception()
    if error is None and late is not None:
        try:
            late(future.result())
        except Exception as err:
            error = ReplyNotShown("delivering a late reply failed")
            error.__cause__ = err
    if error is not None:
        report_failure(error, response_url)
