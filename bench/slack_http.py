"""What the Slack HTTP benchmarks share: a server in a subprocess, signed /soc commands as Slack
sends them (timed until the reply is with Slack), concurrent clients, worker memory, percentiles.
"""

import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bot.slack.ids import EVENTS_PATH, SOC_COMMAND
from tests.slack_stub import CHANNEL, TEAM, SlackStub, sign

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("action status all", "rag")
WORKING = "Working on it"


@dataclass(frozen=True)
class Ask:
    """One /soc command: its text, and who types it in which workspace."""

    text: str
    user_id: str
    team_id: str = TEAM


# Request number -> the command sent as that request.
Asks = Callable[[int], Ask]


@contextmanager
def running_server(kind: str, env: dict) -> Iterator[subprocess.Popen]:
    """`bench/servers.py KIND` on a free port (the process's `port` attribute), stopped after."""
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "servers.py"), kind, str(port)],
                              env=env, cwd=ROOT, stderr=subprocess.DEVNULL)  # fmt: skip
    server.port = port
    try:
        wait_healthy(port)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


class Client:
    """One keep-alive connection sending signed /soc commands as Slack does."""

    def __init__(self, port: int, stub: SlackStub) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.stub = stub

    def run(self, ask: Ask) -> tuple[float, bool]:
        """Send one command; seconds until the reply is with Slack, and whether it was late."""
        url = self.stub.response_url()
        body = urlencode({"token": "x", "team_id": ask.team_id, "channel_id": CHANNEL,
                          "user_id": ask.user_id, "command": SOC_COMMAND, "text": ask.text,
                          "response_url": url, "trigger_id": "1.2.3"})  # fmt: skip
        headers = {**sign(body), "Content-Type": "application/x-www-form-urlencoded"}
        started = time.perf_counter()
        try:
            self.connection.request("POST", EVENTS_PATH, body=body, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection: reconnect and send it again.
            self.connection.close()
            self.connection.request("POST", EVENTS_PATH, body=body, headers=headers)
            response = self.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
        answer = json.loads(payload) if payload[:1] == b"{" else {}
        late = answer.get("text", "").startswith(WORKING)
        if late:
            self.stub.wait_for_path(url.removeprefix(self.stub.base), timeout=60)
        return time.perf_counter() - started, late


def sequential(client: Client, asks: Asks, count: int, first: int = 0) -> tuple[dict, int]:
    """Send `count` commands one at a time: milliseconds per command text, and how many late."""
    latencies: dict[str, list[float]] = {}
    late = 0
    for i in range(first, first + count):
        ask = asks(i)
        seconds, was_late = client.run(ask)
        latencies.setdefault(ask.text, []).append(seconds * 1000)
        late += was_late
    return latencies, late


def throughput(port: int, stub: SlackStub, clients: int, total: int, asks: Asks) -> float:
    """Requests per second with `clients` connections each sending its share of `asks`."""
    share = total // clients
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def work(index: int) -> None:
        client = Client(port, stub)
        barrier.wait()
        try:
            for i in range(share):
                client.run(asks(index * share + i))
        except BaseException as error:  # noqa: BLE001  (reported by the caller)
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return share * clients / (time.perf_counter() - started)


def median_p99(values: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile (nearest rank) of some measurements."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def worker_rss_mb(master_pid: int) -> float:
    """The largest resident set among gunicorn's worker processes, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = [rss_mb(int(pid)) for pid in children]
    return max(sizes) if sizes else float("nan")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident set (or its peak, `VmHWM`), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, timeout: float = 60) -> None:
    """Wait until the server on `port` answers /healthz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become healthy")
