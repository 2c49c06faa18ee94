"""A local stand-in for Slack: its Web API and response_urls record calls; requests are signed.

`SlackStub` is an HTTP server on 127.0.0.1 that answers the Web API methods the app uses and
any `response_url` it hands out, records every call, and can be told to fail the next calls
with 429 (Retry-After) or 500, or to refuse a user for good. Messages posted are kept (with
their metadata) and served back by `conversations.history`, as reminder reconciliation needs.
`chat.update` changes a kept message, and the views opened, updated and published are kept
(`stub.views`) so a test can read a modal and submit it as the person would.
`oauth.v2.access` exchanges the codes granted with `grant()` for a workspace's bot token, as
Slack does at the end of an install. `SlackHarness` sends slash commands, button clicks, form
submissions and events to the app exactly as Slack does, from one workspace (`team`):
form-encoded or JSON, signed with the signing secret.
"""

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

from bot.config import Settings
from bot.slack.ids import EVENTS_PATH, FIELD_BLOCK, SOC_COMMAND

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token-never-real"
CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret-never-real"
BOT_USER = "UBOTSOC"
TEAM = "T0BOARD"
CHANNEL = "C0BOARD"
UPLOAD_PATH = "/upload/"  # where files.getUploadURLExternal's upload_url points


@dataclass
class Call:
    """One request that reached the stand-in."""

    path: str
    body: str
    data: dict
    headers: dict

    @property
    def method(self) -> str:
        """The Web API method (`chat.postMessage`), `upload` for an upload_url, or `response`."""
        if self.path.startswith(UPLOAD_PATH):
            return "upload"
        return self.path.rsplit("/", 1)[-1] if self.path.startswith("/api/") else "response"


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int


