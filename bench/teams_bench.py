"""Teams HTTP benchmark: the real Teams server against a bare Agents SDK echo app, same stack.

    python bench/teams_bench.py                  # 10,000 actions
    python bench/teams_bench.py --size 1000 --requests 100

Both apps run in this process on the same aiohttp server code (each on its own 127.0.0.1 port,
in one background event loop), with the SDK's JWT check on (tokens signed with a local key, the
key set served by the local Bot Connector stand-in), and answer through that stand-in. Sends
personal-chat messages `action status all` and `rag` interleaved from the chair, one at a time;
a message's latency runs until its 202, which Teams gets only once the turn (command, card,
reply to the connector) has finished. Prints median and p99 per command for both apps.
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from microsoft_agents.hosting.aiohttp import CloudAdapter  # noqa: E402
from microsoft_agents.hosting.core import (  # noqa: E402
    AgentApplication,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator  # noqa: E402

from bench.register import CHAIR, build_register  # noqa: E402
from bot.setup import open_engine  # noqa: E402
from bot.teams.app import TeamsBot, create_app  # noqa: E402
from tests.teams_stub import (  # noqa: E402
    ConnectorStub,
    TeamsHarness,
    TokenSigner,
    link_teams,
    local_connection_manager,
    object_id,
    teams_settings,
)

COMMANDS = ("action status all", "rag")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="actions in the register")
    parser.add_argument("--requests", type=int, default=400, help="sequential requests per app")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "soc-bench")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    settings = build_register(args.data / f"register-{args.size}.db", args.size)
    engine = open_engine(settings)
    chair = object_id(CHAIR)
    link_teams(engine, settings.board_slug, {CHAIR: chair})  # again on a reused file: an update
    stub = ConnectorStub().start()
    # Validation stays on; the signing keys come from the local stand-in's key set.
    jwt_token_validator._build_jwks_uri = lambda *args: stub.url + "keys"
    config = teams_settings()
    manager = local_connection_manager(config)
    real = create_app(settings, config, engine=engine, connection_manager=manager)
    bare = _echo_bot(real, manager)
    rows = []
    try:
        for name, bot, commands in (("bare echo app", bare, ("echo",)),
                                    (f"soc ({args.size:,} actions)", real, COMMANDS)):  # fmt: skip
            rows.append((name, measure(bot, stub, commands, args.requests)))
    finally:
        stub.stop()
    print(f"{'app':<26} {'command':<20} {'median ms':>10} {'p99 ms':>8}")
    for name, results in rows:
        for command, (median, p99) in results.items():
            print(f"{name:<26} {command:<20} {median:>10.1f} {p99:>8.1f}")
    return 0


def _echo_bot(real: TeamsBot, manager) -> TeamsBot:
    """The SDK's minimal agent: echoes each message, on the same adapter and JWT settings."""
    agent = AgentApplication[TurnState](storage=MemoryStorage(), connection_manager=manager)

    @agent.activity("message")
    async def echo(context: TurnContext, state: TurnState) -> None:
        await context.send_activity(f"you said: {context.activity.text}")

    adapter = CloudAdapter(connection_manager=manager)
    return TeamsBot(agent, adapter, real.auth_configuration, real.runtime)


def measure(bot: TeamsBot, stub: ConnectorStub, commands, requests: int) -> dict:
    """Sequential messages from the chair: median and p99 milliseconds per command."""
    harness = TeamsHarness(bot, stub, TokenSigner(stub))
    token = harness.signer.token()
    connection = http.client.HTTPConnection("127.0.0.1", harness.port, timeout=60)
    latencies: dict[str, list[float]] = {}
    try:
        for i in range(requests + 20):
            text = commands[i % len(commands)]
            body = json.dumps(harness.personal_message(object_id(CHAIR), text))
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            started = time.perf_counter()
            connection.request("POST", "/api/messages", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 202:
                raise SystemExit(f"{text!r} answered {response.status}")
            if i >= 20:  # the first requests warm up caches and connections
                latencies.setdefault(text, []).append(elapsed)
            stub.calls.clear()
    finally:
        connection.close()
        harness.close()
    results = {}
    for text, values in latencies.items():
        values.sort()
        results[text] = (statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)])
    return results


if __name__ == "__main__":
    raise SystemExit(main())
