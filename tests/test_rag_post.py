"""`rag post`: the public RAG summary posted to the Board's summary channels, on each chat.

Through the console (the handler), signed Slack requests against the Slack stand-in, and Teams
activities against the connector stand-in.
"""

import json

import pytest

from tests.conftest import CHAIR, COLP, DEPUTY, OBSERVER, SECRETARIAT, STRANGER
from tests.reply_fixtures import strings
from tests.slack_stub import CHANNEL
from tests.teams_stub import object_id, texts_of

pytest_plugins = ("tests.slack_fixtures", "tests.teams_fixtures")

MARKER = "ZQX-KESTREL-4410"
TEAMS_A, TEAMS_B = "19:summarya@thread.tacv2", "19:summaryb@thread.tacv2"


def set_summary_channels(console, channels: str) -> None:
    """The secretariat sets the Board's summary channels (typed as on the console: Slack ids)."""
    assert not console.as_user(SECRETARIAT).ask(f"board settings summary={channels}").error


@pytest.fixture
def confidential(console) -> str:
    """A red, overdue confidential action whose title carries MARKER (an exception if shown)."""
    reply = console.as_user(SECRETARIAT).ask(
        f'action add area=cyber lead=CoLP title="{MARKER} title" confidential=yes rag=red '
        "due=04/01/2027"
    )
    assert not reply.error, reply.title
    assert MARKER in strings(console.as_user(CHAIR).ask("rag private"))  # it would show
    return MARKER


# --- the handler, through the console ------------------------------------------------------------


def test_rag_post_is_the_public_summary_with_the_summary_channels(console, confidential):
    set_summary_channels(console, "C0SUMA,C0SUMB")
    reply = console.as_user(DEPUTY).ask("rag post")
    assert not reply.error
    assert reply.post_to == ("slack:C0SUMA", "slack:C0SUMB")
    assert reply.audience == "in_channel"
    assert MARKER not in strings(reply)
    assert "1 confidential action is not shown" in reply.text
    # The console itself posts nowhere, and says so.
    shown = console.as_user(DEPUTY).run_line("rag post")
    assert shown.startswith("[not posted from here: in Slack or Teams it goes to slack:C0SUMA")


@pytest.mark.parametrize("user", [COLP, OBSERVER])
def test_only_the_chair_deputy_and_secretariat_may_post_it(console, user):
    set_summary_channels(console, "C0SUMA")
    reply = console.as_user(user).ask("rag post")
    assert reply.error and reply.post_to == ()
    assert reply.title.startswith("Only the chair, deputy chair or secretariat can post")


def test_someone_not_on_the_board_is_refused(console):
    set_summary_channels(console, "C0SUMA")
    reply = console.as_user(STRANGER).ask("rag post")
    assert reply.error and reply.post_to == ()


def test_without_summary_channels_the_chair_is_told_who_sets_them(console):
    reply = console.as_user(CHAIR).ask("rag post")
    assert reply.error and reply.post_to == ()
    assert reply.title == "This Board has no summary channels to post the RAG summary to."
    assert "The secretariat sets them with `board settings summary=#channel`" in reply.hint


def test_rag_post_takes_nothing_more(console):
    set_summary_channels(console, "C0SUMA")
    reply = console.as_user(CHAIR).ask("rag post now")
    assert reply.error and reply.post_to == ()
    assert "`rag post` takes nothing more" in reply.title


def test_rag_and_rag_post_share_the_summary_but_never_the_channels(console):
    set_summary_channels(console, "C0SUMA")
    chair = console.as_user(CHAIR)
    posted = chair.ask("rag post")
    shown = chair.ask("rag")  # the same cached summary, without the channels
    assert shown.post_to == () and posted.post_to == ("slack:C0SUMA",)
    assert shown.sections == posted.sections and shown.text == posted.text
    assert chair.ask("rag post").post_to == ("slack:C0SUMA",)
    assert console.as_user(COLP).ask("rag").post_to == ()


# --- Slack: signed requests, the Slack stand-in ---------------------------------------------------


def test_slack_posts_to_each_summary_channel_and_tells_the_chair_where(
    slack, stub, console, confidential
):
    set_summary_channels(console, "C0SUMA,C0SUMB")
    answer = slack.command(CHAIR, "rag post")
    assert answer.status == 200
    assert answer.json["response_type"] == "ephemeral"
    assert answer.text == "Posted the RAG summary to <#C0SUMA>, <#C0SUMB>."
    for channel in ("C0SUMA", "C0SUMB"):
        [message] = stub.delivered(channel)
        assert message["text"].startswith("RAG summary")
        assert "By key crime area" in json.dumps(message["blocks"])
    assert stub.delivered(CHANNEL) == []  # not the channel it was typed in
    assert MARKER not in stub.everything_sent() and MARKER not in answer.body


def test_slack_refuses_a_member_and_posts_nothing(slack, stub, console):
    set_summary_channels(console, "C0SUMA")
    answer = slack.command(COLP, "rag post")
    assert answer.json["response_type"] == "ephemeral"
    assert "Only the chair, deputy chair or secretariat" in answer.text
    assert stub.calls_to("chat.postMessage") == []


