"""Faults: Slack failing or slow, the database going away under load; the app answers and recovers.

The worker's faults (Slack's 429/500, lost answers, a process killed between sending and the
ledger, a restart, SIGTERM) are proven in test_worker.py.
"""

import socket
import threading
import time
from contextlib import suppress

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

import bot.slack.listeners.respond
from bot.config import Settings
from bot.slack.ids import PAGE_NEXT
from bot.slack.listeners.respond import SHOWING_FAILED, SOMETHING_WENT_WRONG
from bot.slack.server import create_wsgi_app
from handlers.run import TRY_AGAIN
from models.audit import verify_chain
from models.boards import get_board
from models.db import make_engine
from models.tables import ActionChange
from tests.conftest import CHAIR, COLP, NOW, SECRETARIAT
from tests.postgres_fixtures import fresh_postgres, postgres
from tests.slack_stub import SlackHarness, buttons_in, slack_settings

pytest_plugins = ("tests.slack_fixtures",)

WEB_API = ["views.publish", "views.open", "views.update", "chat.update", "chat.postMessage",
           "conversations.open", "files.getUploadURLExternal",
           "files.completeUploadExternal"]  # fmt: skip


# --- Slack failing -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_commands_answer_while_slacks_web_api_fails(slack, status):
    for method in WEB_API:
        slack.stub.fail(method, status, retry_after=0, times=1000)
    release, original = threading.Event(), slack.stub._answer

    def held_then_failed(handler, raw, path=""):
        if (path or handler.path).rsplit("/", 1)[-1] in WEB_API:
            release.wait(10)  # the bound only stops a broken test hanging
        return original(handler, raw, path)

    slack.stub._answer = held_then_failed
    for user, command, expected in [
        (COLP, "action status", "Your partner's actions"),
        (COLP, 'action update A-1 rag=green note="while Slack is down"', "Updated A-1"),
        (CHAIR, "rag", "RAG summary"),
    ]:
        answer = slack.command(user, command)
        assert answer.status == 200 and answer.text.startswith(expected), answer.body
        assert not release.is_set(), "the answer waited for a Web API call"
    release.set()
    home = {"type": "app_home_opened", "user": COLP, "tab": "home", "event_ts": "1.1"}
    assert slack.event(home).status == 200


def test_a_rate_limited_upload_is_retried_into_one_file(slack):
    slack.stub.fail("files.getUploadURLExternal", 429, retry_after=0, times=1)
    slack.stub.fail("files.completeUploadExternal", 500, retry_after=None, times=1)
    answer = slack.command(CHAIR, "rag chart")
    assert answer.json["response_type"] == "in_channel"
    slack.stub.wait_for("files.completeUploadExternal", 2)
    assert len(slack.stub.calls_to("files.getUploadURLExternal")) == 2
    assert len(slack.stub.calls_to("upload")) == 1


def hang_first(stub, method: str, seconds: float) -> None:
    """Make the first call of `method` ("response" for response_urls) hang before answering."""
    original, hung = stub._answer, []

    def answer(handler, raw, path=""):
        call_path = path or handler.path
        if not hung and (call_path.startswith("/response/") if method == "response"
                         else call_path.endswith("/" + method)):  # fmt: skip
            hung.append(call_path)
            time.sleep(seconds)
        return original(handler, raw, path)

    stub._answer = answer


def test_a_slow_slack_never_holds_up_an_acknowledgement(slack):
    listing = slack.command(CHAIR, "action status all")
    next_page = next(b for b in buttons_in(listing.json["blocks"]) if b["action_id"] == PAGE_NEXT)
    reached, release, answered = threading.Event(), threading.Event(), threading.Event()
    original = slack.stub._answer

    def held(handler, raw, path=""):
        if not reached.is_set() and (path or handler.path).startswith("/response/"):
            reached.set()
            release.wait(10)  # the bound only stops a broken test hanging
            original(handler, raw, path)
            answered.set()
            return None
        return original(handler, raw, path)

    slack.stub._answer = held
    clicked = slack.click(CHAIR, next_page, listing.response_url)
    assert clicked.status == 200
    assert not answered.is_set(), "the acknowledgement waited for the slow response_url"
    assert reached.wait(10), "the next page was never posted"
    release.set()
    assert answered.wait(10)


