"""A small per-process cache for answers that only change when the register does."""

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlmodel import Session

from models.actions import has_uncommitted_writes
from models.tables import Board

T = TypeVar("T")

# What the answers of one process may take, pickled. An answer is a page of a listing or a
# summary, a few kB: this keeps thousands, every Board's usual questions at several hundred
# Boards, and bounds the memory however many Boards there are.
CACHE_BYTES = 16 * 1024 * 1024
# What an entry costs besides its pickled answer (its key, the dict slot), roughly.
ENTRY_OVERHEAD = 300
# An answer larger than this share of the cache is not kept (it would push out many others).
LARGEST_SHARE = 16


class VersionedCache:
    """Least-recently-used answers keyed by what was asked and the register version.

    Keys include the board's register version, so a change to the register makes every older
    entry unreachable; there is nothing to invalidate. Values are kept pickled, so each caller
    gets its own copy and can never alter what another request will read (unpickling is several
    times faster than `copy.deepcopy` for reply objects), and the cache is bounded by their size.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable | None, compute: Callable[[], T]) -> T:
        """The cached value for `key`, computing and storing it on a miss (`None`: never kept)."""
        if key is None:
            return compute()
        with self._lock:
            stored = self._entries.get(key)
            if stored is not None:
                self._entries.move_to_end(key)
        if stored is not None:
            return pickle.loads(stored)
        value = compute()
        stored = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if _cost(stored) * LARGEST_SHARE > self.max_bytes:
            return value
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self.used_bytes -= _cost(replaced)
            self._entries[key] = stored
            self.used_bytes += _cost(stored)
            while self.used_bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.used_bytes -= _cost(dropped)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything (tests and benchmarks)."""
        with self._lock:
            self._entries.clear()
            self.used_bytes = 0


def _cost(stored: bytes) -> int:
    return len(stored) + ENTRY_OVERHEAD


REGISTER_CACHE = VersionedCache()


def register_key(session: Session, board: Board, *parts: Hashable) -> tuple | None:
    """A cache key for `board` at its register version, plus what was asked; None (do not
    cache) while the session holds uncommitted writes, which a rollback would take back."""
    if has_uncommitted_writes(session):
        return None
    # The database URL and the board's creation time tell apart two databases (tests, restores)
    # whose boards happen to share an id and a version.
    database = session.get_bind().url.render_as_string(hide_password=True)
    # The version as the Board was read in this transaction, before anything the answer is
    # computed from: the answer is at least that new, so a later version never finds it.
    return (database, board.id, board.created_at, board.register_version, *parts)
