"""Socket Mode: the same App over a websocket that Slack opens, for hosts without a public URL.

Requests arrive as JSON envelopes whose payload is already a dict, so bolt's form-body parser
(and its mistake over the word "payload", see `bot.slack.http_request`) never runs here.
"""

import logging
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings, SettingsError
from bot.slack.app import create_app

log = logging.getLogger(__name__)


def create_socket_handler(settings: Settings, **app_options: Any) -> SocketModeHandler:
    """The handler for our App; connects only when started."""
    settings.require("slack_bot_token", "slack_app_token")
    if not settings.slack_app_token.startswith("xapp-"):
        raise SettingsError(
            "SLACK_APP_TOKEN must be an app-level token (it starts with xapp-): create one "
            "with the connections:write scope under Basic Information in the app's settings."
        )
    app = create_app(settings, **app_options)
    return SocketModeHandler(app, app_token=settings.slack_app_token)


def socket_main(settings: Settings) -> int:
    """Run in Socket Mode until interrupted; a missing setting, or a database that cannot be
    reached or is not upgraded, raises before it connects (the App checks the database)."""
    handler = create_socket_handler(settings)
    log.info("connecting to Slack in Socket Mode")
    try:
        handler.start()
    except KeyboardInterrupt:
        handler.close()
    return 0
