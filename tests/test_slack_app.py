"""The app as a whole: no I/O at start-up, refusing bad settings, events, errors, retries."""

import json
import logging
import threading
import urllib.request
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from bot.config import SettingsError
from bot.setup import NotMigrated
from bot.slack.app import create_app
from bot.slack.ids import EVENTS_PATH
from bot.slack.listeners.respond import SHOWING_FAILED, SOMETHING_WENT_WRONG
from bot.slack.server import create_wsgi_app, gunicorn_options, serve_main
from bot.slack.socket_mode import create_socket_handler, socket_main
from models.db import make_engine
from tests.conftest import CHAIR, COLP, NOW, OBSERVER
from tests.slack_stub import BOT_TOKEN, SIGNING_SECRET, SlackHarness, sign, slack_settings

pytest_plugins = ("tests.slack_fixtures",)

HOME_OPENED = {"type": "app_home_opened", "user": COLP, "channel": "D0HOME", "tab": "home",
               "event_ts": "1.1"}  # fmt: skip


def test_creating_the_app_does_no_network_io(board_engine, settings, stub):
    app = create_app(slack_settings(settings, stub), engine=board_engine)
    create_wsgi_app(slack_settings(settings, stub), engine=board_engine)
    assert app.client.base_url == stub.api_url
    assert stub.calls == []


def test_auth_test_happens_once_at_the_first_request(slack):
    slack.command(COLP, "help")
    slack.command(COLP, "help")
    assert [c.method for c in slack.stub.calls] == ["auth.test"]
    assert slack.stub.calls[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_http_mode_refuses_to_start_without_a_signing_secret(board_engine, settings, stub):
    no_secret = replace(slack_settings(settings, stub), slack_signing_secret="")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        serve_main(no_secret, 0, host="127.0.0.1")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        create_wsgi_app(no_secret, engine=board_engine)


def test_http_mode_names_every_missing_setting(settings):
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"):
        serve_main(settings, 0)


def test_http_mode_refuses_an_unmigrated_database(settings, stub):
    with pytest.raises(NotMigrated, match="soc-bot db upgrade"):
        serve_main(slack_settings(settings, stub), 0, host="127.0.0.1")


def test_server_size_comes_from_the_environment():
    options = gunicorn_options("127.0.0.1", 8000, {"WEB_CONCURRENCY": "3", "SOC_THREADS": "1"})
    assert (options["bind"], options["workers"], options["worker_class"]) == (
        "127.0.0.1:8000", 3, "sync")  # fmt: skip
    assert gunicorn_options("0.0.0.0", 1, {})["worker_class"] == "gthread"
    with pytest.raises(SettingsError, match="WEB_CONCURRENCY"):
        gunicorn_options("0.0.0.0", 1, {"WEB_CONCURRENCY": "many"})


def test_oauth_variables_are_refused_rather_than_silently_used(settings, stub, monkeypatch):
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "x")
    with pytest.raises(SettingsError, match="single-workspace"):
        create_app(slack_settings(settings, stub), engine=object())


def test_socket_mode_refuses_without_an_app_token(settings, stub):
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        socket_main(slack_settings(settings, stub))
    bot_token = replace(slack_settings(settings, stub), slack_app_token="xoxb-wrong-kind")
    with pytest.raises(SettingsError, match="xapp-"):
        socket_main(bot_token)


def test_socket_mode_handler_wraps_our_app_without_connecting(board_engine, settings, stub):
    socket_settings = replace(slack_settings(settings, stub), slack_app_token="xapp-1-test")
    handler = create_socket_handler(socket_settings, engine=board_engine)
    assert handler.app_token == "xapp-1-test"
    assert handler.client.web_client is handler.app.client
    assert handler.app.client.base_url == stub.api_url
    assert handler.client.is_connected() is False
    assert stub.calls == []


def test_socket_mode_requests_run_the_same_listeners(board_engine, settings, stub):
    from slack_bolt.adapter.socket_mode.internals import run_bolt_app
    from slack_sdk.socket_mode.request import SocketModeRequest

    socket_settings = replace(slack_settings(settings, stub), slack_app_token="xapp-1-test")
    handler = create_socket_handler(socket_settings, engine=board_engine, clock=lambda: NOW)
    request = SocketModeRequest(type="slash_commands", envelope_id="e1", payload={
        "command": "/soc", "text": "action status", "user_id": COLP, "team_id": "T0BOARD",
        "channel_id": "C0BOARD", "response_url": stub.response_url()})  # fmt: skip
    response = run_bolt_app(handler.app, request)
    assert response.status == 200
    assert json.loads(response.body)["text"].startswith("Your partner's actions")


def test_health_check_reports_the_database(slack, settings, stub, tmp_path):
    assert slack.client.get("/healthz").json == {"ok": True}
    broken = make_engine(f"sqlite:///{tmp_path}/missing/dir/soc.db")
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=broken)
    response = web_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"ok": False, "database": "unavailable"}


def test_home_tab_shows_the_members_own_actions(slack):
    assert slack.event(HOME_OPENED).status == 200
    (publish,) = slack.stub.wait_for("views.publish")
    assert publish.data["user_id"] == COLP
    view = publish.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "Your partner's actions" in text and "A-1" in text
    assert '"type": "actions"' in text  # each with its controls (tests/test_slack_home.py)


