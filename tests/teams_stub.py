"""A local stand-in for Teams: the Bot Connector, signed tokens, and the real aiohttp server.

`ConnectorStub` is an HTTP server on 127.0.0.1 answering the Bot Connector calls the bot makes
(replies, new messages, updates, new conversations), recording each one, and able to fail the
next calls with 429 (Retry-After) or 5xx. It also serves a JWKS with a local RSA key, and
`TokenSigner` signs Bot Framework-shaped tokens with that key (or with another key, expired, or
for the wrong audience). `TeamsHarness` runs the bot's real aiohttp application on a real port
in a background event loop and posts Teams-shaped activities to it; the SDK's key source is
pointed at the stub's JWKS, never switched off.
"""

import asyncio
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core import ConnectionManager
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration
from sqlmodel import Session

from bot.teams.config import TeamsSettings
from bot.teams.ids import MESSAGES_PATH
from bot.teams.server import create_web_app
from models.boards import get_board
from models.people import attach_identity, find_member_by_identity

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"
SECRET = "local-test-secret-never-real"
BOT = f"28:{APP_ID}"
ISSUER = "https://api.botframework.com"
CHANNEL_ID = "19:boardchannel@thread.tacv2"
OUTGOING_TOKEN = "local-outgoing-token"


def object_id(name: str) -> str:
    """A stable Entra object id (GUID) for a test person, e.g. `object_id("UCHAIR")`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"soc-test/{name}"))


def teams_settings(**changes) -> TeamsSettings:
    """Settings as in production, but allowing a connector on loopback (the stub)."""
    values = {"client_id": APP_ID, "client_secret": SECRET, "tenant_id": TENANT,
              "check_service_url": False}  # fmt: skip
    values.update(changes)
    return TeamsSettings(**values)


def link_teams(engine, board_slug: str, people: dict[str, str]) -> None:
    """Give each member (by Slack id) a Teams identity: their `object_id`."""
    with Session(engine) as session:
        board = get_board(session=session, slug=board_slug)
        for slack_id, teams_id in people.items():
            member = find_member_by_identity(
                session=session, board_id=board.id, channel="slack", external_id=slack_id
            )
            attach_identity(session=session, member=member, channel="teams",
                            external_id=teams_id, tenant=TENANT)  # fmt: skip
        session.commit()


@dataclass
class Call:
    """One request that reached the connector stand-in."""

    method: str
    path: str
    body: dict
    headers: dict
    raw: bytes = b""

    @property
    def card(self) -> dict | None:
        """The Adaptive Card this message carries, if any."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def text(self) -> str:
        """The message's plain text."""
        return self.body.get("text") or ""


class _LocalTokens:
    """An access-token provider that never calls Entra: outgoing calls carry a fixed token."""

    def __init__(self, configuration: AgentAuthConfiguration) -> None:
        self._configuration = configuration

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._configuration

    async def get_access_token(self, resource_url, scopes, force_refresh=False) -> str:
        return outgoing_token(self._configuration.CLIENT_ID or APP_ID)


def outgoing_token(app_id: str) -> str:
    """The token calls made as app `app_id` carry (the default app's is OUTGOING_TOKEN)."""
    return OUTGOING_TOKEN if app_id == APP_ID else f"local-outgoing-token-of-{app_id}"

    def get_token_credential(self):
        raise NotImplementedError


def local_connection_manager(teams: TeamsSettings) -> ConnectionManager:
    """The SDK's connection manager with the same settings, but tokens made locally."""
    return ConnectionManager(provider_factory=_LocalTokens, **teams.sdk_configuration())


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int


