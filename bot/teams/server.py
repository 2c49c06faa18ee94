"""The Teams HTTP server (aiohttp): POST /api/messages behind JWT validation; GET /healthz and
the RAG chart's signed links (GET /charts/<token>.png) open, as Teams clients fetch images
without a token."""

import asyncio
import logging
import warnings

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator, start_agent_process
from pydantic import ValidationError

from bot.teams.app import TeamsBot
from bot.teams.charts import LinkRefused, draw_public_chart
from bot.teams.config import LOOPBACK, TeamsSettings
from bot.teams.ids import CHART_PATH, HEALTH_PATH, MESSAGES_PATH
from models.db import ping

log = logging.getLogger(__name__)
BOT_KEY = web.AppKey("teams_bot", TeamsBot)
SDK_CONFIGURATION = "agent_configuration"  # the SDK's own key; everything of ours is an AppKey
SDK_MODULES = r"microsoft_agents\.hosting\."


def create_web_app(bot: TeamsBot) -> web.Application:
    """The aiohttp application: every message request's token is checked by the SDK."""
    application = web.Application(client_max_size=1024 * 1024)
    # The SDK's JWT check reads its settings from this string key (`app.get(...)`), so it
    # cannot be an AppKey; and it keeps the caller's claims under a string request key on
    # every request. Those warnings are the SDK's: silenced for its modules and this line only.
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=SDK_MODULES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        application[SDK_CONFIGURATION] = bot.auth_configuration
    application[BOT_KEY] = bot
    application.router.add_post(MESSAGES_PATH, messages)
    application.router.add_get(HEALTH_PATH, healthz)
    application.router.add_get(CHART_PATH, chart_image)
    return application


@jwt_authorization_decorator
async def messages(request: web.Request) -> web.StreamResponse:
    """One activity from Teams, answered once the turn has run (202, or an invoke's body)."""
    bot = request.app[BOT_KEY]
    try:
        response = await start_agent_process(request, bot.agent, bot.adapter)
    except (ValidationError, ValueError, TypeError):
        # An authenticated but malformed activity: say so, never a 500 with a traceback.
        log.warning("refused a malformed activity", exc_info=True)
        return web.json_response({"error": "Not a valid activity."}, status=400)
    return response or web.Response(status=202)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 when it does not."""
    engine = request.app[BOT_KEY].runtime.engine
    try:
        await asyncio.to_thread(ping, engine)
    except Exception:  # noqa: BLE001  (any failure means "not healthy")
        log.warning("health check: database unavailable", exc_info=True)
        return web.json_response({"ok": False, "database": "unavailable"}, status=503)
    return web.json_response({"ok": True})


async def chart_image(request: web.Request) -> web.Response:
    """The RAG chart a signed link names: 404 if not ours, 403 if expired, never any data."""
    bot = request.app[BOT_KEY]
    runtime, charts = bot.runtime, bot.charts
    private = {"Cache-Control": "no-store"}
    if charts is None:
        return web.Response(status=404, headers=private)
    try:
        link = charts.check(request.match_info.get("token", ""))
    except LinkRefused as refused:
        return web.Response(status=refused.status, headers=private)
    if not await asyncio.to_thread(runtime.boards.serves, link.board):
        return web.Response(status=404, headers=private)
    try:
        png = await charts.png(link, lambda chosen: draw_public_chart(runtime.engine, chosen))
    except Exception:  # noqa: BLE001  (a broken image, never a traceback)
        log.exception("drawing the RAG chart for Teams failed")
        return web.Response(status=503, headers=private)
    if png is None:
        return web.Response(status=404, headers=private)
    headers = {"Cache-Control": f"private, max-age={charts.seconds_left(link)}",
               "X-Content-Type-Options": "nosniff"}  # fmt: skip
    return web.Response(body=png, content_type="image/png", headers=headers)


def listen_host(teams: TeamsSettings, requested: str) -> str:
    """Where to listen: anonymous mode is for a local test, so only ever on loopback."""
    return LOOPBACK if teams.anonymous else requested


def serve(bot: TeamsBot, host: str, port: int) -> None:
    """Run the server until stopped."""
    web.run_app(create_web_app(bot), host=host, port=port, print=None, access_log=None)
