"""Each request is handled once: event retries and repeats are acked, replayed requests refused.

A retry means Slack did not see our 200 in time, not that the event was lost: the first delivery
is still being (or has been) handled, so retries are acknowledged without running listeners. A
record of recent event ids also catches repeats without the header. The cost is an event whose
first delivery crashed mid-way is not retried; App Home is re-published on the next visit anyway.

A replay is different: a byte-identical signed request sent again. Its signature stays valid for
Slack's five-minute window, and Slack itself never sends one (its retries are events, marked
above), so it can only be someone who captured a request re-sending it to run the command twice
or read its answer. Every signature is remembered until its timestamp leaves the window, and a
second request carrying it is refused with 401, as a forged one is.

Both records are kept in the Board's database (`models.request_fingerprints`), not in memory, so
every web process sees them: a replay sent to another gunicorn worker than the original is
refused as well. Checking costs each request one small write (see `fingerprint_engine`).
"""

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.slack.listeners.runtime import Runtime
from handlers.replies import error_reply
from handlers.run import TRY_AGAIN
from models.request_fingerprints import (
    fingerprint_engine,
    forget_expired_fingerprints,
    remember_fingerprint,
)

log = logging.getLogger(__name__)

# Slack's signature check accepts a timestamp up to five minutes away from now, either way.
SIGNATURE_WINDOW = 5 * 60
# Slack retries an event three times within about five minutes; an hour covers them all.
EVENT_MEMORY = 60 * 60
# How often each process deletes expired fingerprints (one indexed DELETE).
PURGE_EVERY = 60


class SeenRequests:
    """Signatures and event ids already served, remembered in the database until they expire."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.clock = fingerprint_engine(engine), clock
        self._next_purge = 0.0

    def signature_first_time(self, signature: str, timestamp: str) -> bool:
        """Record a verified request's signature; True only the first time it is seen."""
        now = self.clock()
        stamp = int(timestamp) if timestamp.isdigit() else int(now)
        return self._first_time("signature", signature, max(stamp, int(now)) + SIGNATURE_WINDOW + 1)

    def event_first_time(self, event_id: str) -> bool:
        """Record an event id; True only the first time it is seen within the hour."""
        return self._first_time("event", event_id, self.clock() + EVENT_MEMORY)

    def _first_time(self, kind: str, value: str, until: float) -> bool:
        now = self.clock()
        fingerprint = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
        with self.engine.begin() as connection:
            if now >= self._next_purge:
                # Several threads may purge at once now and then: harmless, and cheaper than a lock.
                self._next_purge = now + PURGE_EVERY
                forget_expired_fingerprints(connection=connection, now=_utc(now))
            return remember_fingerprint(connection=connection, fingerprint=fingerprint,
                                        expires_at=_utc(until), now=_utc(now))  # fmt: skip


def register(app: App, runtime: Runtime, seen: SeenRequests | None = None) -> None:
    """Install the middleware that drops event retries and repeats and refuses replays."""
    seen = seen or SeenRequests(runtime.engine)

    @app.middleware
    def skip_repeated_events(
        request: BoltRequest, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if isinstance(body, dict) and body.get("type") == "event_callback":
            if request.headers.get("x-slack-retry-num"):
                return BoltResponse(status=200, body="")
            event_id = body.get("event_id")
            if event_id and not seen.event_first_time(str(event_id)):
                return BoltResponse(status=200, body="")
        return next()

    @app.middleware
    def refuse_replays(
        request: BoltRequest, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # Runs after bolt has verified the signature: only genuine requests are remembered.
        signature = _header(request, "x-slack-signature")
        if not signature:
            return next()
        try:
            first = seen.signature_first_time(
                signature, _header(request, "x-slack-request-timestamp")
            )
        except OperationalError:
            if not (isinstance(body, dict) and body.get("command")):
                raise  # the error handler tells the person, wherever it can
            # A command cannot run without the database either: say so, as a command would.
            log.error("database unavailable checking a request for replay", exc_info=True)
            hint = "Try again in a minute; if it persists, tell the secretariat."
            return BoltResponse(status=200, body=runtime.render(error_reply(TRY_AGAIN, hint)))
        if not first:
            log.warning("refused a replayed request: its signature was used a moment ago")
            return BoltResponse(status=401, body="")
        return next()


def _header(request: BoltRequest, name: str) -> str:
    values = request.headers.get(name) or [""]
    return values[0] if isinstance(values, list | tuple) else str(values)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
