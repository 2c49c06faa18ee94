"""Slack HTTP benchmark: the real server against a bare slack-bolt app on the same gunicorn stack.

    python bench/slack_bench.py                       # 10,000 actions, about a minute
    python bench/slack_bench.py --sizes 1000,100000   # the scaling comparison (100k loads slowly)

Starts each server in a subprocess on 127.0.0.1 (gunicorn via serve_main; the bare apps via
bench/servers.py), with a local Slack stand-in for the Web API and response_urls. Sends signed
`/soc action status all` and `/soc rag` interleaved (A B A B) from the chair, one at a time, for
median and p99 latency (a reply deferred to response_url counts until the post lands), then
from 8 concurrent clients for throughput, and reads each web worker's RSS. Prints a table.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.register import CHAIR, build_register  # noqa: E402
from bench.slack_http import (  # noqa: E402
    COMMANDS,
    Ask,
    Client,
    median_p99,
    running_server,
    sequential,
    throughput,
    worker_rss_mb,
)
from tests.slack_stub import BOT_TOKEN, SIGNING_SECRET, SlackStub  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000", help="register sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=400, help="sequential requests per run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--throughput-requests", type=int, default=800)
    parser.add_argument("--workers", default="2", help="WEB_CONCURRENCY for every server")
    parser.add_argument("--threads", default="4", help="SOC_THREADS for every server")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "soc-bench")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    stub = SlackStub().start()
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": stub.api_url, "WEB_CONCURRENCY": args.workers,
           "SOC_THREADS": args.threads}  # fmt: skip
    env = {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}
    rows = []
    try:
        for kind in ("bare", "bare-default"):
            rows.append(measure(kind, "-", {**env, "DATABASE_URL": "sqlite://"}, stub, args))
        for size in [int(s) for s in args.sizes.split(",")]:
            started = time.perf_counter()
            settings = build_register(args.data / f"register-{size}.db", size)
            print(f"register of {size:,} actions ready in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)  # fmt: skip
            rows.append(measure("soc", size, {**env, "DATABASE_URL": settings.database_url},
                                stub, args))  # fmt: skip
    finally:
        stub.stop()
    print_table(rows, args)
    return 0


def measure(kind: str, size, env: dict, stub: SlackStub, args) -> dict:
    """Start one server, measure it, stop it."""
    with running_server(kind, env) as server:
        client = Client(server.port, stub)
        sequential(client, _from_chair, 20)  # warm up: auth.test, connections, caches
        latencies, deferred = sequential(client, _from_chair, args.requests)
        rate = throughput(server.port, stub, args.concurrency, args.throughput_requests,
                          _from_chair)  # fmt: skip
        rss = worker_rss_mb(server.pid)
    row = {"kind": kind, "size": size, "rate": rate, "rss": rss, "deferred": deferred}
    for text, values in latencies.items():
        row[text] = median_p99(values)
    return row


def _from_chair(i: int) -> Ask:
    return Ask(COMMANDS[i % 2], CHAIR)


def print_table(rows: list[dict], args) -> None:
    """The results, and the ratios the issue sets targets for."""
    print(f"\nworkers={args.workers} threads={args.threads} sequential={args.requests} "
          f"concurrency={args.concurrency}")  # fmt: skip
    print(f"{'server':<14}{'actions':>9}  {'status all p50/p99 ms':>22}  {'rag p50/p99 ms':>16}  "
          f"{'req/s':>7}  {'worker RSS MB':>13}  {'late':>4}")  # fmt: skip
    for row in rows:
        a, b = row[COMMANDS[0]], row[COMMANDS[1]]
        size = f"{row['size']:,}" if isinstance(row["size"], int) else row["size"]
        latency = f"{a[0]:>11.2f} / {a[1]:>7.2f}  {b[0]:>7.2f} / {b[1]:>6.2f}"
        print(f"{row['kind']:<14}{size:>9}  {latency}  {row['rate']:>7.0f}  {row['rss']:>13.1f}  "
              f"{row['deferred']:>4}")  # fmt: skip
    bare = next(r for r in rows if r["kind"] == "bare")
    real = [r for r in rows if r["kind"] == "soc"]
    for row in real:
        for text in COMMANDS:
            print(f"{row['size']:,} actions, {text}: median {row[text][0] / bare[text][0]:.1f}x "
                  "the bare app's")  # fmt: skip
        print(f"{row['size']:,} actions: throughput {row['rate'] / bare['rate']:.2f}x, worker RSS "
              f"{row['rss'] / bare['rss']:.2f}x the bare app's")  # fmt: skip
    if len(real) >= 2:
        small, large = real[0], real[-1]
        for text in COMMANDS:
            print(f"{text}: median at {large['size']:,} is {large[text][0] / small[text][0]:.2f}x "
                  f"that at {small['size']:,}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
