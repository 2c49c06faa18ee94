"""Reading commands don't queue behind a writer on SQLite; writing commands still take the lock."""

import sqlite3
import threading

from handlers.commands import is_read_only
from handlers.run import run_command
from tests.conftest import COLP, NOW


def _hold_write_lock(path: str, started: threading.Event, release: threading.Event,
                     events: list[str]) -> None:  # fmt: skip
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    started.set()
    release.wait(30)  # the bound only stops a broken test hanging
    connection.execute("ROLLBACK")
    events.append("writer released the lock")
    connection.close()


def _ask(engine, settings, text):
    return run_command(engine=engine, board_slug=settings.board_slug, user_id=COLP, text=text,
                       now=NOW)  # fmt: skip


def _start_writer(settings) -> tuple[threading.Thread, threading.Event, list[str]]:
    started, release, events = threading.Event(), threading.Event(), []
    path = settings.database_url.removeprefix("sqlite:///")
    holder = threading.Thread(target=_hold_write_lock, args=(path, started, release, events))
    holder.start()
    assert started.wait(10)
    return holder, release, events


def test_status_and_rag_read_while_another_process_writes(board_engine, settings):
    holder, release, events = _start_writer(settings)
    replies = []

    def read() -> None:
        replies.extend(_ask(board_engine, settings, text) for text in ("action status all", "rag"))
        events.append("reads done")

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(10)  # the writer holds its lock until released below
    release.set()
    holder.join()
    reader.join()
    assert events == ["reads done", "writer released the lock"], "readers waited for the writer"
    assert len(replies) == 2 and not any(r.error for r in replies)


def test_updates_wait_for_the_writer_and_then_apply(board_engine, settings):
    holder, release, events = _start_writer(settings)
    replies = []

    def update() -> None:
        replies.append(_ask(board_engine, settings, 'action note A-1 "waited my turn"'))
        events.append("update applied")

    updater = threading.Thread(target=update)
    updater.start()
    updater.join(0.5)  # give the update time to run into the lock (no timing is asserted)
    release.set()
    holder.join()
    updater.join()
    assert events == ["writer released the lock", "update applied"]
    assert not replies[0].error, replies[0].title


def test_only_listed_commands_count_as_reads():
    assert is_read_only("action status all") and is_read_only("rag") and is_read_only("")
    assert not is_read_only("action update A-1 rag=red")
    assert not is_read_only("action note A-1 hello")
    assert is_read_only("no such command")  # refused before anything is written
