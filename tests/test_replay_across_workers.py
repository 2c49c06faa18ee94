"""A captured request replayed to another web process is refused: the record is in the database.

The real server runs under gunicorn with two worker processes (WEB_CONCURRENCY=2), on SQLite and
on PostgreSQL. Each answer names the worker that served it, so the replay is sent, on purpose,
over a keep-alive connection held by the other worker than the original went to.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from bot.slack.ids import EVENTS_PATH, SOC_COMMAND
from models.db import make_engine
from models.request_fingerprints import (
    fingerprint_engine,
    forget_expired_fingerprints,
    remember_fingerprint,
)
from models.tables import ActionChange, SeenRequest
from tests.conftest import COLP, PG_URL, fresh_postgres_database
from tests.model_fixtures import EACH_KIND, database_of_kind
from tests.slack_stub import BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, SlackStub, sign

ROOT = Path(__file__).resolve().parent.parent
FORM = "application/x-www-form-urlencoded"
# The real app and gunicorn settings; each answer says which worker process served it.
SERVER = """
import os, sys
from bot.config import load_settings
from bot.slack.server import GunicornServer, create_wsgi_app, gunicorn_options

def app():
    web = create_wsgi_app(load_settings())
    web.after_request(lambda response: response.headers.set("X-Worker-Pid", str(os.getpid()))
                      or response)
    return web

options = gunicorn_options("127.0.0.1", int(sys.argv[1]))
options["keepalive"] = 120  # each test connection stays with its worker however slow the machine
GunicornServer(app, options).run()
"""


@pytest.fixture(params=EACH_KIND)
def database_url(request, tmp_path):
    """The Board's database (overrides conftest's): a SQLite file, or a fresh PostgreSQL one."""
    with database_of_kind(request.param, tmp_path, "soc_replay") as url:
        yield url


@pytest.fixture
def stub():
    """The Slack stand-in the server's Web API calls go to."""
    server = SlackStub().start()
    yield server
    server.stop()


@pytest.fixture
def server(board_engine, settings, stub, tmp_path):
    """`soc-bot serve` as deployed: gunicorn, two worker processes; its port."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": stub.api_url,
           "WEB_CONCURRENCY": "2", "SOC_THREADS": "2"}  # fmt: skip
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_healthy(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class Worker:
    """A keep-alive connection that one gunicorn worker process holds."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.pid = self.get("/healthz")[2]

    def get(self, path: str) -> tuple[int, bytes, str]:
        """GET `path`: status, body and the serving worker's pid."""
        self.connection.request("GET", path)
        return self._answer()

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """POST a body to the events path: status, body and the serving worker's pid."""
        self.connection.request("POST", EVENTS_PATH, body=body.encode(), headers=headers)
        return self._answer()

    def _answer(self) -> tuple[int, bytes, str]:
        response = self.connection.getresponse()
        return response.status, response.read(), response.getheader("X-Worker-Pid", "")


def two_workers(port: int) -> tuple[Worker, Worker]:
    """Connections held by two different worker processes."""
    held: dict[str, Worker] = {}
    for _ in range(200):
        worker = Worker(port)
        held.setdefault(worker.pid, worker)
        if len(held) == 2:
            return tuple(held.values())
    raise AssertionError(f"every connection went to the same worker: {list(held)}")


def command_body(text: str, response_url: str) -> str:
    """A `/soc` slash command's form body from COLP."""
    return urlencode({"token": "x", "team_id": TEAM, "channel_id": "C0BOARD", "user_id": COLP,
                      "command": SOC_COMMAND, "text": text, "response_url": response_url,
                      "trigger_id": "1.2.3"})  # fmt: skip


