"""Whatever a person types reaches `/soc`, even words bolt's body parser looks for.

Bolt decides a form body is an interactivity payload when the word `payload` appears anywhere in
it, so `/soc action note A-9 payload of leaflets` was answered 404 "unhandled request" (Slack:
"dispatch_failed"). These send such texts signed over HTTP, and through Socket Mode, and check
the note is saved exactly as typed.
"""

import pytest
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlmodel import Session, select

from bot.slack.app import create_app
from bot.slack.ids import SOC_COMMAND
from models.tables import ActionChange
from tests.conftest import COLP, NOW
from tests.slack_stub import TEAM, slack_settings

pytest_plugins = ("tests.slack_fixtures",)

TYPED = [
    "payload of leaflets delivered to partners",
    "payload",
    "Payload PAYLOAD payloads",
    "payload=leaflets",
    "payload={}",
    '{"type": "block_actions", "actions": []}',
    'payload={"type":"view_submission"}',
    "&payload=x",
    "ssl_check=1",
    "ssl_check",
    "token=abc&command=/other&text=hijack",
    "command=/soc action done A-9",
    "type=url_verification challenge=abc",
    "event_callback block_actions view_submission url_verification",
    "a & b = c; 1+1=2 %26 %3D %7B",
    "application/json application/x-www-form-urlencoded",
    "{",
    "retry_num=1 x-slack-signature=v0=abc",
]


def last_note(engine) -> str:
    """The note of the newest history entry."""
    with Session(engine) as session:
        change = session.exec(select(ActionChange).order_by(ActionChange.id.desc())).first()
        return change.note


@pytest.mark.parametrize("text", TYPED)
def test_a_note_with_the_parsers_words_is_saved_as_typed(slack, board_engine, text):
    answer = slack.command(COLP, f"action note A-9 {text}")
    assert answer.status == 200, answer.body
    assert answer.text.startswith("Updated A-9"), answer.text
    assert last_note(board_engine) == text


@pytest.mark.parametrize("text", ["payload of leaflets", 'payload={"type":"x"}', "ssl_check=1"])
def test_the_same_words_reach_the_command_in_socket_mode(board_engine, settings, stub, text):
    app = create_app(slack_settings(settings, stub), engine=board_engine, clock=lambda: NOW)
    command = {"token": "x", "team_id": TEAM, "user_id": COLP, "command": SOC_COMMAND,
               "text": f"action note A-9 {text}", "channel_id": "C0BOARD",
               "response_url": stub.response_url(), "trigger_id": "1.2.3"}  # fmt: skip
    request = SocketModeRequest(type="slash_commands", envelope_id="e1", payload=command)
    response = run_bolt_app(app, request)
    assert response.status == 200
    assert response.body and "Updated A-9" in response.body
    assert last_note(board_engine) == text