def test_a_reply_whose_post_times_out_is_sent_again(slack, monkeypatch):
    real = bot.slack.listeners.respond.WebhookClient
    monkeypatch.setattr(bot.slack.listeners.respond, "WebhookClient",
                        lambda url, timeout, **kw: real(url, timeout=0.5, **kw))  # fmt: skip
    hang_first(slack.stub, "response", 1.5)
    listing = slack.command(CHAIR, "action status all")
    next_page = next(b for b in buttons_in(listing.json["blocks"]) if b["action_id"] == PAGE_NEXT)
    slack.click(CHAIR, next_page, listing.response_url)
    slack.stub.wait_for("response", 2, timeout=10)  # the one that hung, and the retry
    time.sleep(0.5)
    texts = [post.data["text"] for post in slack.stub.calls_to("response")]
    assert not {SOMETHING_WENT_WRONG, SHOWING_FAILED} & set(texts), texts
    assert len(texts) == 2 and all(text.startswith("All actions") for text in texts)


# --- The database going away -------------------------------------------------------------------

KILL = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = :db AND pid <> pg_backend_pid()"
)


class Proxy:
    """A TCP relay in front of PostgreSQL that can be cut (the server "restarting")."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> "Proxy":
        """Accept connections (on the same port as before, if restarted)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port, self._listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Refuse new connections and drop every open one, as a restarting server does."""
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        with suppress(OSError):
            self._listener.close()
        for sock in self._open:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def pg_slack(stub):
    """The test Board on PostgreSQL behind a proxy that can be cut; the app talks through it."""
    from tests.postgres_fixtures import seed_board

    with fresh_postgres() as url:
        direct = make_engine(url)
        seed_board(direct, url)
        host = direct.url.host or "127.0.0.1"
        proxy = Proxy((host, direct.url.port or 5432)).start()
        through = direct.url.set(host="127.0.0.1", port=proxy.port)
        engine = make_engine(through.render_as_string(hide_password=False))
        settings = slack_settings(Settings(database_url=url), stub)
        web_app = create_wsgi_app(settings, engine=engine, clock=lambda: NOW)
        try:
            yield SlackHarness(web_app, stub), proxy, direct
        finally:
            proxy.stop()
            engine.dispose()
            direct.dispose()


@postgres
@pytest.mark.postgres
def test_a_database_restart_gets_a_try_again_and_the_app_recovers_by_itself(pg_slack):
    slack, proxy, direct = pg_slack
    assert slack.command(COLP, "action status").text.startswith("Your partner's actions")
    # A restart while nobody is asking is invisible: pre-ping replaces the dead connections.
    proxy.stop()
    proxy.start()
    assert slack.command(COLP, "action status").text.startswith("Your partner's actions")
    # While it is down, a clear "try again", and nothing half-done.
    proxy.stop()
    for command in ("action status", 'action update A-1 rag=red note="during the restart"'):
        answer = slack.command(COLP, command)
        assert answer.status == 200
        assert answer.text.startswith("⚠ " + TRY_AGAIN) or TRY_AGAIN in answer.text, answer.text
    proxy.start()
    # No restart of the app: the pool's pre-ping notices dead connections and replaces them.
    assert slack.command(COLP, "action status").text.startswith("Your partner's actions")
    answer = slack.command(COLP, 'action update A-1 rag=red note="after the restart"')
    assert answer.text.startswith("Updated A-1"), answer.text
    with Session(direct) as session:
        notes = set(session.exec(select(ActionChange.note)))
    assert "after the restart" in notes and "during the restart" not in notes


@postgres
@pytest.mark.postgres
def test_connections_killed_under_load_lose_nothing(pg_slack):
    slack, _, direct = pg_slack
    with Session(direct) as session:
        before = session.exec(select(func.count()).select_from(ActionChange)).one()
    answers: list[str] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        harness = SlackHarness(slack.client.application, slack.stub)
        user = (COLP, SECRETARIAT, CHAIR)[worker % 3]
        for n in range(15):
            answer = harness.command(user, f"action note A-1 load {worker}-{n}")
            assert answer.status == 200
            answers.append(answer.text)

    def kill() -> None:
        database = direct.url.database
        while not stop.is_set():
            with direct.connect() as connection:
                connection.execute(KILL, {"db": database})
            time.sleep(0.05)

    killer = threading.Thread(target=kill, daemon=True)
    threads = [threading.Thread(target=load, args=(i,)) for i in range(6)]
    killer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    killer.join(10)
    assert len(answers) == 6 * 15
    ok = [a for a in answers if a.startswith("Updated A-1")]
    busy = [a for a in answers if TRY_AGAIN in a or "Someone else changed" in a
            or "a moment ago" in a]  # fmt: skip
    assert len(ok) + len(busy) == len(answers), [a for a in answers if a not in ok + busy][:3]
    assert busy, "the connections were never cut (the test proves nothing)"
    assert slack.command(COLP, "action note A-1 after the storm").text.startswith("Updated A-1")
    with Session(direct) as session:
        added = session.exec(select(func.count()).select_from(ActionChange)).one() - before
        assert added == len(ok) + 1  # each success once, each failure not at all
        assert verify_chain(session=session, board=get_board(session=session, slug="soc")).ok