def test_slack_without_summary_channels_says_how_to_set_them(slack, stub):
    answer = slack.command(SECRETARIAT, "rag post")
    assert "no summary channels" in answer.text
    assert "/soc board settings summary=#channel" in answer.text
    assert stub.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        ("not_in_channel", "Invite the app: `/invite @soc-bot` in <#C0SUMA>"),
        ("channel_not_found", "Invite the app: `/invite @soc-bot` in <#C0SUMA>"),
        ("is_archived", "the channel is archived"),
    ],
)
def test_slack_names_a_channel_that_refused_and_still_posts_to_the_others(
    slack, stub, console, error, fix
):
    set_summary_channels(console, "C0SUMA,C0SUMB")
    stub.refuse("C0SUMA", error)
    answer = slack.command(CHAIR, "rag post")
    assert answer.status == 200
    lines = answer.text.split("\n")
    assert lines[0] == "Posted the RAG summary to <#C0SUMB>."
    assert lines[1].startswith("Not posted to <#C0SUMA>") and fix in lines[1]
    assert "Traceback" not in answer.body
    assert stub.delivered("C0SUMA") == [] and len(stub.delivered("C0SUMB")) == 1


def test_slack_lists_teams_channels_as_not_on_slack(slack, stub, console):
    set_summary_channels(console, f"C0SUMA,teams:{TEAMS_A}")
    answer = slack.command(CHAIR, "rag post")
    assert answer.text.split("\n") == [
        "Posted the RAG summary to <#C0SUMA>.",
        f"Not on Slack, so not posted from here: teams:{TEAMS_A}.",
    ]
    assert [c.data["channel"] for c in stub.calls_to("chat.postMessage")] == ["C0SUMA"]


def test_slack_says_when_no_channel_took_it(slack, stub, console):
    set_summary_channels(console, "C0SUMA")
    stub.refuse("C0SUMA", "not_in_channel")
    answer = slack.command(CHAIR, "rag post")
    assert answer.text.startswith("The RAG summary was not posted to any channel.\n")


# --- Teams: activities, the connector stand-in ----------------------------------------------------


def channel_posts(connector) -> list:
    """The new channel conversations the bot started (not personal chats)."""
    return [c for c in connector.created() if c.body.get("isGroup")]


def test_teams_starts_a_conversation_in_each_teams_channel(teams, connector, console, confidential):
    set_summary_channels(console, f"teams:{TEAMS_A},teams:{TEAMS_B},C0SUMA")
    teams.post(teams.personal_message(object_id(CHAIR), "rag post"))
    posts = channel_posts(connector)
    assert [p.body["channelData"]["channel"]["id"] for p in posts] == [TEAMS_A, TEAMS_B]
    for post in posts:
        activity = post.body["activity"]
        assert activity["text"].startswith("RAG summary")
        card = activity["attachments"][0]["content"]
        assert "By key crime area" in texts_of(card)
    assert MARKER not in json.dumps([p.body for p in connector.calls])
    [answer] = connector.sent()
    assert answer.text.startswith(f"Posted the RAG summary to {TEAMS_A}, {TEAMS_B}.")
    assert "Not on Teams, so not posted from here: slack:C0SUMA." in answer.text


def test_teams_asked_in_a_channel_answers_privately(teams, connector, console):
    set_summary_channels(console, f"teams:{TEAMS_A}")
    teams.post(teams.channel_message(object_id(SECRETARIAT), "rag post"))
    [post] = channel_posts(connector)
    assert post.body["channelData"]["channel"]["id"] == TEAMS_A
    private, note = connector.sent()
    assert private.path.startswith("/v3/conversations/a:personal-")
    assert private.text.startswith(f"Posted the RAG summary to {TEAMS_A}.")
    assert note.text == "I've sent you the answer in our personal chat."


def test_teams_names_a_channel_that_refused_and_still_posts_to_the_other(teams, connector, console):
    set_summary_channels(console, f"teams:{TEAMS_A},teams:{TEAMS_B}")
    connector.fail_next(403)  # the first channel's team does not have the app
    teams.post(teams.personal_message(object_id(CHAIR), "rag post"))
    assert [p.body["channelData"]["channel"]["id"] for p in channel_posts(connector)] == [
        TEAMS_A,
        TEAMS_B,
    ]
    [answer] = connector.sent()
    assert answer.text.startswith(f"Posted the RAG summary to {TEAMS_B}.")
    assert f"Not posted to {TEAMS_A}: Teams refused it (HTTP 403)" in answer.text


def test_teams_refuses_a_member_and_posts_nothing(teams, connector, console):
    set_summary_channels(console, f"teams:{TEAMS_A}")
    teams.post(teams.personal_message(object_id(COLP), "rag post"))
    assert channel_posts(connector) == []
    [answer] = connector.sent()
    assert "Only the chair, deputy chair or secretariat" in answer.text
