"""The RAG chart in a Teams card: a short-lived signed link to an image the bot serves itself.

A card can only show an image the Teams client fetches by URL (and 28 KB holds no chart), so the
card of `rag chart` has an Image whose URL is `<TEAMS_PUBLIC_URL>/charts/<token>.png`. The token
signs (board, register version, when the card was drawn, expiry) with HMAC-SHA256 under a key
derived from the app's client secret, and lasts ten minutes. A valid link is answered with the
chart of the register as it was when the card was drawn, counting only non-confidential actions,
as the channel's chart always does; a tampered or unknown link gets 404 and an expired one 403,
neither with any data. Nothing is written to a file or a public store.
"""

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.teams.config import TeamsSettings
from bot.teams.ids import CHART_PATH
from handlers.context import board_zone
from handlers.reports.snapshot import chart_data, take_snapshot
from models.actions import PUBLIC, register_version
from models.boards import get_board

LIFETIME = timedelta(minutes=10)
KEY_CONTEXT = b"soc-bot/teams/chart-links/v1"
CACHED_CHARTS = 16


class LinkRefused(Exception):
    """A chart link that is not served: `status` is 404 (not ours) or 403 (expired)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class ChartLink:
    """What a valid link names: the board's chart at a register version and moment."""

    board: str
    version: int
    drawn_at: int  # Unix seconds
    expires: int  # Unix seconds

    def as_at(self) -> datetime:
        """When the card was drawn: the chart shows the register as it was then."""
        return datetime.fromtimestamp(self.drawn_at, UTC)


class ChartLinks:
    """Makes and checks chart links, and keeps the last few charts drawn for them."""

    def __init__(
        self,
        key: bytes,
        base_url: str,
        clock: Callable[[], datetime],
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self._key, self.base_url, self._clock, self.lifetime = key, base_url, clock, lifetime
        self._charts: OrderedDict[ChartLink, bytes] = OrderedDict()
        self._drawing = asyncio.Lock()

    @classmethod
    def for_settings(cls, teams: TeamsSettings, clock: Callable[[], datetime]) -> "ChartLinks":
        """Links under `TEAMS_PUBLIC_URL`, keyed from the client secret (anonymous: a random key,
        so links last as long as the process)."""
        if teams.client_secret:
            key = hmac.new(teams.client_secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()
        else:
            key = secrets.token_bytes(32)
        return cls(key, teams.public_url, clock)

    @property
    def enabled(self) -> bool:
        """Whether the bot knows its public address (else the chart follows as its own image)."""
        return bool(self.base_url)

    def url(self, board: str, version: int) -> str:
        """A link to the board's chart at this register version, valid for `lifetime`."""
        now = self._clock()
        fields = (
            f"{board}|{version}|{int(now.timestamp())}|{int((now + self.lifetime).timestamp())}"
        )
        payload = _encode(fields.encode())
        token = f"{payload}.{_encode(self._sign(payload))}"
        return self.base_url + CHART_PATH.format(token=token)

    def check(self, token: str) -> ChartLink:
        """The link a token names, if this bot signed it and it has not expired."""
        payload, _, signature = token.partition(".")
        try:
            genuine = hmac.compare_digest(_decode(signature), self._sign(payload))
            board, version, drawn, expires = _decode(payload).decode().split("|")
            link = ChartLink(board, int(version), int(drawn), int(expires))
        except ValueError:
            raise LinkRefused(404) from None
        if not genuine:
            raise LinkRefused(404)
        if self._clock().timestamp() >= link.expires:
            raise LinkRefused(403)
        return link

    def seconds_left(self, link: ChartLink) -> int:
        """How long a client may keep the image."""
        return max(0, int(link.expires - self._clock().timestamp()))

    async def png(self, link: ChartLink, draw: Callable[[ChartLink], bytes | None]) -> bytes | None:
        """The chart's PNG, drawn once (off the event loop) however many clients fetch it."""
        async with self._drawing:
            if link not in self._charts:
                png = await asyncio.to_thread(draw, link)
                if png is None:
                    return None
                self._charts[link] = png
                while len(self._charts) > CACHED_CHARTS:
                    self._charts.popitem(last=False)
            self._charts.move_to_end(link)
            return self._charts[link]

    def _sign(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).digest()


def current_version(engine: Engine, board_slug: str) -> int | None:
    """The board's register version now (None if there is no such board)."""
    with Session(engine) as session:
        board = get_board(session=session, slug=board_slug)
        return None if board is None else register_version(session=session, board_id=board.id)


def draw_public_chart(engine: Engine, link: ChartLink) -> bytes | None:
    """The channel's RAG chart (no confidential action) as it was when the link was made, in
    the Board's time zone."""
    from bot.files.chart import render_png  # matplotlib loads slowly: only when drawing

    with Session(engine) as session:
        board = get_board(session=session, slug=link.board)
        if board is None:
            return None
        at, tz = link.as_at(), board_zone(board)
        snapshot = take_snapshot(session, board, at=at, visibility=PUBLIC, public=True, tz=tz)
        chart = chart_data(session, board, snapshot, tz=tz)
    return render_png(chart)


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("not base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as err:
        raise ValueError("not base64") from err
