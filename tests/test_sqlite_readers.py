"""Reading commands don't queue behind a writer on SQLite; writing commands still take the lock."""

import sqlite3
import threading
import time

from handlers.commands import is_read_only
from handlers.run import run_command
from tests.conftest import COLP, LONDON, NOW


def _hold_write_lock(path: str, seconds: float, started: threading.Event) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def _ask(engine, settings, text):
    return run_command(engine=engine, board_slug=settings.board_slug, user_id=COLP, text=text,
                       now=NOW, tz=LONDON)  # fmt: skip


def test_status_and_rag_read_while_another_process_writes(board_engine, settings):
    started = threading.Event()
    path = settings.database_url.removeprefix("sqlite:///")
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, started))
    holder.start()
    started.wait()
    began = time.monotonic()
    replies = [_ask(board_engine, settings, text) for text in ("action status all", "rag")]
    waited = time.monotonic() - began
    holder.join()
    assert not any(r.error for r in replies)
    assert waited < 1.0, f"readers waited {waited:.2f}s for the writer"


def test_updates_wait_for_the_writer_and_then_apply(board_engine, settings):
    started = threading.Event()
    path = settings.database_url.removeprefix("sqlite:///")
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.5, started))
    holder.start()
    started.wait()
    began = time.monotonic()
    reply = _ask(board_engine, settings, 'action note A-1 "waited my turn"')
    waited = time.monotonic() - began
    holder.join()
    assert not reply.error, reply.title
    assert waited >= 0.4


def test_only_listed_commands_count_as_reads():
    assert is_read_only("action status all") and is_read_only("rag") and is_read_only("")
    assert not is_read_only("action update A-1 rag=red")
    assert not is_read_only("action note A-1 hello")
    assert is_read_only("no such command")  # refused before anything is written
