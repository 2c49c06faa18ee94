"""What a web process looked up about a workspace (its Board, its bot token), kept a few seconds.

Every Slack request needs the workspace's bot token (bolt's authorize) and its Board, and every
Teams activity its tenant's or team's Board; reading them from the database cost each request a
transaction or two. Remembering a found answer for
`SECONDS` makes that a lookup per workspace every few seconds instead. Only found answers are
remembered, so a new install is served at once. An uninstall is seen at once by the process that
received Slack's event (it forgets everything: `clear`), and by every other process within
`SECONDS`: the only state a process keeps, and harmless when stale for that long.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

# How long a found answer is used before the database is asked again.
SECONDS = 5.0
# At most this many answers (two a workspace): the oldest go first, so memory stays bounded.
SIZE = 4096


class WorkspaceMemory:
    """Answers about workspaces, each used for `seconds` after it was looked up, `size` at most."""

    def __init__(
        self,
        seconds: float = SECONDS,
        size: int = SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        # key -> (answer, when it stops being used), oldest lookup first.
        self._answers: OrderedDict[Hashable, tuple[object, float]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by `clear`: an answer looked up before a clear is not kept after it.
        self._generation = 0

    def recall(self, key: Hashable, look_up: Callable[[], T | None]) -> T | None:
        """The answer to `key` looked up within `seconds`, else `look_up()` (kept if found)."""
        now = self.clock()
        with self._lock:
            kept, generation = self._answers.get(key), self._generation
        if kept is not None and now < kept[1]:
            return kept[0]
        answer = look_up()
        if answer is not None:
            self._keep(key, answer, now + self.seconds, generation)
        return answer

    def clear(self) -> None:
        """Forget every answer (a workspace was installed or removed)."""
        with self._lock:
            self._answers.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._answers)

    def _keep(self, key: Hashable, answer: object, until: float, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # looked up before a workspace was installed or removed: maybe stale
            self._answers.pop(key, None)
            self._answers[key] = (answer, until)
            # Every answer lives as long, so the expired ones and the oldest are at the front.
            now = self.clock()
            while self._answers and (
                len(self._answers) > self.size or next(iter(self._answers.values()))[1] <= now
            ):
                self._answers.popitem(last=False)
