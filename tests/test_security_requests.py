"""Request authenticity: only signed, fresh, first-time requests run; the rest get 401."""

import json
import time
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, func, select

from bot.slack.listeners.retries import PURGE_EVERY, SIGNATURE_WINDOW, SeenRequests
from models.tables import ActionChange, SeenRequest
from tests.conftest import COLP
from tests.slack_fixtures import find_button
from tests.slack_stub import sign

pytest_plugins = ("tests.slack_fixtures",)

FORM = "application/x-www-form-urlencoded"


def history_count(engine) -> int:
    """How many history entries there are."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ActionChange)).one()


def test_a_replayed_command_is_refused_and_runs_once(slack, board_engine):
    body = slack.command_body(COLP, "action note A-1 sent once", slack.stub.response_url())
    headers = sign(body)
    before = history_count(board_engine)
    first = slack.post(body, FORM, headers)
    assert first.status == 200 and first.json["text"].startswith("Updated A-1")
    replayed = slack.post(body, FORM, headers)
    assert (replayed.status, replayed.body) == (401, "")
    assert history_count(board_engine) == before + 1


def test_a_replayed_read_is_refused_too(slack):
    """Replaying a read would hand its answer (perhaps a confidential action) to the replayer."""
    body = slack.command_body(COLP, "action status", slack.stub.response_url())
    headers = sign(body)
    assert slack.post(body, FORM, headers).status == 200
    assert slack.post(body, FORM, headers).status == 401


def test_a_replayed_click_is_refused(slack, board_engine):
    listing = slack.command(COLP, "action status")
    select_ = find_button(listing.json["blocks"], "soc_op_rag", "A-1")
    option = next(o for o in select_["options"] if o["value"].endswith("|red"))
    payload = {
        "type": "block_actions", "team": {"id": "T0BOARD"}, "user": {"id": COLP},
        "api_app_id": "A0SOCBOT", "token": "x", "trigger_id": "1.2.3",
        "container": {"type": "message", "is_ephemeral": True},
        "response_url": slack.stub.response_url(),
        "actions": [{"type": "static_select", "action_id": select_["action_id"],
                     "block_id": select_["block_id"], "selected_option": option,
                     "action_ts": "1.9"}],
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    headers = sign(body)
    before = history_count(board_engine)
    assert slack.post(body, FORM, headers).status == 200
    assert slack.post(body, FORM, headers).status == 401
    assert history_count(board_engine) == before + 1


def test_the_same_command_typed_twice_is_two_requests(slack, board_engine):
    """Slack signs each request afresh (a new response_url and timestamp): both are served."""
    before = history_count(board_engine)
    assert slack.command(COLP, "action note A-1 again").status == 200
    assert slack.command(COLP, "action note A-1 again").status == 200
    assert history_count(board_engine) == before + 2


def test_an_event_retry_is_acknowledged_not_refused(slack):
    home = {"type": "app_home_opened", "user": COLP, "tab": "home", "event_ts": "1.1"}
    assert slack.event(home, event_id="Ev0ONCE").status == 200
    assert slack.event(home, event_id="Ev0ONCE", retry_num=1).status == 200
    assert len(slack.stub.calls_to("views.publish")) == 1


@pytest.mark.parametrize("offset", [-301, 301, -100_000])
def test_a_timestamp_outside_five_minutes_either_way_is_refused(slack, board_engine, offset):
    body = slack.command_body(COLP, "action note A-1 late", slack.stub.response_url())
    before = history_count(board_engine)
    answer = slack.post(body, FORM, sign(body, timestamp=int(time.time()) + offset))
    assert answer.status == 401
    assert history_count(board_engine) == before
    assert [c.method for c in slack.stub.calls] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": "not-a-number"},
        {"X-Slack-Signature": "v1=abc"},
    ],
    ids=["wrong-digest", "empty-signature", "bad-timestamp", "other-version"],
)
def test_malformed_signatures_are_refused(slack, board_engine, headers):
    body = slack.command_body(COLP, "action note A-1 forged", slack.stub.response_url())
    before = history_count(board_engine)
    answer = slack.post(body, FORM, {**sign(body), **headers})
    assert answer.status == 401
    assert history_count(board_engine) == before


def test_forged_clicks_and_form_submissions_are_refused(slack, board_engine):
    before = history_count(board_engine)
    for payload in (
        {"type": "block_actions", "user": {"id": COLP}, "actions": [
            {"action_id": "soc_op_rag", "block_id": "b", "selected_option": {"value": "red"}}]},
        {"type": "view_submission", "user": {"id": COLP}, "view": {"callback_id": "x"}},
    ):  # fmt: skip
        body = urlencode({"payload": json.dumps(payload)})
        answer = slack.post(body, FORM, sign(body, secret="stolen-from-another-app"))
        assert answer.status == 401
    assert history_count(board_engine) == before


def test_seen_signatures_are_forgotten_once_they_could_no_longer_verify(engine):
    now = [1_000_000.0]
    seen = SeenRequests(engine, clock=lambda: now[0])
    assert seen.signature_first_time("v0=a", "1000000")
    assert not seen.signature_first_time("v0=a", "1000000")
    now[0] += SIGNATURE_WINDOW + PURGE_EVERY  # stale now: Slack's check refuses it anyway
    assert seen.signature_first_time("v0=b", str(int(now[0])))
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SeenRequest)).one() == 1
