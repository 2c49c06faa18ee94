"""HTTP mode: the bolt App on Flask under gunicorn, POST /slack/events and GET /healthz."""

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, request
from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from sqlalchemy.engine import Engine

from bot.config import Settings, SettingsError
from bot.setup import open_engine
from bot.slack.app import check_slack_settings, create_app
from bot.slack.http_request import from_flask
from bot.slack.ids import EVENTS_PATH
from bot.slack.listeners.respond import failure_text, report_failure
from models.db import ping

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
_OPTIONAL_SETTINGS = {"control_socket_disable"}


def create_wsgi_app(
    settings: Settings, *, engine: Engine | None = None, **app_options: Any
) -> Flask:
    """The Flask app serving Slack's requests; refuses to exist without a signing secret.

    When workspaces install the app, it also serves the install link and Slack's redirect.
    """
    check_slack_settings(settings, "slack_signing_secret")
    engine = engine or open_engine(settings)
    app = create_app(settings, engine=engine, **app_options)
    web = Flask("soc-bot")

    @web.post(EVENTS_PATH)
    def slack_events():
        if not request.headers.get("X-Slack-Request-Timestamp", "").isdigit():
            # Unsigned, as far as we are concerned: bolt's check would raise on it, not refuse.
            return "", 401
        try:
            # Not bolt's Flask adapter: its body parser mistakes a command typed with the word
            # "payload" for a button click (see bot.slack.http_request).
            return to_flask_response(app.dispatch(from_flask(request)))
        except Exception as error:  # noqa: BLE001
            # Bolt itself failed on a signed but malformed payload, before any listener (and so
            # before the app's error handler) ran: answer as that handler does, never with a 500.
            report_failure(error, None)
            return {"response_type": "ephemeral", "text": failure_text(error)}, 200

    if app.oauth_flow is not None:
        oauth = app.oauth_flow

        @web.get(oauth.install_path)
        def slack_install():
            return to_flask_response(oauth.handle_installation(to_bolt_request(request)))

        @web.get(oauth.redirect_uri_path)
        def slack_oauth_redirect():
            return to_flask_response(oauth.handle_callback(to_bolt_request(request)))

    @web.get("/healthz")
    def healthz():
        try:
            ping(engine)
        except Exception:  # noqa: BLE001  (any failure means "not healthy")
            log.warning("health check: database unavailable", exc_info=True)
            return {"ok": False, "database": "unavailable"}, 503
        return {"ok": True}

    return web


def gunicorn_options(
    host: str, port: int, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Gunicorn settings: WEB_CONCURRENCY worker processes of SOC_THREADS threads each."""
    env = os.environ if environ is None else environ
    workers = _count(env, "WEB_CONCURRENCY", DEFAULT_WORKERS)
    threads = _count(env, "SOC_THREADS", DEFAULT_THREADS)
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "soc-bot-web",
        # Newer gunicorn's control socket lives in $HOME, is unused here, and would be shared.
        "control_socket_disable": True,
    }


class GunicornServer(BaseApplication):
    """Gunicorn run from Python: each worker builds its own app (and database engine)."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's configuration."""
        for key, value in self.options.items():
            if key in _OPTIONAL_SETTINGS and key not in self.cfg.settings:
                continue  # an older gunicorn without this setting
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the WSGI app (in each worker, after the fork)."""
        return self.factory()


def serve_main(settings: Settings, port: int | None = None, *, host: str = "0.0.0.0") -> int:
    """Run the HTTP server until stopped; a missing setting, or a database that cannot be reached
    or is not upgraded, raises before it starts (SettingsError, NotMigrated, SQLAlchemyError)."""
    check_slack_settings(settings, "slack_signing_secret")
    open_engine(settings).dispose()  # fail here, with the message, not in every worker
    options = gunicorn_options(host, port or settings.port)
    log.info("serving Slack on %s with %s workers × %s threads", options["bind"],
             options["workers"], options["threads"])  # fmt: skip
    try:
        GunicornServer(lambda: create_wsgi_app(settings), options).run()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name) or str(default)
    if not text.isdigit() or not 0 < int(text) <= 64:
        raise SettingsError(f"{name}={text!r} is not a whole number from 1 to 64.")
    return int(text)