def history_count(engine) -> int:
    """How many history entries there are."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ActionChange)).one()


def test_a_command_replayed_to_the_other_worker_is_refused(server, board_engine, stub):
    first_worker, other_worker = two_workers(server)
    body = command_body("action note A-1 sent once", stub.response_url())
    headers = {**sign(body), "Content-Type": FORM}
    before = history_count(board_engine)
    status, answer, served_by = first_worker.post(body, headers)
    assert status == 200 and json.loads(answer)["text"].startswith("Updated A-1"), answer
    status, answer, replayed_at = other_worker.post(body, headers)
    assert replayed_at != served_by, "the replay must reach the other process"
    assert (status, answer) == (401, b"")
    assert first_worker.post(body, headers)[0] == 401  # and the same one, as before
    assert history_count(board_engine) == before + 1


def test_a_read_replayed_to_the_other_worker_is_refused(server, stub):
    first_worker, other_worker = two_workers(server)
    body = command_body("action status", stub.response_url())
    headers = {**sign(body), "Content-Type": FORM}
    assert first_worker.post(body, headers)[0] == 200
    status, answer, _ = other_worker.post(body, headers)
    assert (status, answer) == (401, b""), "a replayed read would hand over its answer"


def test_an_event_repeated_to_the_other_worker_runs_once(server, stub):
    first_worker, other_worker = two_workers(server)

    def home_opened(event_id: str) -> tuple[str, dict[str, str]]:
        event = {"type": "app_home_opened", "user": COLP, "tab": "home"}
        body = json.dumps({"token": "x", "team_id": TEAM, "api_app_id": "A0SOCBOT",
                           "type": "event_callback", "event_id": event_id, "event": event,
                           "event_time": int(time.time()),
                           "authorizations": [{"team_id": TEAM, "user_id": BOT_USER}]})  # fmt: skip
        return body, {"Content-Type": "application/json"}

    body, headers = home_opened("EvONCE")
    assert first_worker.post(body, {**headers, **sign(body)})[0] == 200
    stub.wait_for("views.publish", 1, timeout=30)
    # The same event again, freshly signed (no retry header): acknowledged, not run again.
    again = {**headers, **sign(body, timestamp=int(time.time()) + 1)}
    assert other_worker.post(body, again)[:2] == (200, b"")
    body, headers = home_opened("EvOTHER")
    assert other_worker.post(body, {**headers, **sign(body)})[0] == 200
    stub.wait_for("views.publish", 2, timeout=30)
    assert len(stub.calls_to("views.publish")) == 2


def test_a_fingerprint_is_refused_until_it_expires_then_taken_over(board_engine):
    now = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)
    later = now + timedelta(minutes=5)

    def remember(at: datetime, key: str = "f1") -> bool:
        with board_engine.begin() as connection:
            return remember_fingerprint(
                connection=connection, fingerprint=key, expires_at=later, now=at
            )

    assert remember(now)
    assert not remember(now)
    assert not remember(later - timedelta(seconds=1))
    assert remember(later)  # expired, and not yet purged: the new request takes it over
    with board_engine.begin() as connection:
        assert forget_expired_fingerprints(connection=connection, now=later) == 1
        assert connection.execute(select(func.count()).select_from(SeenRequest)).scalar_one() == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the server on port {port} did not become healthy")


@pytest.mark.skipif(not PG_URL, reason="SOC_TEST_POSTGRES_URL is not set")
def test_the_replay_records_connections_keep_the_urls_settings_and_skip_the_disk_wait():
    with fresh_postgres_database() as url:
        # A deployment whose tables are found through the URL's startup options.
        engine = make_engine(url + "?options=-csearch_path%3Dpg_catalog,public")
        fingerprints = fingerprint_engine(engine)
        try:
            with fingerprints.connect() as connection:
                assert connection.execute(text("SHOW search_path")).scalar() == "pg_catalog,public"
                assert connection.execute(text("SHOW synchronous_commit")).scalar() == "off"
            with engine.connect() as connection:
                # The register's own commits still wait for the disk.
                assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
        finally:
            fingerprints.dispose()
            engine.dispose()