@dataclass
class SlackStub:
    """The recording Web API and response_url server; start() before use, stop() after."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, _Failure] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)  # upload_url path -> the file's bytes

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self.messages: list[dict] = []  # what chat.postMessage accepted, with metadata
        self.views: dict[str, dict] = {}  # view id -> the view as last opened/updated/published
        self.refusals: dict[str, str] = {}
        self.grants: dict[str, dict] = {}  # OAuth code -> what oauth.v2.access answers for it
        self._last_ts = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.startswith(UPLOAD_PATH):  # a file's bytes, not text
                    stub.uploads[self.path] = raw
                stub._answer(self, raw.decode(errors="replace"))

            def do_GET(self) -> None:  # noqa: N802  (conversations.history is a GET)
                path, _, query = self.path.partition("?")
                stub._answer(self, query, path)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be."""
        return self.base + "/api/"

    def response_url(self) -> str:
        """A fresh response_url, as Slack puts in each command and click."""
        return f"{self.base}/response/{next(self._ids)}"

    def start(self) -> "SlackStub":
        """Serve in a background thread."""
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method: str, status: int = 429, *, retry_after: int | None = 0, times: int = 1):
        """Make the next `times` calls of `method` ("response" for response_urls) fail."""
        self.failures[method] = _Failure(status, retry_after, times)

    def refuse(self, user_or_channel: str, error: str = "user_not_found") -> None:
        """Make chat.postMessage and conversations.open refuse one user for good (200, ok false)."""
        self.refusals[user_or_channel] = error

    def grant(self, code: str, team_id: str, team_name: str, installer: str) -> str:
        """Make `code` a one-time install code for that workspace; its bot token is returned."""
        token = f"xoxb-{team_id.lower()}-never-real"
        self.grants[code] = {
            "access_token": token, "token_type": "bot", "scope": "commands,chat:write",
            "bot_user_id": BOT_USER, "app_id": "A0SOCBOT", "team": {"id": team_id,
            "name": team_name}, "enterprise": None, "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }  # fmt: skip
        return token

    def delivered(self, user_or_channel: str | None = None) -> list[dict]:
        """Messages chat.postMessage accepted, optionally to one DM (a user id) or channel."""
        wanted = _dm_channel(user_or_channel) if user_or_channel else None
        return [m for m in list(self.messages) if wanted in (None, m["channel"])]

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in list(self.calls) if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `count` calls of `method` have arrived; they are returned."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.calls_to(method)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} {method} call(s), got "
                                         f"{[c.method for c in self.calls]}")  # fmt: skip
                self._changed.wait(left)
        return self.calls_to(method)

    def wait_for_path(self, path: str, timeout: float = 5.0) -> Call:
        """Block until a call to `path` (e.g. one response_url) has arrived; it is returned."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := [c for c in self.calls if c.path == path]):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing was posted to {path}")
                self._changed.wait(left)
        return found[0]

    def view(self, method: str = "views.open", index: int = -1) -> dict:
        """The view a views.* call opened, updated or published, as it is now (with its id)."""
        call = self.calls_to(method)[index]
        view_id = call.data.get("view_id") or _view_id(call)
        return {**self.views[view_id], "id": view_id}

    def everything_sent(self) -> str:
        """Every recorded body, raw and decoded, for searching."""
        return "\n".join(f"{c.body}\n{json.dumps(c.data, ensure_ascii=False)}" for c in self.calls)

    def _answer(self, handler: BaseHTTPRequestHandler, raw: str, path: str = "") -> None:
        kind = handler.headers.get("content-type", "")
        data = json.loads(raw) if "json" in kind and raw else {
            k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}  # fmt: skip
        call = Call(path or handler.path, raw, data,
                    {k.lower(): v for k, v in handler.headers.items()})  # fmt: skip
        failure = self.failures.get(call.method)
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if failure and failure.times > 0:
            failure.times -= 1
            handler.send_response(failure.status)
            if failure.retry_after is not None:
                handler.send_header("Retry-After", str(failure.retry_after))
            handler.send_header("content-type", "application/json")
            handler.end_headers()
            handler.wfile.write(b'{"ok": false, "error": "ratelimited"}')
            return
        if call.method == "response":
            body, kind = b"ok", "text/plain"
        elif call.method == "oauth.v2.access":
            granted = self.grants.pop(call.data.get("code", ""), None)  # each code works once
            result = {"ok": True, **granted} if granted else {"ok": False, "error": "invalid_code"}
            body, kind = json.dumps(result).encode(), "application/json"
        else:
            result = self._direct(call) if call.method in DIRECT_METHODS else _api_result(call)
            body, kind = json.dumps(result).encode(), "application/json"
        handler.send_response(200)
        handler.send_header("content-type", kind)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _direct(self, call: Call) -> dict:
        """Messages kept per channel (a user id is their DM) and served back with metadata."""
        data = call.data
        target = data.get("channel") or data.get("users") or ""
        if target in self.refusals:
            return {"ok": False, "error": self.refusals[target]}
        if call.method == "conversations.open":
            return {"ok": True, "channel": {"id": _dm_channel(target)}}
        if call.method in VIEW_METHODS:
            return self._view(call)
        if call.method == "conversations.history":
            oldest = float(data.get("oldest") or 0)
            latest = float(data.get("latest") or "inf")
            inclusive = data.get("inclusive") in ("1", "true", True)
            metadata = data.get("include_all_metadata") in ("1", "true")
            found = [
                m if metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in reversed(self.delivered(target))
                if oldest <= float(m["ts"]) and (float(m["ts"]) < latest or
                                                 inclusive and float(m["ts"]) == latest)
            ][: int(data.get("limit") or 100)]  # fmt: skip
            return {"ok": True, "messages": found, "has_more": False}
        if call.method == "chat.update":
            kept = [m for m in self.messages if (m["channel"], m["ts"]) == (target, data.get("ts"))]
            if not kept:
                return {"ok": False, "error": "message_not_found"}
            kept[0].update(text=data.get("text"), blocks=_json(data.get("blocks")))
            return {"ok": True, "channel": target, "ts": data.get("ts"), "text": data.get("text")}
        with self._changed:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            message = {"type": "message", "user": BOT_USER, "ts": f"{self._last_ts:.6f}",
                       "channel": _dm_channel(target), "text": data.get("text"),
                       "blocks": data.get("blocks"), "metadata": data.get("metadata")}  # fmt: skip
            self.messages.append(message)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"],
                "message": {"text": message["text"]}}  # fmt: skip

    def _view(self, call: Call) -> dict:
        view = _json(call.data.get("view"))
        view_id = call.data.get("view_id") or _view_id(call)
        if call.method == "views.update" and view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        self.views[view_id] = view
        return {"ok": True, "view": {**view, "id": view_id}}


VIEW_METHODS = ("views.open", "views.update", "views.publish")
DIRECT_METHODS = ("chat.postMessage", "chat.update", "conversations.open",
                  "conversations.history", *VIEW_METHODS)  # fmt: skip


def _json(value):
    """A JSON argument as the Web API client sent it (form fields arrive as strings)."""
    return json.loads(value) if isinstance(value, str) else value


def _view_id(call: Call) -> str:
    """A view's id: one per user's Home tab, one per modal opened (by its trigger)."""
    if call.method == "views.publish":
        return f"VHOME{call.data.get('user_id')}"
    return f"VMODAL{abs(hash(call.body)) % 10**8:08d}"


def _dm_channel(target: str) -> str:
    """Posting to a user id posts in the app's DM with them: `U123` -> `D123`."""
    return "D" + target[1:] if target[:1] in ("U", "W") else target


