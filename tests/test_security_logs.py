"""Tokens and secrets never reach a log, with every logger at DEBUG, whatever the app does."""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from bot.slack.courier import reminder_client, slack_couriers
from bot.slack.ids import EVENTS_PATH, OPERATION_NOTE, OPERATION_RAG
from bot.slack.socket_mode import create_socket_handler
from bot.worker import serve_board
from tests.conftest import CHAIR, COLP, NOW, SECRETARIAT, TRADING
from tests.slack_fixtures import find_button, rag_option
from tests.slack_stub import BOT_TOKEN, SIGNING_SECRET, sign, slack_settings
from tests.worker_fixtures import FAST, FIVE_DAYS

pytest_plugins = ("tests.slack_fixtures",)

APP_TOKEN = "xapp-1-A0SOCBOT-424242-test-app-token-never-real"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)
ROOT = Path(__file__).resolve().parent.parent
# The libraries whose logging could carry a request or its headers.
LIBRARIES = ("slack_bolt", "slack_sdk", "urllib3", "urllib", "werkzeug", "gunicorn",
             "gunicorn.error", "gunicorn.access", "apscheduler", "flask", "sqlalchemy", "alembic",
             "bot", "handlers", "models", "bot.slack.app.bolt")  # fmt: skip


@pytest.fixture
def everything_at_debug(caplog):
    """Root and every logger (bot.slack.app.bolt too, which is WARNING by design) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    names = set(logging.root.manager.loggerDict) | set(LIBRARIES)
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def logged(caplog) -> str:
    """Every captured record: formatted, with its tracebacks, and everything it carries."""
    return caplog.text + "\n".join(repr(vars(record)) for record in caplog.records)


def assert_no_secrets(text: str) -> None:
    """None of the tokens or the signing secret, whole or without their prefix."""
    for secret in SECRETS:
        assert secret not in text
        assert secret.split("-", 1)[1] not in text


def test_a_whole_day_of_use_logs_no_secret(slack, board_engine, settings, stub, console,
                                           everything_at_debug, monkeypatch):  # fmt: skip
    # Commands: reads, a write, a channel post, a refusal, an upload by DM and in the channel.
    slack.command(COLP, "action status")
    slack.command(COLP, 'action update A-1 rag=green note="Dashboard shared"')
    slack.command(CHAIR, "rag")
    slack.command(TRADING, "action update A-1 rag=red")
    slack.command(CHAIR, "rag chart")
    stub.wait_for("files.completeUploadExternal")
    slack.command(SECRETARIAT, "report quarter 2026Q4")
    stub.wait_for("files.completeUploadExternal", 2)
    # Buttons and a form.
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], OPERATION_RAG, "A-1")
    slack.click(COLP, select_, listing.response_url, choose=rag_option(select_, "red"))
    slack.click(COLP, find_button(listing.json["blocks"], OPERATION_NOTE, "A-1"))
    slack.submit(COLP, stub.view(), {"note": "From the form"})
    # App Home, and an event retry.
    home = {"type": "app_home_opened", "user": COLP, "tab": "home", "event_ts": "1.1"}
    slack.event(home, event_id="Ev0LOGS")
    slack.event(home, event_id="Ev0LOGS", retry_num=1)
    # Refused requests: forged, stale, replayed.
    body = slack.command_body(COLP, "help", stub.response_url())
    assert slack.post(body, "application/x-www-form-urlencoded", sign(body, secret="x")).status
    headers = sign(body)
    slack.post(body, "application/x-www-form-urlencoded", headers)
    assert slack.post(body, "application/x-www-form-urlencoded", headers).status == 401
    # Slack failing: rate limits and server errors on the Web API and a response_url.
    stub.fail("views.publish", 429, retry_after=0)
    slack.event(home)
    stub.fail("response", 500, retry_after=None)
    slack.click(COLP, find_button(listing.json["blocks"], OPERATION_NOTE, "A-1"))
    # A crash inside a command is logged with its traceback.
    monkeypatch.setattr("bot.slack.listeners.runtime.run_command", lambda **_: 1 / 0)
    slack.command(COLP, "action status")
    monkeypatch.undo()
    # The worker: a reminder pass, with a rate limit and a user Slack refuses for good.
    console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"')
    stub.fail("chat.postMessage", 429, retry_after=0)
    stub.refuse(TRADING, "user_not_found")
    worker_settings = slack_settings(settings, stub)
    from bot.senders.reminders import ReminderSender

    client = reminder_client(worker_settings, retry_interval=FAST)
    sender = ReminderSender(board_engine, slack_couriers(client, worker_settings.tz),
                            worker_settings.tz)  # fmt: skip
    report = serve_board(board_engine, sender, FIVE_DAYS).reminders
    assert report.sent >= 1 and report.failed == 1
    # Socket Mode asks Slack for a websocket URL with the app token.
    socket_settings = replace(worker_settings, slack_app_token=APP_TOKEN)
    handler = create_socket_handler(socket_settings, engine=board_engine, clock=lambda: NOW)
    assert handler.client.issue_new_wss_url().startswith("ws://")
    # The tokens really were used: only the logs are clean.
    sent = [c.headers.get("authorization", "") for c in stub.calls]
    assert f"Bearer {BOT_TOKEN}" in sent and f"Bearer {APP_TOKEN}" in sent
    text = logged(everything_at_debug)
    assert "ZeroDivisionError" in text and "Sending a request" in text  # DEBUG was really on
    assert_no_secrets(text)


def test_the_settings_never_show_their_secrets(settings, stub):
    shown = repr(replace(slack_settings(settings, stub), slack_app_token=APP_TOKEN))
    assert_no_secrets(shown)
    with_password = replace(settings, database_url="postgresql://soc:hunter2@db/soc")
    assert "hunter2" not in repr(with_password)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVER = """
import logging, sys
from bot.config import load_settings
from bot.slack.server import GunicornServer, create_wsgi_app, gunicorn_options
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
for name in list(logging.root.manager.loggerDict):
    logging.getLogger(name).setLevel(logging.DEBUG)
settings = load_settings()
options = {**gunicorn_options("127.0.0.1", int(sys.argv[1]), {"WEB_CONCURRENCY": "1"}),
           "loglevel": "debug", "accesslog": "-"}
GunicornServer(lambda: create_wsgi_app(settings), options).run()
"""


def test_the_real_server_logs_no_secret(board_engine, settings, stub, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN,
           "SLACK_API_URL": stub.api_url, "PYTHONPATH": str(ROOT)}  # fmt: skip
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, log_file.read_text()
                    time.sleep(0.1)
            from tests.slack_stub import SlackHarness

            harness = SlackHarness.__new__(SlackHarness)
            for text in ("action status", 'action update A-1 rag=red note="from gunicorn"'):
                body = harness.command_body(COLP, text, stub.response_url())
                for attempt in range(2):  # the second is a replay: 401
                    headers = {**sign(body), "Content-Type": "application/x-www-form-urlencoded"}
                    request = urllib.request.Request(
                        base + EVENTS_PATH, data=body.encode(), headers=headers
                    )
                    try:
                        with urllib.request.urlopen(request, timeout=10) as response:
                            assert json.loads(response.read())["text"]
                    except urllib.error.HTTPError as refused:
                        assert attempt == 1 and refused.code == 401
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    output = log_file.read_text(errors="replace")
    assert "Booting worker" in output and "DEBUG" in output
    assert_no_secrets(output)
