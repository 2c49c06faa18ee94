"""People typing notes and updates to one action at the same moment, on PostgreSQL: all saved.

The real server (gunicorn, two web processes) gets signed `/soc` commands from eight clients at
once, all on A-9. A note is an append and a typed update carries no version the person saw, so
none of them is refused: each is applied on top of whatever the others did, and the history
holds every change exactly once, in order, with its hash chain intact.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.cli.main import main
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.ids import EVENTS_PATH, SOC_COMMAND
from bot.slack.listeners.runtime import WORKING
from handlers.register import actions
from handlers.run import run_command, run_use_case
from models.actions import get_action
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from models.people import find_partner
from models.tables import Action, ActionChange, Role
from tests.conftest import (
    CHAIR,
    COLP,
    DEPUTY,
    IMPORTED_AT,
    NOW,
    PG_URL,
    SECRETARIAT,
    fresh_postgres_database,
    seed_members,
)
from tests.slack_stub import BOT_TOKEN, CHANNEL, SIGNING_SECRET, TEAM, SlackStub, sign, slack_escape

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="SOC_TEST_POSTGRES_URL is not set"),
]

ROOT = Path(__file__).resolve().parent.parent
REF = "A-9"  # led by CoLP
CLIENTS, ROUNDS = 8, 25
# Three admins and five CoLP contacts: everyone here may change A-9.
WRITERS = [CHAIR, DEPUTY, SECRETARIAT, COLP, "UCOLP2", "UCOLP3", "UCOLP4", "UCOLP5"]
SAVED = re.compile(rf"^Updated {REF}:.*?\n(\d+) changes? recorded\.", re.S)
SERVER = (
    "import sys\n"
    "from bot.config import load_settings\n"
    "from bot.slack.server import serve_main\n"
    "sys.exit(serve_main(load_settings(), int(sys.argv[1]), host='127.0.0.1'))\n"
)


@dataclass
class Served:
    """The Board on its own PostgreSQL database, behind the real server with two web processes."""

    url: str
    engine: object
    stub: SlackStub
    port: int


@pytest.fixture
def board_database() -> Iterator[tuple[str, object]]:
    """Annex B and the writers on a fresh PostgreSQL database: its URL and an engine."""
    with fresh_postgres_database("soc_updates") as url:
        engine = make_engine(url)
        seed_board(engine, url)
        try:
            yield url, engine
        finally:
            engine.dispose()


@pytest.fixture
def served(board_database, tmp_path: Path) -> Iterator[Served]:
    """The Board served by `serve_main` with two web processes (WEB_CONCURRENCY=2)."""
    url, engine = board_database
    stub = SlackStub().start()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": stub.api_url,
           "WEB_CONCURRENCY": "2", "SOC_THREADS": "4", "PYTHONPATH": str(ROOT)}  # fmt: skip
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_for_workers(server, port, 2, log_file)
        yield Served(url, engine, stub, port)
    finally:
        server.terminate()
        server.wait(30)
        stub.stop()


def seed_board(engine, url: str) -> None:
    """Migrate, import Annex B and add the writers."""
    upgrade(engine)
    import_file(engine, Settings(database_url=url), ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        colp = find_partner(session=session, board_id=board.id, text="CoLP").id
        admins = [(CHAIR, Role.CHAIR), (DEPUTY, Role.DEPUTY_CHAIR), (SECRETARIAT, Role.SECRETARIAT)]
        people = [(user, user.title(), role, None) for user, role in admins]
        people += [(user, user.title(), Role.MEMBER, colp) for user in WRITERS[3:]]
        seed_members(session, board, people)
        session.commit()


class Client:
    """One person's keep-alive connection, sending `/soc` commands signed as Slack signs them."""

    def __init__(self, served: Served, user_id: str) -> None:
        self.served, self.user_id = served, user_id
        self.connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)

    def command(self, text: str) -> str:
        """Type `/soc text`; the reply's text, whether in the acknowledgement or posted later."""
        url = self.served.stub.response_url()
        body = urlencode({"token": "deprecated", "team_id": TEAM, "channel_id": CHANNEL,
                          "user_id": self.user_id, "command": SOC_COMMAND,
                          "text": slack_escape(text), "response_url": url,
                          "trigger_id": "1.2.3"})  # fmt: skip
        headers = {**sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        try:
            self.connection.request("POST", EVENTS_PATH, body=body, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection before this request: send it again.
            self.connection.close()
            self.connection.request("POST", EVENTS_PATH, body=body, headers=headers)
            response = self.connection.getresponse()
        payload = response.read()
        assert response.status == 200, payload
        text = json.loads(payload)["text"]
        if text == WORKING:  # slower than Slack's budget: the reply follows at the response_url
            text = self.served.stub.wait_for_path(urlparse(url).path, timeout=60).data["text"]
        return text


def all_at_once(served: Served, command_for: Callable[[int, int], str]) -> list[tuple[str, str]]:
    """Each client sends its ROUNDS commands, all clients at once: (command, reply) pairs."""
    start = threading.Barrier(CLIENTS)
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        client = Client(served, WRITERS[index])
        start.wait()
        try:
            for round_ in range(ROUNDS):
                text = command_for(index, round_)
                results.append((text, client.command(text)))
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert len(results) == CLIENTS * ROUNDS
    return results


def history(engine, field: str | None = None) -> list[ActionChange]:
    """A-9's history in chain order (one field's changes, if given)."""
    with Session(engine) as session:
        action = get_action(session=session, board_id=1, number=9)
        query = select(ActionChange).where(ActionChange.action_id == action.id)
        if field is not None:
            query = query.where(ActionChange.field == field)
        return list(session.exec(query.order_by(ActionChange.id)))


def assert_audit_passes(url: str, monkeypatch, capsys) -> None:
    """`soc-bot audit verify` on the database: exit 0 and the chain intact."""
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(["audit", "verify"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "chain intact" in out


def test_simultaneous_notes_are_all_saved_once_in_order(served, monkeypatch, capsys):
    before = len(history(served.engine))
    results = all_at_once(served, lambda i, r: f"action note {REF} progress c{i}-r{r}")

    refused = [(text, reply) for text, reply in results if not SAVED.match(reply)]
    assert refused == [], f"{len(refused)} of {len(results)} refused, e.g. {refused[0]}"
    notes = Counter(change.note for change in history(served.engine, "note"))
    sent = [text.removeprefix(f"action note {REF} ") for text, _ in results]
    assert all(notes[note] == 1 for note in sent), "a saved note is missing or doubled"
    assert len(history(served.engine)) - before == len(sent)
    # Each client's notes are in the history in the order that client sent them.
    entries = [change.note for change in history(served.engine, "note")]
    for index in range(CLIENTS):
        own = [note for note in entries if note.startswith(f"progress c{index}-")]
        assert own == [f"progress c{index}-r{r}" for r in range(ROUNDS)]
    assert_audit_passes(served.url, monkeypatch, capsys)


def test_simultaneous_rag_and_due_updates_all_apply_and_the_last_wins(served, monkeypatch, capsys):
    rags = ("red", "amber", "green")
    first_due = date(2027, 3, 1)

    def update(index: int, round_: int) -> str:
        # Every command moves the due date to a date of its own, so none is a no-op.
        due = first_due + timedelta(days=index * ROUNDS + round_)
        rag = rags[(index + round_) % len(rags)]
        return f"action update {REF} rag={rag} due={due.strftime('%d/%m/%Y')}"

    before = len(history(served.engine))
    results = all_at_once(served, update)

    refused = [(text, reply) for text, reply in results if not SAVED.match(reply)]
    assert refused == [], f"{len(refused)} of {len(results)} refused, e.g. {refused[0]}"
    reported = sum(int(SAVED.match(reply)[1]) for _, reply in results)
    assert len(history(served.engine)) - before == reported
    due_changes = history(served.engine, "due_date")
    sent_dues = {(first_due + timedelta(days=n)).isoformat() for n in range(CLIENTS * ROUNDS)}
    assert Counter(c.new_value for c in due_changes if c.new_value in sent_dues) == Counter(
        sent_dues
    ), "every due date sent is in the history exactly once"
    with Session(served.engine) as session:
        action = get_action(session=session, board_id=1, number=9)
        for field, current in (("due_date", action.due_date.isoformat()), ("rag", action.rag)):
            changes = history(served.engine, field)
            # Each change starts from where the one before it left the field: nothing was
            # applied to a stale copy, and the last one recorded is what the action holds.
            for previous, change in zip(changes, changes[1:], strict=False):
                assert change.old_value == previous.new_value, (field, change.id)
            assert changes[-1].new_value == current
    assert_audit_passes(served.url, monkeypatch, capsys)


def test_a_note_waiting_for_a_locked_action_is_applied_after_the_change(board_database):
    """Deterministic: the note starts while someone else's change to A-9 is uncommitted."""
    url, engine = board_database
    with Session(engine) as other:
        action = get_action(session=other, board_id=1, number=9)
        version = action.version
        action.barriers = "changed by someone else"
        other.add(action)
        other.flush()  # A-9's row is now locked by this uncommitted change
        reply: list = []
        note = threading.Thread(target=lambda: reply.append(_note_in_process(url)))
        note.start()
        _wait_until_blocked(engine)
        other.commit()
    note.join(60)
    assert reply and not reply[0].error, reply
    with Session(engine) as session:
        assert get_action(session=session, board_id=1, number=9).version == version + 2
    assert history(engine, "note")[-1].note == "after the lock"


def test_a_typed_note_that_loses_a_race_is_run_again(board_database, monkeypatch):
    _, engine = board_database
    attempts = race_in_update_action(monkeypatch, races=1)
    reply = run_command(engine=engine, board_slug="soc", user_id=COLP, now=NOW,
                        text=f"action note {REF} second time lucky")  # fmt: skip
    assert not reply.error, reply.title
    assert len(attempts) == 2
    assert [c.note for c in history(engine, "note")].count("second time lucky") == 1


def test_a_typed_note_that_keeps_losing_is_refused_naming_the_action(board_database, monkeypatch):
    _, engine = board_database
    monkeypatch.setattr("handlers.run.CONFLICT_BACKOFF", 0.0)
    attempts = race_in_update_action(monkeypatch, races=100)
    reply = run_command(engine=engine, board_slug="soc", user_id=COLP, now=NOW,
                        text=f"action note {REF} never lucky")  # fmt: skip
    assert reply.error
    assert len(attempts) == 5  # bounded
    assert reply.title.startswith(f"Someone else changed {REF} a moment ago")
    assert f"`action status {REF}`" in reply.hint
    assert "never lucky" not in [c.note for c in history(engine, "note")]


def test_a_control_drawn_at_a_version_is_not_run_again(board_database, monkeypatch):
    _, engine = board_database
    attempts = race_in_update_action(monkeypatch, races=1)
    with Session(engine) as session:
        version = get_action(session=session, board_id=1, number=9).version

    def add_note(session, ctx):
        return actions.note(session, ctx, f"{REF} from a form", expected_version=version)

    reply = run_use_case(engine=engine, board_slug="soc", user_id=COLP, now=NOW,
                         use_case=add_note)  # fmt: skip
    assert reply.error and len(attempts) == 1
    assert f"`action status {REF}`" in reply.hint


def test_a_serialization_failure_is_run_again(board_database):
    _, engine = board_database
    calls = []

    class SerializationFailure(Exception):
        sqlstate = "40001"

    def use_case(session, ctx):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE board", {}, SerializationFailure())
        return actions.note(session, ctx, f"{REF} after a serialization failure")

    reply = run_use_case(engine=engine, board_slug="soc", user_id=COLP, now=NOW,
                         use_case=use_case, retry_conflicts=True)  # fmt: skip
    assert not reply.error and len(calls) == 2


def race_in_update_action(monkeypatch, races: int) -> list[int]:
    """Make the first `races` saves meet a version another writer moved meanwhile.

    The bump is made on the command's own connection, behind the ORM's back (another connection
    would wait for the command's lock on the row): the ORM still holds the version it read.
    Returns the list of save attempts, which grows as they are made.
    """
    attempts: list[int] = []
    real_update = actions.update_action

    def racing_update(*, session, action, **kwargs):
        attempts.append(action.version)
        if len(attempts) <= races:
            bump = update(Action).where(Action.id == action.id).values(version=Action.version + 1)
            session.connection().execute(bump.execution_options(synchronize_session=False))
        return real_update(session=session, action=action, **kwargs)

    monkeypatch.setattr(actions, "update_action", racing_update)
    return attempts


def _note_in_process(url: str):
    engine = make_engine(url)
    try:
        return run_command(engine=engine, board_slug="soc", user_id=COLP, now=NOW,
                           text=f"action note {REF} after the lock")  # fmt: skip
    finally:
        engine.dispose()


def _wait_until_blocked(engine, timeout: float = 30) -> None:
    """Until some other connection waits for a row lock."""
    deadline = time.monotonic() + timeout
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    while True:
        with engine.connect() as connection:
            if connection.exec_driver_sql(query).scalar():
                return
        assert time.monotonic() < deadline, "the note never waited for the lock"
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_workers(server: subprocess.Popen, port: int, workers: int, log: Path) -> None:
    """Until the server answers /healthz and runs `workers` web processes."""
    deadline = time.monotonic() + 60
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    while True:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            healthy = connection.getresponse().status == 200
            connection.close()
        except OSError:
            healthy = False
        if healthy and len(children.read_text().split()) == workers:
            return
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.1)
