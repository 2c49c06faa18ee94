"""Each request is handled once: event retries and repeats are acked, replayed requests refused.

A retry means Slack did not see our 200 in time, not that the event was lost: the first delivery
is still being (or has been) handled, so retries are acknowledged without running listeners. An
in-memory record of recent event ids also catches repeats without the header (per process; the
header check covers retries that land on another worker). The cost is an event whose first
delivery crashed mid-way is not retried; App Home is re-published on the next visit anyway.

A replay is different: a byte-identical signed request sent again. Its signature stays valid for
Slack's five-minute window, and Slack itself never sends one (its retries are events, marked
above), so it can only be someone who captured a request re-sending it to run the command twice
or read its answer. Every signature is remembered until its timestamp leaves the window, and a
second request carrying it is refused with 401, as a forged one is. The record is per process:
with several web workers, a replay that reaches a different worker is not caught (see SECURITY.md).
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)

RECENT_EVENTS = 2000
# Slack's signature check accepts a timestamp up to five minutes away from now, either way.
SIGNATURE_WINDOW = 5 * 60
MAX_REMEMBERED = 200_000


class RecentIds:
    """A bounded, thread-safe set of recently seen ids (oldest forgotten first)."""

    def __init__(self, size: int = RECENT_EVENTS) -> None:
        self.size, self._ids, self._lock = size, OrderedDict(), threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """Record `event_id`; True only the first time it is seen."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.size:
                self._ids.popitem(last=False)
            return True


class SeenSignatures:
    """Signatures of requests already served, each kept until its timestamp leaves the window."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock, self._expiry, self._lock = clock, OrderedDict(), threading.Lock()

    def first_time(self, signature: str, timestamp: str) -> bool:
        """Record a verified request's signature; True only the first time it is seen."""
        now = self.clock()
        stamp = int(timestamp) if timestamp.isdigit() else int(now)
        with self._lock:
            while self._expiry and (
                next(iter(self._expiry.values())) < now or len(self._expiry) > MAX_REMEMBERED
            ):
                self._expiry.popitem(last=False)
            if signature in self._expiry:
                return False
            self._expiry[signature] = max(stamp, int(now)) + SIGNATURE_WINDOW + 1
            return True


def register(app: App, recent: RecentIds | None = None, seen: SeenSignatures | None = None) -> None:
    """Install the middleware that drops event retries and repeats and refuses replays."""
    recent = recent or RecentIds()
    seen = seen or SeenSignatures()

    @app.middleware
    def skip_repeated_events(
        request: BoltRequest, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if isinstance(body, dict) and body.get("type") == "event_callback":
            if request.headers.get("x-slack-retry-num"):
                return BoltResponse(status=200, body="")
            event_id = body.get("event_id")
            if event_id and not recent.first_time(event_id):
                return BoltResponse(status=200, body="")
        return next()

    @app.middleware
    def refuse_replays(
        request: BoltRequest, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # Runs after bolt has verified the signature: only genuine requests are remembered.
        signature = _header(request, "x-slack-signature")
        if signature and not seen.first_time(
            signature, _header(request, "x-slack-request-timestamp")
        ):
            log.warning("refused a replayed request: its signature was used a moment ago")
            return BoltResponse(status=401, body="")
        return next()


def _header(request: BoltRequest, name: str) -> str:
    values = request.headers.get(name) or [""]
    return values[0] if isinstance(values, list | tuple) else str(values)
