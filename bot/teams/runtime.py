"""What the Teams listeners share: the database, the clock and the settings; commands off-loop.

Each turn gets a copy scoped to its own Board (`for_board`, by `bot.teams.boards`); the app's
own runtime names no Board, so anything run through it finds none.
"""

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.teams.boards import TeamsBoards
from bot.teams.surface import TEAMS
from handlers.context import Context
from handlers.replies import Reply
from handlers.run import run_command, run_use_case

T = TypeVar("T")


@dataclass
class TeamsRuntime:
    """One per app: commands run as the Teams user (their Entra object id) in worker threads."""

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime]
    # Whether activities must come from Microsoft's connectors (so uploads must go to https).
    teams_check_service_url: bool = True
    # Conversation references stored lately, by object id: (reference JSON, when), so an
    # unchanged one is not written again on every message.
    # Shared by every turn's copy; keyed by (Board, object id).
    remembered: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    # Finds each activity's Board (made by `create_app`).
    boards: TeamsBoards | None = None
    board_slug: str = ""

    def for_board(self, board_slug: str) -> "TeamsRuntime":
        """This runtime for one turn, against one Board."""
        # A shallow copy: the shared state (and anything set on the instance) stays shared.
        scoped = copy.copy(self)
        scoped.board_slug = board_slug
        return scoped

    def remembered_lately(self, object_id: str, reference: str, now: datetime) -> bool:
        """Whether this exact reference was stored for the person within the last hour."""
        last = self.remembered.get((self.board_slug, object_id))
        return last is not None and last[0] == reference and now - last[1] < timedelta(hours=1)

    def remember(self, object_id: str, reference: str, now: datetime) -> None:
        """Note that this reference was just stored for the person (see `remembered_lately`)."""
        self.remembered[(self.board_slug, object_id)] = (reference, now)

    def run(self, object_id: str, text: str) -> Reply:
        """Run the command text for a Teams user in one transaction."""
        return run_command(engine=self.engine, board_slug=self.board_slug,
                           user_id=object_id, text=text, now=self.clock(),
                           surface=TEAMS)  # fmt: skip

    def use(
        self, object_id: str, use_case: Callable[[Session, Context], T], read_only: bool = False
    ) -> T | Reply:
        """Run one use case (a card control) for a Teams user, as the runner runs commands."""
        return run_use_case(engine=self.engine, board_slug=self.board_slug,
                            user_id=object_id, now=self.clock(), use_case=use_case,
                            read_only=read_only, surface=TEAMS)  # fmt: skip

    async def run_async(self, object_id: str, text: str) -> Reply:
        """`run` in a worker thread, so a slow database never blocks other requests."""
        return await asyncio.to_thread(self.run, object_id, text)

    async def use_async(
        self, object_id: str, use_case: Callable[[Session, Context], T], read_only: bool = False
    ) -> T | Reply:
        """`use` in a worker thread."""
        return await asyncio.to_thread(self.use, object_id, use_case, read_only)
