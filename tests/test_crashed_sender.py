"""A reminder pass killed mid-send is finished by the very next pass, exactly once, while a live
pass keeps its claims: the claim locks of `models.claim_locks`, on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from bot.senders.reminders import ReminderSender
from models.claim_locks import LOCKED, claimant, is_alive
from models.db import make_engine, sqlite_path
from models.ledger import CLAIMED, SENT
from tests.conftest import LONDON
from tests.fake_courier import FakeCourier
from tests.model_fixtures import EACH_KIND, database_of_kind
from tests.worker_fixtures import (  # noqa: F401  (board: a fixture)
    CONTACTS,
    FIVE_DAYS,
    board,
    dms,
    ledger,
    make_sender,
    statuses,
)

pytest_plugins = ("tests.slack_fixtures",)

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = 2  # messages Slack accepts before the pass is stopped in the middle of the next one


@pytest.fixture(params=EACH_KIND)
def database_url(request, tmp_path):
    """The Board's database (overrides conftest's): a SQLite file, or a fresh PostgreSQL one."""
    with database_of_kind(request.param, tmp_path, "soc_crash") as url:
        yield url


class SlackGate:
    """Makes the stand-in accept `accepted` messages, then hold each later one unanswered until
    told whether to deliver it (`open`) or not (`shut`: its sender is gone)."""

    def __init__(self, stub, accepted: int) -> None:
        self.decided, self.holding, self.deliver = threading.Event(), True, False
        original = stub._direct

        def direct(call):
            if (
                self.holding
                and call.method == "chat.postMessage"
                and len(stub.delivered()) >= accepted
            ):
                self.decided.wait(60)  # the bound only stops a broken test hanging
                if not self.deliver:
                    return {"ok": False, "error": "request_timeout"}
            return original(call)

        stub._direct = direct

    def open(self) -> None:
        """Deliver the held messages, and hold no more."""
        self.holding, self.deliver = False, True
        self.decided.set()

    def shut(self) -> None:
        """Answer the held messages without delivering them, and hold no more."""
        self.holding = False
        self.decided.set()


def start_remind(database_url: str, stub) -> subprocess.Popen:
    """`soc-bot remind` for the five-day point, in a process of its own."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SOC_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": stub.api_url,
    }
    command = [sys.executable, "-m", "bot", "remind", "--as-of", "2027-02-02 09:00"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for_messages(process: subprocess.Popen, stub, count: int) -> None:
    """Wait until `count` chat.postMessage calls reached the stand-in (failing with the process's
    output if it ended first)."""
    deadline = time.monotonic() + 60
    while len(stub.calls_to("chat.postMessage")) < count:
        if process.poll() is not None:
            raise AssertionError(f"the pass ended first:\n{process.stdout.read().decode()}")
        assert time.monotonic() < deadline, "the pass did not reach Slack"
        time.sleep(0.01)


def wait_until_dead(engine, tokens: set[str]) -> None:
    """Wait until no claimant of `tokens` holds its lock: PostgreSQL ends a killed client's
    session (and its advisory lock) when it reads the closed connection, a moment later."""
    deadline = time.monotonic() + 10
    while any(is_alive(engine, token) for token in tokens):
        assert time.monotonic() < deadline, "the killed pass's locks outlived it"
        time.sleep(0.01)


def test_a_pass_killed_mid_send_is_finished_by_the_very_next_pass(board, settings, stub):  # noqa: F811
    gate = SlackGate(stub, ACCEPTED)
    process = start_remind(settings.database_url, stub)
    try:
        wait_for_messages(process, stub, ACCEPTED + 1)
        process.send_signal(signal.SIGKILL)
        process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
        gate.shut()  # the message in flight when it died never reached anyone
    assert process.returncode == -signal.SIGKILL
    assert len(stub.delivered()) == ACCEPTED and statuses(board.engine) == {CLAIMED: 5}
    tokens = {row.claim_token for row in ledger(board.engine)}
    assert len(tokens) == 1 and next(iter(tokens)).startswith(LOCKED)
    wait_until_dead(board.engine, tokens)

    # The next pass, with the default ten-minute lease: the claims are taken over at once.
    report = make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)

    assert report.reconciled == ACCEPTED and report.sent == 5 - ACCEPTED and report.busy == 0
    assert {user: len(got) for user, got in dms(stub).items()} == dict.fromkeys(CONTACTS, 1)
    assert len(stub.calls_to("conversations.history")) == 5  # each claim checked first
    assert len(stub.calls_to("chat.postMessage")) == ACCEPTED + 1 + (5 - ACCEPTED)
    assert statuses(board.engine) == {SENT: 5}
    found = [row for row in ledger(board.engine) if row.attempts == 2]
    assert len(found) == 5 and all(row.message_ref for row in found)
    database = sqlite_path(settings.database_url)
    if database is not None:  # the dead pass's lock file went with its claims
        assert list(database.parent.glob(f"{database.name}.claims/*")) == []


def test_a_live_pass_keeps_its_claims_while_it_works(board, settings, stub):  # noqa: F811
    gate = SlackGate(stub, ACCEPTED)
    process = start_remind(settings.database_url, stub)
    try:
        wait_for_messages(process, stub, ACCEPTED + 1)
        meanwhile = make_sender(board.engine, settings, stub).run_pass(FIVE_DAYS)
        assert meanwhile.busy == 5 and meanwhile.sent == 0 and meanwhile.reconciled == 0
        assert len(stub.calls_to("chat.postMessage")) == ACCEPTED + 1
        assert stub.calls_to("conversations.history") == []
        gate.open()
        output = process.communicate(timeout=60)[0].decode()
    finally:
        gate.open()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "sent 5," in output
    assert {user: len(got) for user, got in dms(stub).items()} == dict.fromkeys(CONTACTS, 1)
    assert statuses(board.engine) == {SENT: 5}


def test_a_live_pass_is_trusted_for_its_lease_and_no_longer(board):  # noqa: F811
    """SOC_REMINDER_LEASE_SECONDS still bounds the trust: a host that vanished keeps its lock
    (on PostgreSQL, until the server notices) but not its claims."""
    seen = {}

    def meanwhile(courier: FakeCourier) -> None:
        if seen:
            return
        others = {lease: FakeCourier() for lease in (timedelta(minutes=10), timedelta(0))}
        for lease, other in others.items():
            sender = ReminderSender(board.engine, {"slack": other}, LONDON, lease=lease)
            seen[lease] = (sender.run_pass(FIVE_DAYS), other)

    live = FakeCourier(die_after=meanwhile)
    ReminderSender(board.engine, {"slack": live}, LONDON).run_pass(FIVE_DAYS)
    within, _ = seen[timedelta(minutes=10)]
    assert within.busy == 5 and within.sent == 0
    after, other = seen[timedelta(0)]
    assert after.busy == 0 and after.sent == 5 and len(other.sent) == 5


def test_a_claim_lock_is_held_for_its_block_only(engine):
    with claimant(engine) as token:
        assert token.startswith(LOCKED) and len(token) <= 40
        assert is_alive(engine, token)
        assert not is_alive(engine, LOCKED + uuid.uuid4().hex)  # nobody holds that one
    assert not is_alive(engine, token)
    assert is_alive(engine, uuid.uuid4().hex)  # no lock backs it: trusted for the lease


def test_an_in_memory_database_keeps_its_claim_locks_in_the_process():
    engine = make_engine("sqlite://")
    try:
        with claimant(engine) as token:
            assert is_alive(engine, token)
        assert not is_alive(engine, token)
    finally:
        engine.dispose()
