"""Only signed, fresh requests from Slack are served; stored text cannot ping or fake links."""

import time

from bot.slack.render.blocks import fallback_text
from tests.conftest import CHAIR, COLP, LONDON, SECRETARIAT
from tests.slack_stub import SIGNING_SECRET, sign

pytest_plugins = ("tests.slack_fixtures",)

HOSTILE = "<!channel> <https://evil|click> & co"
ESCAPED = "&lt;!channel&gt; &lt;https://evil|click&gt; &amp; co"


def _history(console) -> str:
    return fallback_text(console.as_user(CHAIR).ask("action history A-1"), LONDON)


def test_forged_signature_is_refused_and_nothing_changes(slack, console):
    before = _history(console)
    body = slack.command_body(COLP, "action update A-1 rag=red", slack.stub.response_url())
    forged = sign(body, secret="not-the-signing-secret")
    answer = slack.post(body, "application/x-www-form-urlencoded", forged)
    assert answer.status == 401
    assert _history(console) == before
    assert slack.stub.calls == []


def test_stale_timestamp_is_refused_and_nothing_changes(slack, console):
    before = _history(console)
    body = slack.command_body(COLP, "action update A-1 rag=red", slack.stub.response_url())
    six_minutes_ago = sign(body, timestamp=int(time.time()) - 360, secret=SIGNING_SECRET)
    answer = slack.post(body, "application/x-www-form-urlencoded", six_minutes_ago)
    assert answer.status == 401
    assert _history(console) == before
    assert slack.stub.calls == []


def test_unsigned_and_tampered_requests_are_refused(slack):
    body = slack.command_body(COLP, "action status", slack.stub.response_url())
    headers = sign(body)
    unsigned = slack.client.post("/slack/events", data=body,
                                 content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert unsigned.status_code == 401
    tampered = body.replace("action+status", "action+status+all")
    assert slack.post(tampered, "application/x-www-form-urlencoded", headers).status == 401


def test_hostile_title_comes_out_escaped_in_blocks_and_text(slack):
    added = slack.command(SECRETARIAT, f'action add area=cyber lead=CoLP title="{HOSTILE}" rag=red')
    assert added.text.startswith("Added A-"), added.text
    for answer in (added, slack.command(COLP, "action status"), slack.command(CHAIR, "rag")):
        assert "<!channel>" not in answer.body and "<https://evil" not in answer.body
        assert ESCAPED in answer.text
        assert ESCAPED in answer.everything.split('"blocks"', 1)[1]


def test_hostile_text_in_a_note_is_escaped_in_history(slack):
    slack.command(COLP, f"action note A-1 {HOSTILE}")
    answer = slack.command(COLP, "action history A-1")
    assert "<!channel>" not in answer.body
    assert ESCAPED in answer.text
