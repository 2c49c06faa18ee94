"""Who sees what: the chair's summary in the channel, everyone else's ephemeral, nothing closed."""

import pytest

from bot.slack.server import create_wsgi_app
from tests.conftest import CHAIR, COLP, DEPUTY, NOW, OBSERVER, SECRETARIAT, TRADING
from tests.slack_stub import SlackHarness, slack_settings

pytest_plugins = ("tests.slack_fixtures",)

MARKER = "MARKER-XYZ"
CONFIDENTIAL = (
    f'action add area=cyber lead=CoLP title="{MARKER} secret op" confidential=yes rag=red'
)


@pytest.fixture
def closed_item(console) -> str:
    """A confidential, red action with marker text, added as the secretariat."""
    reply = console.as_user(SECRETARIAT).ask(CONFIDENTIAL)
    assert not reply.error, reply.title
    return reply.items[0].ref


@pytest.mark.parametrize("user", [CHAIR, DEPUTY, SECRETARIAT])
def test_chair_deputy_and_secretariat_post_rag_in_the_channel(slack, user):
    answer = slack.command(user, "rag")
    assert answer.json["response_type"] == "in_channel"
    assert answer.text.startswith("RAG summary")
    assert "🔵 Blue = complete" in answer.everything


def test_member_gets_rag_ephemerally_with_a_note(slack):
    answer = slack.command(COLP, "rag")
    assert answer.json["response_type"] == "ephemeral"
    assert "The chair, deputy or secretariat can post it." in answer.text


def test_chair_can_ask_for_rag_privately(slack):
    assert slack.command(CHAIR, "rag private").json["response_type"] == "ephemeral"


def test_confidential_action_never_reaches_the_channel(slack, closed_item):
    answer = slack.command(CHAIR, "rag")
    assert answer.json["response_type"] == "in_channel"
    assert MARKER not in answer.body
    assert "details available to authorised members" in answer.text
    assert MARKER not in slack.stub.everything_sent()


def test_confidential_action_is_shown_to_its_lead_partner_only_privately(slack, closed_item):
    answer = slack.command(COLP, f"action status {closed_item}")
    assert answer.json["response_type"] == "ephemeral"
    assert MARKER in answer.everything


def test_observer_and_other_partners_never_see_a_confidential_action(slack, closed_item):
    for user in (OBSERVER, TRADING):
        for text in ("rag", "action status all", f"action status {closed_item}"):
            assert MARKER not in slack.command(user, text).everything, (user, text)


def test_slow_channel_summary_acks_then_posts_through_response_url(
    board_engine, settings, stub, closed_item
):
    # With no time budget every command takes the slow path: ack now, post when ready.
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine,
                              clock=lambda: NOW, ack_budget=0)  # fmt: skip
    answer = SlackHarness(web_app, stub).command(CHAIR, "rag")
    assert answer.json == {"text": "Working on it… the answer will appear here in a moment.",
                           "response_type": "ephemeral"}  # fmt: skip
    (posted,) = stub.wait_for("response")
    assert posted.path == answer.response_url.removeprefix(stub.base)
    assert posted.data["response_type"] == "in_channel"
    assert posted.data["text"].startswith("RAG summary")
    assert MARKER not in stub.everything_sent()
