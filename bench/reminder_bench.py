"""Reminder pass benchmark: one pass to 500 lead partners over 10,000 actions, against raw sends.

    python bench/reminder_bench.py                  # SQLite, 10,000 actions, 500 contacts
    python bench/reminder_bench.py --actions 20000  # twice the actions per contact
    python bench/reminder_bench.py --database-url postgresql://postgres@127.0.0.1/test

Builds a register (the Annex B Board plus N partners, one contact each, and the actions spread
over them). Then, against the local Slack stand-in in a process of its own (as Slack would be),
answering at once and then after an emulated network latency: (1) the same 500 chat.postMessage
calls made directly with the same client, one at a time; (2) one reminder pass on an empty
ledger (plan, write, claim, send, record), counting its SQL statements; (3) a second pass that
finds everything settled. The pass's overhead over the raw sends is the cost of choosing,
writing and ledgering each message exactly once. With --database-url the register goes in a
database of its own on that PostgreSQL server, dropped afterwards.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk.http_retry import FixedValueRetryIntervalCalculator  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.databases import QueryCounter, scratch_database  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.senders.exactly_once import Recipients  # noqa: E402
from bot.senders.reminders import ReminderSender  # noqa: E402
from bot.setup import ANNEX_B, PARTNERS, import_file  # noqa: E402
from bot.slack.courier import reminder_client, slack_couriers  # noqa: E402
from handlers.meetings.commands import top_up_meetings  # noqa: E402
from handlers.meetings.rules import parse_meeting_rule  # noqa: E402
from models.boards import get_board, list_areas  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.meetings import add_meeting  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.schedule import save_schedule  # noqa: E402
from models.tables import Action, ActionLead, Identity, Member, Partner, Rag, Role  # noqa: E402
from tests.slack_stub import BOT_TOKEN  # noqa: E402

NOW = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)
PASS_AT = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)  # 5 working days before Tue 9 Feb 2027
LONDON_RULE = "second tuesday 10:00"
# The stand-in in a process of its own, answering each Web API call after `latency` seconds.
STUB_PROCESS = """
import sys, threading, time
from tests.slack_stub import SlackStub
stub, latency = SlackStub(), float(sys.argv[1])
direct = stub._direct
stub._direct = lambda call: (time.sleep(latency), direct(call))[1]
stub.start()
print(stub.api_url, flush=True)
threading.Event().wait()
"""


def build(database_url: str, actions: int, contacts: int, seed: int = 4) -> None:
    """A migrated register with `contacts` partners (one contact each) sharing `actions`."""
    settings = Settings(database_url=database_url)
    engine = make_engine(database_url)
    upgrade(engine)
    import_file(engine, settings, ANNEX_B, now=NOW - timedelta(days=60), partners=PARTNERS)
    rng = random.Random(seed)
    with session_scope(engine) as session:
        board = get_board(session=session, slug="soc")
        session.exec(insert(Partner), params=[
            {"board_id": board.id, "name": f"Partner {n:04d}", "aliases": "", "collective": False}
            for n in range(contacts)])  # fmt: skip
        partners = dict(session.exec(text("SELECT name, id FROM partner")).all())
        people = [(f"UP{n:06d}", f"Contact {n}", Role.MEMBER, partners[f"Partner {n:04d}"])
                  for n in range(contacts)] + [("UCHAIR", "Chair", Role.CHAIR, None)]  # fmt: skip
        session.exec(insert(Member), params=[
            {"board_id": board.id, "display_name": name, "role": role.value,
             "partner_id": partner_id, "away": False, "channel": "slack"}
            for _, name, role, partner_id in people])  # fmt: skip
        member_ids = dict(session.exec(text("SELECT display_name, id FROM member")).all())
        session.exec(insert(Identity), params=[
            {"board_id": board.id, "member_id": member_ids[name], "channel": "slack",
             "external_id": user_id, "tenant": "", "conversation": "", "created_at": NOW}
            for user_id, name, _, _ in people])  # fmt: skip
        area_ids = [a.id for a in list_areas(session=session, board_id=board.id)]
        mine = [partners[f"Partner {n:04d}"] for n in range(contacts)]
        last = NOW - timedelta(days=28)
        rows = []
        for number in range(100, 100 + actions):
            updated = NOW - timedelta(days=rng.randint(0, 80))
            rows.append({
                "board_id": board.id, "number": number, "area_id": rng.choice(area_ids),
                "issue": f"Synthetic action {number}: disrupt an organised crime group",
                "action_text": "Share intelligence; joint operation; report to the Board.",
                "barriers": "", "outcomes": "",
                "rag": rng.choice([Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE]).value,
                "confidential": rng.random() < 0.05,
                "due_date": date(2027, 1, 1) + timedelta(days=rng.randint(-60, 120))
                if rng.random() < 0.7 else None,
                "created_at": updated - timedelta(days=30), "updated_at": updated, "version": 1,
            })  # fmt: skip
        session.exec(insert(Action), params=rows)
        ids = dict(session.exec(text("SELECT number, id FROM action WHERE number >= 100")).all())
        session.exec(insert(ActionLead), params=[
            {"action_id": ids[number], "partner_id": partner}
            for number in range(100, 100 + actions)
            for partner in rng.sample(mine, rng.choice((1, 1, 2)))])  # fmt: skip
        add_meeting(session=session, board_id=board.id, starts_at=last)
        rule = parse_meeting_rule(LONDON_RULE, today=NOW.date())
        save_schedule(session=session, board_id=board.id, now=NOW, rule=rule.rule,
                      meeting_time="10:00", anchor=NOW.date())  # fmt: skip
        top_up_meetings(session, board, NOW)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="medians of this many runs")
    parser.add_argument(
        "--latencies", default="0,20", help="Slack's answer time to emulate, ms (comma-separated)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (a database is made there)")
    args = parser.parse_args(argv)
    with scratch_database(args.database_url, f"soc_reminder_bench_{uuid.uuid4().hex[:8]}") as url:
        started = time.perf_counter()
        build(url, args.actions, args.contacts)
        print(f"register: {args.actions:,} actions, {args.contacts} lead-partner contacts on "
              f"{url.split(':')[0]} (built in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        engine = make_engine(url)
        try:
            for latency in [float(ms) for ms in args.latencies.split(",")]:
                stub = subprocess.Popen(
                    [sys.executable, "-c", STUB_PROCESS, str(latency / 1000)],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                try:
                    print(f"\nSlack stand-in answering after {latency:g} ms:")
                    measure(engine, stub.stdout.readline().strip(), args.rounds)
                finally:
                    stub.terminate()
                    stub.wait()
        finally:
            engine.dispose()
    return 0


def measure(engine, api_url: str, rounds: int) -> None:
    """Raw sends and passes, alternately, `rounds` times each; print the medians."""
    settings = Settings(database_url="", slack_bot_token=BOT_TOKEN, slack_api_url=api_url)
    client = reminder_client(settings, retry_interval=FixedValueRetryIntervalCalculator(0.01))
    couriers = slack_couriers(client, settings.tz)
    sender = ReminderSender(engine, couriers, settings.tz)
    _empty_ledger(engine)
    with QueryCounter(engine) as planning:
        started = time.perf_counter()
        plan = sender.plan(PASS_AT)
        plan_seconds = time.perf_counter() - started
    messages = [d for d in plan.deliveries if d.has_message]
    with Session(engine) as session:
        recipients = Recipients.load(session, messages[0].meeting.board_id, couriers)
    payloads = [
        couriers["slack"].message(
            recipients.address(d.send_to).id, d.reply, sender.ledger.key(d.key)
        )
        for d in messages
    ]
    size = sum(len(json.dumps(p)) for p in payloads) / len(payloads)
    raws, passes, statements = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for payload in payloads:
            client.chat_postMessage(**payload)
        raws.append(time.perf_counter() - started)
        _empty_ledger(engine)
        with QueryCounter(engine) as passing:
            started = time.perf_counter()
            report = sender.run_pass(PASS_AT)
            passes.append(time.perf_counter() - started)
        assert report.sent == len(payloads), report.summary()
        statements.append(passing.count)
    with QueryCounter(engine) as settled:
        started = time.perf_counter()
        again = sender.run_pass(PASS_AT + timedelta(minutes=1))
        settled_seconds = time.perf_counter() - started
    raw, whole = statistics.median(raws), statistics.median(passes)
    listed = sum(d.action_count for d in messages)
    print(f"plan: {len(messages)} DMs listing {listed:,} actions (up to 10 shown each, "
          f"{size / 1000:.1f} kB a message): {plan_seconds:.2f} s, "
          f"{planning.count} SQL statements")  # fmt: skip
    print(f"raw:  {len(payloads)} chat.postMessage calls, one at a time   "
          f"median {raw:5.2f} s  (runs: {', '.join(f'{r:.2f}' for r in raws)})")  # fmt: skip
    print(f"pass: plan, write, claim, send, record ({report.sent} sent)  median {whole:5.2f} s  "
          f"(runs: {', '.join(f'{p:.2f}' for p in passes)})")  # fmt: skip
    print(f"      overhead {100 * (whole - raw) / raw:+.0f}% = "
          f"{1000 * (whole - raw) / len(payloads):.2f} ms a message; "
          f"{max(statements)} SQL statements a pass")  # fmt: skip
    print(f"second pass, everything settled ({again.sent} sent): {settled_seconds:.2f} s, "
          f"{settled.count} SQL statements")  # fmt: skip


def _empty_ledger(engine) -> None:
    with Session(engine) as session:
        session.exec(text("DELETE FROM reminderdelivery"))
        session.commit()


if __name__ == "__main__":
    sys.exit(main())
