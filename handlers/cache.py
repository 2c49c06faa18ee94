"""A small per-process cache for answers that only change when the register does."""

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlmodel import Session

from models.actions import register_version
from models.tables import Board

T = TypeVar("T")


class VersionedCache:
    """Least-recently-used answers keyed by what was asked and the register version.

    Keys include the board's register version, so a change to the register makes every older
    entry unreachable; there is nothing to invalidate. Values are kept pickled, so each caller
    gets its own copy and can never alter what another request will read (unpickling is several
    times faster than `copy.deepcopy` for reply objects).
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, computing and storing it on a miss."""
        with self._lock:
            stored = self._entries.get(key)
            if stored is not None:
                self._entries.move_to_end(key)
        if stored is not None:
            return pickle.loads(stored)
        value = compute()
        stored = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries[key] = stored
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (tests and benchmarks)."""
        with self._lock:
            self._entries.clear()


REGISTER_CACHE = VersionedCache()


def register_key(session: Session, board: Board, *parts: Hashable) -> tuple:
    """A cache key for `board` at its current register version, plus what was asked."""
    # The database URL and the board's creation time tell apart two databases (tests, restores)
    # whose boards happen to share an id and a version.
    database = session.get_bind().url.render_as_string(hide_password=True)
    version = register_version(session=session, board_id=board.id)
    return (database, board.id, board.created_at, version, *parts)