def _api_result(call: Call) -> dict:
    data = call.data
    host, file_id = call.headers.get("host", ""), f"F{abs(hash(call.body)) % 10**8:08d}"
    results = {
        "auth.test": {"url": "https://board.slack.com/", "team": "Board", "user": "soc-bot",
                      "team_id": TEAM, "user_id": BOT_USER, "bot_id": "BSOC"},
        "chat.postMessage": {"channel": data.get("channel"), "ts": "1.000100",
                             "message": {"text": data.get("text")}},
        "chat.postEphemeral": {"message_ts": "1.000200"},
        "chat.update": {"channel": data.get("channel"), "ts": data.get("ts")},
        "views.publish": {"view": {"id": "VHOME", "type": "home"}},
        "views.open": {"view": {"id": "VMODAL", "type": "modal"}},
        "conversations.open": {"channel": {"id": "D0DIRECT"}},
        "users.info": {"user": {"id": data.get("user"), "tz": "Europe/London"}},
        "apps.connections.open": {"url": "ws://127.0.0.1:9/never-connected"},
        "files.getUploadURLExternal": {"file_id": file_id,
                                       "upload_url": f"http://{host}{UPLOAD_PATH}{file_id}"},
        "files.completeUploadExternal": {"files": [{"id": f["id"], "title": f.get("title")}
                                                   for f in json.loads(data.get("files", "[]"))]},
        "upload": {},
    }  # fmt: skip
    if call.method not in results:
        return {"ok": False, "error": "unknown_method"}
    return {"ok": True, **results[call.method]}


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends: the timestamp and `v0=` HMAC-SHA256 of `v0:{ts}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slack_escape(text: str) -> str:
    """What Slack does to typed text before sending it: &, < and > become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Answer:
    """The app's HTTP answer to one request."""

    status: int
    body: str
    response_url: str = ""

    @property
    def json(self) -> dict:
        """The answer body as JSON (a slash command's acknowledgement)."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The acknowledgement's plain-text fallback."""
        return self.json.get("text", "")

    @property
    def everything(self) -> str:
        """The acknowledgement's text and blocks as readable JSON, for searching."""
        return json.dumps(self.json, ensure_ascii=False)


class SlackHarness:
    """Drives the real Flask app with requests signed as Slack signs them."""

    team = TEAM  # the workspace the requests come from

    def __init__(self, web_app, stub: SlackStub, team: str = TEAM) -> None:
        self.client, self.stub, self.team = web_app.test_client(), stub, team
        self._events = itertools.count(1)

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Answer:
        """POST a raw body to /slack/events (signed now unless `headers` are given)."""
        headers = {**sign(body), "Content-Type": content_type, **(headers or {})}
        response = self.client.post(EVENTS_PATH, data=body.encode(), headers=headers)
        return Answer(response.status_code, response.get_data(as_text=True))

    def command_body(self, user_id: str, sent_text: str, response_url: str) -> str:
        """A slash command's form body; `sent_text` is the text field as Slack sends it."""
        return urlencode({
            "token": "deprecated-verification-token", "team_id": self.team, "team_domain": "board",
            "channel_id": CHANNEL, "channel_name": "soc-board", "user_id": user_id,
            "user_name": user_id.lower(), "command": SOC_COMMAND, "text": sent_text,
            "api_app_id": "A0SOCBOT", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": "1337.42.abcdef",
        })  # fmt: skip

    def command(
        self, user_id: str, text: str, *, as_sent: str | None = None, headers: dict | None = None
    ) -> Answer:
        """Type `/soc text` as `user_id` (`as_sent`: the text field exactly, e.g. a mention)."""
        url = self.stub.response_url()
        sent = slack_escape(text) if as_sent is None else as_sent
        answer = self.post(self.command_body(user_id, sent, url),
                           "application/x-www-form-urlencoded", headers)  # fmt: skip
        answer.response_url = url
        return answer

    def click(
        self,
        user_id: str,
        button: dict,
        response_url: str | None = None,
        *,
        choose: str | None = None,
        message: dict | None = None,
        home: dict | None = None,
    ) -> Answer:
        """Use a control (a button, or with `choose` a select's option value or a picker's date)
        as `user_id`: in an ephemeral reply, in a posted `message`, or on a `home` view."""
        url = response_url or self.stub.response_url()
        # Each click is its own request, as from Slack: a fresh trigger and action time.
        clicked = next(self._events)
        action = {"type": button.get("type", "button"), "action_id": button["action_id"],
                  "block_id": button.get("block_id", "b"), "action_ts": f"1.{clicked}"}  # fmt: skip
        if action["type"] == "button":
            action.update(value=button["value"], text=button["text"])
        elif action["type"] == "datepicker":
            action["selected_date"] = choose
        else:
            chosen = [o for o in button["options"] if o["value"] == choose]
            action["selected_option"] = chosen[0] if chosen else {"value": choose}
        payload = {
            "type": "block_actions", "team": {"id": self.team}, "user": {"id": user_id},
            "api_app_id": "A0SOCBOT", "token": "deprecated", "trigger_id": f"1337.43.{clicked}",
            "channel": {"id": CHANNEL}, "container": {"type": "message", "is_ephemeral": True},
            "response_url": url, "actions": [action],
        }  # fmt: skip
        if message is not None:
            payload["channel"] = {"id": message["channel"]}
            payload["container"] = {
                "type": "message",
                "is_ephemeral": False,
                "channel_id": message["channel"],
                "message_ts": message["ts"],
            }
            payload["message"] = {k: message[k] for k in ("type", "user", "ts", "text", "blocks")
                                  if k in message}  # fmt: skip
        if home is not None:
            payload.pop("channel")
            payload.pop("response_url")
            payload["container"] = {"type": "view", "view_id": home["id"]}
            payload["view"] = home
        answer = self.post(urlencode({"payload": json.dumps(payload)}),
                           "application/x-www-form-urlencoded")  # fmt: skip
        answer.response_url = "" if home is not None else url
        return answer

    def submit(self, user_id: str, view: dict, answers: dict | None = None) -> Answer:
        """Submit a modal as `user_id`: each input keeps its initial value unless `answers`
        (by field key: the input's block id without `FIELD_BLOCK`) says otherwise."""
        state = {block["block_id"]: {block["element"]["action_id"]: _element_state(
                     block["element"], (answers or {}).get(block["block_id"].removeprefix(
                         FIELD_BLOCK), _UNSET))}
                 for block in view.get("blocks", []) if block["type"] == "input"}  # fmt: skip
        payload = {
            "type": "view_submission", "team": {"id": self.team}, "user": {"id": user_id},
            "api_app_id": "A0SOCBOT", "token": "deprecated",
            "trigger_id": f"1337.44.{next(self._events)}",
            "view": {**view, "state": {"values": state}, "hash": "1.abc"},
        }  # fmt: skip
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded")  # fmt: skip

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None):
        """Deliver an Events API callback (a retry when `retry_num` is given)."""
        body = json.dumps({
            "token": "deprecated", "team_id": self.team, "api_app_id": "A0SOCBOT", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next(self._events):06d}",
            "event_time": int(time.time()), "authorizations": [
                {"team_id": self.team, "user_id": BOT_USER, "is_bot": True}],
        })  # fmt: skip
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", headers)


_UNSET = object()


def _element_state(element: dict, answer) -> dict:
    """What Slack submits for one input: the answer given, or else what it was prefilled with."""
    kind = element["type"]
    state: dict = {"type": kind}
    if kind == "plain_text_input":
        state["value"] = element.get("initial_value") if answer is _UNSET else (answer or None)
    elif kind == "datepicker":
        state["selected_date"] = element.get("initial_date") if answer is _UNSET else answer
    elif kind == "static_select":
        chosen = [o for o in element["options"] if answer is not _UNSET and o["value"] == answer]
        state["selected_option"] = (element.get("initial_option") if answer is _UNSET
                                    else (chosen or [None])[0])  # fmt: skip
    else:  # multi_static_select, checkboxes: a list of option values
        if answer is _UNSET:
            state["selected_options"] = element.get("initial_options", [])
        else:
            state["selected_options"] = [o for o in element["options"] if o["value"] in answer]
    return state


def buttons_in(blocks: list[dict]) -> list[dict]:
    """Every button in some blocks, each with its block_id."""
    return [{**element, "block_id": block.get("block_id", "")}
            for block in blocks if block["type"] == "actions"
            for element in block["elements"]]  # fmt: skip


def slack_settings(settings: Settings, stub: SlackStub) -> Settings:
    """Test settings with Slack credentials and the API pointed at the stand-in."""
    return replace(settings, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                   slack_api_url=stub.api_url)  # fmt: skip


def install_settings(settings: Settings, stub: SlackStub) -> Settings:
    """Test settings for many workspaces: the app's OAuth credentials instead of a bot token."""
    return replace(settings, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                   slack_signing_secret=SIGNING_SECRET, slack_api_url=stub.api_url)  # fmt: skip
