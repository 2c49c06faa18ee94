"""Events are handled once: Slack's retries (X-Slack-Retry-Num) and repeated event ids are acked.

A retry means Slack did not see our 200 in time, not that the event was lost: the first delivery
is still being (or has been) handled, so retries are acknowledged without running listeners. An
in-memory record of recent event ids also catches repeats without the header (per process; the
header check covers retries that land on another worker). The cost is an event whose first
delivery crashed mid-way is not retried; App Home is re-published on the next visit anyway.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

RECENT_EVENTS = 2000


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


def register(app: App, recent: RecentIds | None = None) -> None:
    """Install the middleware that drops event retries and repeats."""
    recent = recent or RecentIds()

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