def test_event_retries_are_acknowledged_without_processing_again(slack):
    slack.event(HOME_OPENED, event_id="Ev0RETRY")
    retry = slack.event(HOME_OPENED, event_id="Ev0RETRY", retry_num=1)
    repeat = slack.event(HOME_OPENED, event_id="Ev0RETRY")
    assert (retry.status, repeat.status) == (200, 200)
    assert len(slack.stub.calls_to("views.publish")) == 1
    slack.event(HOME_OPENED, event_id="Ev0OTHER")
    assert len(slack.stub.wait_for("views.publish", 2)) == 2


def test_web_api_rate_limit_is_retried_after_the_pause(slack):
    slack.stub.fail("views.publish", 429, retry_after=0)
    slack.event(HOME_OPENED)
    first, second = slack.stub.wait_for("views.publish", 2)
    assert first.data == second.data


def test_response_url_server_errors_are_retried(slack):
    slack.stub.fail("response", 500, retry_after=None)
    listing = slack.command(CHAIR, "action status all")
    page = next(b for b in listing.json["blocks"] if b.get("block_id") == "soc_page")
    slack.click(CHAIR, {**page["elements"][0], "block_id": "soc_page"})
    assert len(slack.stub.wait_for("response", 2)) == 2


def test_unexpected_failure_is_explained_ephemerally(slack, monkeypatch, caplog):
    def broken(**_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.slack.listeners.runtime.run_command", broken)
    answer = slack.command(COLP, "action status")
    assert answer.status == 200
    assert answer.json == {"response_type": "ephemeral", "text": SOMETHING_WENT_WRONG}
    assert "RuntimeError" in caplog.text


def test_failure_after_saving_says_the_command_was_carried_out(slack, monkeypatch, console):
    def broken(*_args):
        raise ValueError("cannot render")

    monkeypatch.setattr("bot.slack.listeners.runtime.slack_message", broken)
    answer = slack.command(COLP, "action note A-1 saved anyway")
    assert answer.json["text"] == SHOWING_FAILED
    assert "saved anyway" in str(console.ask("action history A-1"))


def test_failure_behind_a_button_is_posted_to_the_user(slack, monkeypatch):
    listing = slack.command(OBSERVER, "action status all")
    next_page = next(b for b in listing.json["blocks"] if b["type"] == "actions")["elements"][0]
    monkeypatch.setattr("bot.slack.listeners.runtime.run_command", lambda **_: 1 / 0)
    assert slack.click(OBSERVER, next_page).status == 200
    (posted,) = slack.stub.wait_for("response")
    assert posted.data == {"response_type": "ephemeral", "replace_original": False,
                           "text": SOMETHING_WENT_WRONG}  # fmt: skip


def test_late_failure_is_posted_to_the_user(board_engine, settings, stub, monkeypatch):
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine, ack_budget=0)
    gate = threading.Event()

    def slow_and_broken(**_kwargs):
        gate.wait(5)
        raise RuntimeError("late boom")

    monkeypatch.setattr("bot.slack.listeners.runtime.run_command", slow_and_broken)
    answer = SlackHarness(web_app, stub).command(COLP, "rag")
    assert answer.json["text"].startswith("Working on it")
    gate.set()
    (posted,) = stub.wait_for("response")
    assert posted.data["text"] == SOMETHING_WENT_WRONG


def test_tokens_and_secrets_never_reach_the_logs(slack, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    slack.command(COLP, "action status")
    slack.event(HOME_OPENED)
    slack.stub.wait_for("views.publish")
    body = slack.command_body(COLP, "help", slack.stub.response_url())
    forged = sign(body, secret="not-the-secret")
    assert slack.post(body, "application/x-www-form-urlencoded", forged).status == 401
    monkeypatch.setattr("bot.slack.listeners.runtime.run_command", lambda **_: 1 / 0)
    slack.command(COLP, "action status")
    assert "ZeroDivisionError" in caplog.text
    for secret in (BOT_TOKEN, SIGNING_SECRET, "deprecated-verification-token"):
        assert secret not in caplog.text


def test_real_http_server_answers_a_signed_command(slack, board_engine, settings, stub):
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine,
                              clock=lambda: NOW)  # fmt: skip
    server = make_server("127.0.0.1", 0, web_app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        body = slack.command_body(COLP, "action status", stub.response_url())
        request = urllib.request.Request(base + EVENTS_PATH, data=body.encode(), headers={
            **sign(body), "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["text"].startswith("Your partner's actions")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()


def test_procfile_and_manifest_match_the_app():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    procfile = (root / "Procfile").read_text().splitlines()
    assert procfile == ["web: soc-bot serve --port $PORT",
                        "teams: soc-bot teams serve --port $TEAMS_PORT",
                        "worker: soc-bot worker", "release: soc-bot db upgrade"]  # fmt: skip
    manifest = (root / "manifest.yml").read_text()
    assert "command: /soc" in manifest
    assert manifest.count(f"url: https://YOUR-HOST{EVENTS_PATH}") == 3
    assert "- app_home_opened" in manifest and "home_tab_enabled: true" in manifest
    bot_scopes = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0].splitlines()
    assert [line.split()[1] for line in bot_scopes][:3] == ["commands", "chat:write", "im:write"]
    assert all("  # " in line for line in bot_scopes), "every scope says why it is needed"
