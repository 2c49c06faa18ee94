"""Every request runs against its own workspace's Board, and a workspace without one is told so.

The middleware finds the Board from the request's team (or enterprise) id, through the
workspace's binding when the app is installed in many workspaces, or the one configured Board
otherwise, and puts the app's `Runtime` scoped to it into bolt's context as `runtime`: each
listener takes that as its `runtime` argument (bolt passes context entries by name). A request
from a workspace with no active Board gets one clear answer, ephemeral where it can be, and
runs nothing.
"""

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.slack.listeners.respond import post
from bot.slack.listeners.runtime import Runtime
from bot.slack.render.modals import message_view
from handlers.replies import error_reply

RUNTIME = "runtime"
# The uninstall events must reach their listeners even for a Board already marked inactive.
REVOCATION_EVENTS = frozenset({"app_uninstalled", "tokens_revoked"})
NOT_INSTALLED_TEXT = (
    "soc-bot is not set up for this Slack workspace (it was removed, or never installed), so "
    "nothing was done."
)
NOT_INSTALLED_HINT = "Ask a workspace admin to install it again from the install link."
NOT_INSTALLED = error_reply(NOT_INSTALLED_TEXT, NOT_INSTALLED_HINT)
# The same, as plain text: bolt's own answer when the workspace has no tokens any more.
NOT_INSTALLED_MESSAGE = f"{NOT_INSTALLED_TEXT} {NOT_INSTALLED_HINT}"


def register(app: App, runtime: Runtime) -> None:
    """Install the middleware that scopes each request to its workspace's Board."""

    @app.middleware
    def scope_to_board(
        context: BoltContext, body: dict, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        body = body if isinstance(body, dict) else {}
        if (body.get("event") or {}).get("type") in REVOCATION_EVENTS:
            return next()
        slug = runtime.board_of(context.team_id, context.enterprise_id)
        if slug is None:
            return _not_installed(runtime, body)
        context[RUNTIME] = runtime.for_board(slug)
        return next()


def _not_installed(runtime: Runtime, body: dict) -> BoltResponse:
    if body.get("command"):
        return BoltResponse(
            status=200, body=runtime.render(NOT_INSTALLED, response_type="ephemeral")
        )
    if body.get("type") == "view_submission":
        view = message_view(NOT_INSTALLED, runtime.settings.tz, "Not possible")
        return BoltResponse(status=200, body={"response_action": "update", "view": view})
    if body.get("response_url"):
        post(body["response_url"], runtime.render(NOT_INSTALLED, response_type="ephemeral",
                                                  replace_original=False))  # fmt: skip
    return BoltResponse(status=200, body="")
