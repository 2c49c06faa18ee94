"""One Board, two tools: a partner on Slack and a partner on Teams, reminded and updating."""

from datetime import UTC, datetime

from sqlmodel import Session

from bot.senders.reminders import ReminderSender
from bot.teams import ids
from bot.teams.courier import TeamsCourier
from models.people import find_member_by_identity
from tests.conftest import CHAIR, COLP, LONDON, SECRETARIAT, TRADING
from tests.fake_courier import FakeCourier
from tests.teams_stub import (
    CHANNEL_ID,
    click,
    control,
    local_connection_manager,
    object_id,
    teams_settings,
)

pytest_plugins = ("tests.teams_fixtures", "tests.slack_fixtures")

FIVE_DAYS = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)  # the 5-day reminder of Tue 9 Feb 2027


def _prefer_teams(engine, slack_id: str) -> None:
    with Session(engine) as session:
        member = find_member_by_identity(session=session, board_id=1, channel="teams",
                                         external_id=object_id(slack_id))  # fmt: skip
        member.channel = "teams"
        session.add(member)
        session.commit()


def test_a_slack_partner_and_a_teams_partner_share_one_board(slack, teams, connector, console):
    engine = teams.bot.runtime.engine
    trading = object_id(TRADING)
    teams.post(teams.personal_message(trading, "help"))  # Trading Standards uses Teams
    _prefer_teams(engine, TRADING)
    assert not console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"').error

    # Both are reminded before the meeting, exactly once, each in their own tool.
    config = teams_settings()
    teams_courier = TeamsCourier(config, LONDON, connections=local_connection_manager(config),
                                 service_url=connector.url)  # fmt: skip
    slack_courier = FakeCourier()
    couriers = {"slack": slack_courier, "teams": teams_courier}
    before = len(connector.sent())
    for minutes in (0, 5):
        ReminderSender(engine, couriers, LONDON).run_pass(FIVE_DAYS.replace(minute=minutes))
    received = slack_courier.received()
    assert received[COLP] == 1 and TRADING not in received
    reminders = connector.sent()[before:]
    assert [c.path for c in reminders] == [
        f"/v3/conversations/a:personal-29:{trading}/activities"]  # fmt: skip

    # Each updates an action from their own tool.
    assert not slack.command(COLP, "action update A-1 rag=green").text.startswith("⚠")
    teams.post(teams.personal_message(trading, "action status"))
    card = connector.sent()[-1].card
    status, _ = click(teams, trading, control(card, ids.VERB_RAG, "A-2"), "green")
    assert status == 200

    # The chair's summary shows both changes, in Slack and in the Teams channel.
    assert "2 Green" in slack.command(CHAIR, "rag").text
    teams.post(teams.channel_message(object_id(CHAIR), "rag"))
    posted = connector.sent()[-1]
    assert posted.path.startswith(f"/v3/conversations/{CHANNEL_ID}")
    assert "2 Green" in posted.text
