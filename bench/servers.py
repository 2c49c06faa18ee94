"""The servers the Slack benchmark compares, each run as `python bench/servers.py KIND PORT`.

KIND is `soc` (the real app via serve_main), `bare` (a slack-bolt app whose /soc only acks a
static text, process_before_response=True) or `bare-default` (the same in bolt's default mode).
Both bare apps run under the same gunicorn settings as the real one.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, request  # noqa: E402
from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.flask import SlackRequestHandler  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.slack.ids import EVENTS_PATH, SOC_COMMAND  # noqa: E402
from bot.slack.server import GunicornServer, gunicorn_options, serve_main  # noqa: E402


def bare_wsgi_app(settings: Settings, process_before_response: bool) -> Flask:
    """A minimal bolt app on the same adapter: /soc acks a fixed text."""
    app = App(
        client=WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url),
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,
        process_before_response=process_before_response,
    )

    @app.command(SOC_COMMAND)
    def soc(ack) -> None:
        ack("Static reply from the bare app.")

    handler = SlackRequestHandler(app)
    web = Flask("bare")
    web.add_url_rule(EVENTS_PATH, "slack_events", lambda: handler.handle(request), methods=["POST"])
    web.add_url_rule("/healthz", "healthz", lambda: {"ok": True})
    return web


def main(argv: list[str]) -> int:
    """Serve one kind of app on 127.0.0.1:PORT until terminated."""
    kind, port = argv[0], int(argv[1])
    settings = load_settings()
    if kind == "soc":
        return serve_main(settings, port, host="127.0.0.1")
    options = gunicorn_options("127.0.0.1", port)
    GunicornServer(lambda: bare_wsgi_app(settings, kind == "bare"), options).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
