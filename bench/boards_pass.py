"""One worker's 09:00 tick over every active Board, in a process of its own (so its memory is its
own): `python bench/boards_pass.py MODE DATABASE_URL SLACK_API_URL` prints one JSON line.

MODE `pass`: the worker's own tick (`bot.worker.tick_boards`: each Board's meetings topped up,
its reminder and priorities passes, through its own workspace's bot token, several Boards at
once), counting SQL statements and reading the process's memory. MODE `raw`: the same DMs
(planned first, untimed) posted directly with the same clients, one at a time.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.boards import PASS_AT, install_settings  # noqa: E402
from bench.databases import QueryCounter  # noqa: E402
from bench.slack_http import rss_mb  # noqa: E402
from bot.couriers import BoardCouriers  # noqa: E402
from bot.senders.exactly_once import Recipients  # noqa: E402
from bot.senders.reminders import ReminderSender  # noqa: E402
from bot.worker import tick_boards  # noqa: E402
from handlers.context import board_zone  # noqa: E402
from models.boards import list_boards  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.workspaces import SLACK, bindings_of  # noqa: E402


def main(argv: list[str]) -> int:
    """Run one mode and print what it measured as JSON."""
    mode, database_url, api_url = argv
    engine = make_engine(database_url)
    couriers = BoardCouriers(install_settings(database_url, api_url), engine)
    before = rss_mb(os.getpid())
    if mode == "pass":
        with QueryCounter(engine) as statements:
            started = time.perf_counter()
            tick = tick_boards(engine, couriers, PASS_AT)
            seconds = time.perf_counter() - started
        reports = [b.reminders for b in tick.boards]
        result = {"served": len(reports), "sent": sum(r.sent for r in reports),
                  "problems": sum(r.failed + r.retry + r.busy for r in reports) + len(tick.failed),
                  "statements": statements.count}  # fmt: skip
    else:
        messages = planned_messages(engine, couriers)
        started = time.perf_counter()
        for client, message in messages:
            client.chat_postMessage(**message)
        seconds = time.perf_counter() - started
        result = {"sent": len(messages)}
    engine.dispose()
    print(json.dumps({**result, "mode": mode, "seconds": seconds, "rss_start_mb": before,
                      "rss_mb": rss_mb(os.getpid()),
                      "rss_peak_mb": rss_mb(os.getpid(), "VmHWM")}))  # fmt: skip
    return 0


def planned_messages(engine, couriers: BoardCouriers) -> list[tuple[WebClient, dict]]:
    """The chat.postMessage arguments a pass at PASS_AT would send, with each workspace's client."""
    messages = []
    with Session(engine, expire_on_commit=False) as session:
        boards = [(b, bindings_of(session=session, board_id=b.id))
                  for b in list_boards(session=session) if b.active]  # fmt: skip
    for board, bindings in boards:
        found = couriers.for_board(board, bindings)
        sender = ReminderSender(engine, found, board_zone(board), board_slug=board.slug)
        plan = sender.plan(PASS_AT)
        with Session(engine) as session:
            recipients = Recipients.load(session, board.id, found)
        slack = found[SLACK]
        for delivery in (d for d in plan.deliveries if d.has_message):
            to = recipients.address(delivery.send_to)
            message = slack.message(to.id, delivery.reply, sender.ledger.key(delivery.key))
            messages.append((slack.client, message))
    return messages


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
