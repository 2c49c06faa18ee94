"""Fixtures for the Slack tests (a pytest plugin: `pytest_plugins = ("tests.slack_fixtures",)`)."""

import json

import pytest
from sqlmodel import Session

from bot.slack import ids as slack_ids
from bot.slack.server import create_wsgi_app
from models.boards import list_areas
from models.people import find_partner
from tests.conftest import NOW
from tests.slack_stub import SlackHarness, SlackStub, buttons_in, slack_settings


@pytest.fixture
def stub():
    """The running Slack stand-in."""
    server = SlackStub().start()
    yield server
    server.stop()


@pytest.fixture
def slack(board_engine, settings, stub) -> SlackHarness:
    """The real HTTP app over the test Board at NOW, talking to the stand-in."""
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine,
                              clock=lambda: NOW)  # fmt: skip
    return SlackHarness(web_app, stub)


def find_button(blocks: list[dict], action_id: str, ref: str | None = None) -> dict:
    found = [b for b in buttons_in(blocks) if b["action_id"] == action_id]
    if ref is not None:
        found = [b for b in found if slack_ids.block_ref(b["block_id"]) == ref]
    return found[0]


def rag_option(select_: dict, rag: str) -> str:
    return next(o["value"] for o in select_["options"] if o["value"].endswith(f"|{rag}"))


def modal_ids(engine) -> tuple[int, int, int]:
    """The ids of the Cyber attack area, CoLP and Trading Standards."""
    with Session(engine) as session:
        cyber = next(a for a in list_areas(session=session, board_id=1) if a.name == "Cyber attack")
        colp = find_partner(session=session, board_id=1, text="CoLP")
        trading = find_partner(session=session, board_id=1, text="Trading Standards")
        return cyber.id, colp.id, trading.id


def open_home(slack, user: str) -> dict:
    """Open the Home tab as `user`; the view published (with its id)."""
    count = len(slack.stub.calls_to("views.publish"))
    slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                 "event_ts": "1.1"})  # fmt: skip
    slack.stub.wait_for("views.publish", count + 1)
    return slack.stub.view("views.publish")


def home_text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


UPLOAD_STEPS = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def upload_calls(stub) -> list[str]:
    """The upload API calls the stand-in received, in order."""
    return [c.method for c in stub.calls if c.method in UPLOAD_STEPS]


def uploaded_bytes(stub) -> bytes:
    """The bytes POSTed to the (only) upload_url."""
    [call] = stub.calls_to("upload")
    return stub.uploads[call.path]