@dataclass
class ConnectorStub:
    """The recording Bot Connector and JWKS server; start() before use, stop() after."""

    calls: list[Call] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Unique per stub: the SDK caches each JWKS URL's keys for the process, and a later
        # stub may get the same port, so a shared kid would find the earlier stub's key.
        self.kid = f"local-key-{uuid.uuid4().hex[:12]}"
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path.rstrip("/").endswith("/keys"):
                    return stub._send(self, 200, stub.jwks())
                stub._send(self, 404, {})

            def do_POST(self) -> None:  # noqa: N802
                stub._answer(self, "POST")

            def do_PUT(self) -> None:  # noqa: N802
                stub._answer(self, "PUT")

            def do_DELETE(self) -> None:  # noqa: N802
                stub._answer(self, "DELETE")

            def log_message(self, *args) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """The service URL activities carry: `http://127.0.0.1:PORT/`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> "ConnectorStub":
        """Serve in a background thread."""
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def jwks(self) -> dict:
        """The public half of the signing key, as a JWKS."""
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` connector calls with `status` (and Retry-After)."""
        self.failures.append(_Failure(status, retry_after, times))

    def sent(self, method: str = "POST") -> list[Call]:
        """Messages the bot sent or replied, in order (not typing indicators or conversations)."""
        return [c for c in self.calls if c.method == method and "/activities" in c.path
                and c.body.get("type") != "typing"]  # fmt: skip

    def created(self) -> list[Call]:
        """The new conversations the bot asked for."""
        return [c for c in self.calls if c.method == "POST" and c.path == "/v3/conversations"]

    def _answer(self, request: BaseHTTPRequestHandler, method: str) -> None:
        raw = request.rfile.read(int(request.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        call = Call(method, request.path.split("?")[0], body, dict(request.headers), raw)
        with self._lock:
            self.calls.append(call)
            # Failures are for the messages under test, not the SDK's typing indicators.
            typing = body.get("type") == "typing"
            failure = self.failures[0] if self.failures and not typing else None
            if failure:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.pop(0)
        if failure:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return self._send(request, failure.status, {"error": {"code": "stub"}}, headers)
        if method == "POST" and call.path == "/v3/conversations":
            members = body.get("members") or [{}]
            return self._send(request, 201, {"id": f"a:personal-{members[0].get('id', '')}"})
        if method == "DELETE":
            return self._send(request, 200, {})
        self._send(request, 201 if method == "POST" else 200, {"id": f"m{next(self._ids)}"})

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)


@dataclass
class TokenSigner:
    """Bot Framework-shaped tokens signed with the stub's key (or, for forgeries, another)."""

    stub: ConnectorStub

    def token(
        self,
        *,
        audience: str = APP_ID,
        issuer: str = ISSUER,
        expires_in: int = 3600,
        forged: bool = False,
    ) -> str:
        """A signed token; `forged` signs with a key the JWKS does not have (same kid)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "iat": now - 60, "nbf": now - 60,
                  "exp": now + expires_in, "serviceurl": self.stub.url}  # fmt: skip
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if forged else (
            self.stub.key)  # fmt: skip
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.stub.kid})


def point_keys_at(monkeypatch, stub: ConnectorStub) -> None:
    """Make the SDK fetch signing keys from the stub's JWKS (validation itself stays on)."""
    from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

    monkeypatch.setattr(jwt_token_validator, "_build_jwks_uri", lambda *args: stub.url + "keys")


class TeamsHarness:
    """The bot's aiohttp application on a real loopback port, and a client posting activities."""

    def __init__(self, bot, stub: ConnectorStub, signer: TokenSigner | None = None) -> None:
        self.bot, self.stub, self.signer = bot, stub, signer
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = web.AppRunner(create_web_app(bot))
        self._await(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._await(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        """The bot's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _await(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def close(self) -> None:
        """Stop the server and its loop."""
        self._await(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def post(self, activity: dict, *, token: str | None = "signed") -> tuple[int, dict]:
        """POST an activity to /api/messages: (status, JSON body or {})."""
        headers = {"Content-Type": "application/json"}
        if token == "signed":
            token = self.signer.token() if self.signer else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request("POST", MESSAGES_PATH, json.dumps(activity).encode(), headers)

    def request(
        self, method: str, path: str, data: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        """Any request to the bot: (status, JSON body or {})."""
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers or {})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else {}
        except ValueError:
            return status, {"raw": raw.decode(errors="replace")}

    # Teams-shaped activities

    def person(self, teams_id: str, name: str = "Test Person") -> dict:
        """The `from` of an activity sent by this person."""
        return {"id": f"29:{teams_id}", "name": name, "aadObjectId": teams_id}

    def personal_message(self, teams_id: str, text: str) -> dict:
        """A message typed in the person's personal chat with the bot."""
        return self._activity("message", teams_id, self._personal(teams_id), text=text)

    def channel_message(self, teams_id: str, text: str) -> dict:
        """A message in the Board's channel that @mentions the bot (as Teams sends it)."""
        root = f"{CHANNEL_ID};messageid=17000000{next(self._ids)}"
        conversation = {"id": root, "conversationType": "channel", "isGroup": True,
                        "tenantId": TENANT}  # fmt: skip
        html = f"<at>soc</at>&nbsp;{text}<br>"
        mention = {"type": "mention", "text": "<at>soc</at>",
                   "mentioned": {"id": BOT, "name": "soc"}}  # fmt: skip
        activity = self._activity("message", teams_id, conversation, text=html)
        activity["entities"] = [mention]
        activity["channelData"]["channel"] = {"id": CHANNEL_ID}
        activity["channelData"]["team"] = {"id": CHANNEL_ID}
        return activity

    def invoke(self, teams_id: str, verb: str, data: dict, *, personal: bool = True) -> dict:
        """A card control clicked: `adaptiveCard/action` with Action.Execute's verb and data."""
        conversation = self._personal(teams_id)
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                 "trigger": "manual"}  # fmt: skip
        return self._activity("invoke", teams_id, conversation, name="adaptiveCard/action",
                              value=value)  # fmt: skip

    def installation(self, teams_id: str) -> dict:
        """The app installed in the person's personal scope."""
        activity = self._activity("installationUpdate", teams_id, self._personal(teams_id))
        activity["action"] = "add"
        return activity

    def members_added(self, teams_id: str) -> dict:
        """The bot added to the person's personal chat."""
        activity = self._activity("conversationUpdate", teams_id, self._personal(teams_id))
        activity["membersAdded"] = [{"id": BOT}]
        return activity

    def _personal(self, teams_id: str) -> dict:
        return {"id": f"a:personal-29:{teams_id}", "conversationType": "personal",
                "tenantId": TENANT}  # fmt: skip

    def _activity(self, kind: str, teams_id: str, conversation: dict, **extra) -> dict:
        return {
            "type": kind,
            "id": f"act{next(self._ids)}",
            "timestamp": "2027-01-20T10:00:00.000Z",
            "serviceUrl": self.stub.url,
            "channelId": "msteams",
            "from": self.person(teams_id),
            "recipient": {"id": BOT, "name": "soc"},
            "conversation": conversation,
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
            **extra,
        }


def card_elements(card: dict, keep: Callable[[dict], bool]) -> list[dict]:
    """Every element of a card that `keep` accepts, at any depth (Action.ShowCard forms too)."""
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if keep(node):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def card_actions(card: dict) -> list[dict]:
    """Every Action.Execute in a card, including those inside Action.ShowCard forms."""
    return card_elements(card, lambda node: node.get("type") == "Action.Execute")


def card_inputs(card: dict) -> dict[str, dict]:
    """Every input of a card (Input.Text, Input.ChoiceSet, ...), by its id."""
    inputs = card_elements(card, lambda node: str(node.get("type", "")).startswith("Input."))
    return {node["id"]: node for node in inputs}


def control(card: dict, verb: str, ref: str) -> dict:
    """The control with this verb on the item `ref` (its data's target starts with the ref)."""
    return next(a for a in card_actions(card) if a["verb"] == verb
                and a["data"].get("target", "").split(":")[0] == ref)  # fmt: skip


def click(harness: TeamsHarness, teams_id: str, action: dict, value: str | None = None):
    """Click a control as Teams does, with `value` typed or chosen in its input: (status, body)."""
    data = dict(action["data"])
    if value is not None and "input" in data:
        data[data["input"]] = value
    return harness.post(harness.invoke(teams_id, action["verb"], data))


def texts_of(card: dict) -> str:
    """All the text a card shows, joined (text runs and text blocks)."""
    shown = card_elements(card, lambda node: node.get("type") in ("TextRun", "TextBlock"))
    return "\n".join(node.get("text", "") for node in shown)


TEAMS_CARD_LIMIT = 28 * 1024  # bytes: Teams refuses a bigger message


def valid_card(validator, card: dict) -> dict:
    """`card`, once it is checked: valid against the 1.5 schema, version 1.5, within 28 KB."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(card)]
    assert errors == []
    assert card["version"] == "1.5"
    size = len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    assert size <= TEAMS_CARD_LIMIT
    return card
