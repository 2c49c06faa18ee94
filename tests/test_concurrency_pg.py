"""Many people changing actions at once over HTTP, on PostgreSQL: no change lost, none doubled.

Typed commands carry no version of what the person saw, so each request applies, with its
history, on top of whatever the others did (none is refused as stale); the sum of the changes the
replies report is exactly the history added, every note is in the history once, and the history's
hash chain still holds (writers to different actions append to one chain per board, one after
another).
"""

import itertools
import re
import threading
import time
from collections import Counter
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
from sqlmodel import Session, select

from bot.config import Settings
from bot.slack.listeners.runtime import WORKING
from bot.slack.server import create_wsgi_app
from models.actions import get_action
from models.audit import verify_chain
from models.boards import get_board
from models.db import make_engine
from models.tables import ActionChange
from tests.conftest import CHAIR, COLP, DEPUTY, NOW, SECRETARIAT
from tests.postgres_fixtures import COLP2, fresh_postgres, postgres, seed_board
from tests.slack_stub import SlackHarness, SlackStub, slack_settings

pytestmark = [pytest.mark.postgres, postgres]

WRITERS = [CHAIR, DEPUTY, SECRETARIAT, COLP, COLP2]
THREADS, ROUNDS = 12, 6
APPLIED = re.compile(r"^Updated (A-\d+):.*?\n(\d+) changes? recorded\.", re.S)
STALE = ("Someone else changed that action a moment ago", "was changed by", "You already changed")


@pytest.fixture
def pg_app():
    """The Annex B Board on a PostgreSQL database of its own, served over HTTP."""
    with fresh_postgres() as url:
        engine = make_engine(url, pool_size=THREADS, max_overflow=4)
        seed_board(engine, url)
        settings = Settings(database_url=url)
        stub = SlackStub().start()
        # Every request its own moment, as on a real clock (a note moves `updated_at`).
        ticks = itertools.count(1)
        clock = lambda: NOW + timedelta(microseconds=next(ticks))  # noqa: E731
        web_app = create_wsgi_app(slack_settings(settings, stub), engine=engine, clock=clock)
        try:
            yield web_app, stub, engine
        finally:
            quiet(stub)
            stub.stop()
            engine.dispose()


def quiet(stub, settle: float = 0.3) -> None:
    """Wait until the app's background work (Home republished after a change) has reached Slack."""
    seen = -1
    while len(stub.calls) != seen:
        seen = len(stub.calls)
        time.sleep(settle)


def notes_in_history(engine) -> Counter:
    """How often each note appears in the history."""
    with Session(engine) as session:
        return Counter(session.exec(select(ActionChange.note).where(ActionChange.note != "")))


def test_simultaneous_updates_lose_nothing_and_keep_the_chain(pg_app):
    web_app, stub, engine = pg_app
    with Session(engine) as session:
        before = len(session.exec(select(ActionChange.id)).all())
        versions = {n: get_action(session=session, board_id=1, number=n).version for n in (1, 2)}
    start = threading.Barrier(THREADS)
    results: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        harness = SlackHarness(web_app, stub)  # its own test client
        user = WRITERS[index % len(WRITERS)]
        start.wait()
        try:
            for round_ in range(ROUNDS):
                note = f"t{index}-r{round_}"
                # Half the writers fight over A-1; the rest update A-2 (All partners) and A-1
                # in turn, so different actions are appended to one chain at the same moment.
                ref = "A-1" if index % 2 or round_ % 2 else "A-2"
                due = date(2027, 3, 1) + timedelta(days=index * ROUNDS + round_)
                update = f'action update {ref} due={due.strftime("%d/%m/%Y")} note="{note}"'
                text = f"action note {ref} {note}" if round_ % 3 == 0 else update
                answer = harness.command(user, text)
                assert answer.status == 200, answer.body
                reply = answer.json["text"]
                if reply == WORKING:  # slower than Slack's budget: the reply follows later
                    path = urlparse(answer.response_url).path
                    reply = stub.wait_for_path(path, timeout=60).data["text"]
                results.append((note, ref, reply))
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(results) == THREADS * ROUNDS

    applied, refused, reported = [], [], 0
    for note, ref, text in results:
        if match := APPLIED.match(text):
            assert match[1] == ref
            applied.append(note)
            reported += int(match[2])
        else:
            assert any(phrase in text for phrase in STALE), text
            refused.append(note)
    assert refused == [], f"{len(refused)} typed changes refused instead of applied on top"
    counts = notes_in_history(engine)
    assert all(counts[note] == 1 for note in applied), "a successful change is not in the history"
    assert all(counts[note] == 0 for note in refused), "a refused change left history"
    with Session(engine) as session:
        after = len(session.exec(select(ActionChange.id)).all())
        assert after - before == reported, "history entries differ from the changes reported"
        bumps = {n: get_action(session=session, board_id=1, number=n).version - versions[n]
                 for n in (1, 2)}  # fmt: skip
        applied_per_ref = Counter(ref for note, ref, text in results if note in applied)
        assert bumps == {1: applied_per_ref["A-1"], 2: applied_per_ref["A-2"]}
        report = verify_chain(session=session, board=get_board(session=session, slug="soc"))
        assert report.ok, report.problem
        assert report.entries == after
