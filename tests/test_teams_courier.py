"""The Teams courier: cards to people's 1:1 chats through the connector, retried, never lost."""

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.config import load_settings
from bot.senders.courier import Address
from bot.senders.reminders import ReminderSender
from bot.teams.config import TenantApp
from bot.teams.courier import TeamsCourier, teams_couriers
from bot.worker import board_couriers
from handlers.replies import Item, Reply
from models.ledger import FAILED, RETRY, SENT
from models.people import find_member_by_identity
from models.tables import ReminderDelivery
from tests.conftest import COLP, LONDON, SECRETARIAT
from tests.fake_courier import FakeCourier
from tests.teams_stub import (
    APP_ID,
    OUTGOING_TOKEN,
    TENANT,
    local_connection_manager,
    object_id,
    outgoing_token,
    teams_settings,
)

pytest_plugins = ("tests.teams_fixtures",)

FIVE_DAYS = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)  # the 5-day reminder of Tue 9 Feb 2027
REPLY = Reply(title="Board meeting on Tuesday", items=[Item("Engage SMEs", "A-1", "amber")])


class Waits:
    """A sleep that records how long it was asked to wait, and does not wait."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def _courier(connector, waits: Waits | None = None) -> TeamsCourier:
    config = teams_settings()
    return TeamsCourier(config, LONDON, connections=local_connection_manager(config),
                        service_url=connector.url, sleep=waits or Waits())  # fmt: skip


def _reference(connector, teams_id: str) -> str:
    conversation = {"id": f"a:personal-{teams_id}", "tenantId": TENANT}
    return json.dumps(
        {"serviceUrl": connector.url, "channelId": "msteams", "conversation": conversation}
    )


def test_a_reply_goes_as_a_card_to_the_stored_personal_chat(connector):
    teams_id = object_id(COLP)
    to = Address("teams", teams_id, TENANT, _reference(connector, teams_id))
    result = _courier(connector).send(to, REPLY, "key-1")
    assert result.status == SENT
    [sent] = connector.sent()
    assert sent.path == f"/v3/conversations/a:personal-{teams_id}/activities"
    assert sent.body["textFormat"] == "plain" and sent.text.startswith("Board meeting")
    assert sent.card["version"] == "1.5"
    assert json.loads(result.ref)["conversation"] == f"a:personal-{teams_id}"
    assert connector.created() == []


OTHER_TENANT = "bbbbbbbb-8888-7777-6666-555555555555"
OTHER_APP = "bbbbbbbb-2222-3333-4444-555555555555"


def test_each_tenant_is_written_to_through_its_own_app(connector):
    config = teams_settings(tenant_apps=(TenantApp("B", OTHER_APP, "b-secret", OTHER_TENANT),))
    courier = TeamsCourier(config, LONDON, connections=local_connection_manager(config),
                           service_url=connector.url, sleep=Waits())  # fmt: skip
    sent_b = courier.send(Address("teams", "person-b", OTHER_TENANT), REPLY, "key-b")
    sent_a = courier.send(Address("teams", "person-a", TENANT), REPLY, "key-a")
    assert sent_a.status == sent_b.status == SENT
    created = {c.body["tenantId"]: c for c in connector.created()}
    assert created[OTHER_TENANT].body["bot"] == {"id": f"28:{OTHER_APP}"}
    assert created[TENANT].body["bot"] == {"id": f"28:{APP_ID}"}
    tokens = {
        c.body.get("tenantId"): c.headers.get("Authorization", "") for c in connector.created()
    }
    assert tokens[OTHER_TENANT] == f"Bearer {outgoing_token(OTHER_APP)}"
    assert tokens[TENANT] == f"Bearer {OUTGOING_TOKEN}"
    # An update of tenant B's message goes through tenant B's app too.
    assert json.loads(sent_b.ref)["tenant"] == OTHER_TENANT
    assert courier.update(sent_b.ref, REPLY).status == SENT
    [updated] = [c for c in connector.calls if c.method == "PUT"]
    assert updated.headers.get("Authorization") == f"Bearer {outgoing_token(OTHER_APP)}"


def test_without_a_stored_chat_one_is_created_from_the_object_id(connector):
    to = Address("teams", object_id(COLP), TENANT)
    assert _courier(connector).send(to, REPLY, "key-1").status == SENT
    [created] = connector.created()
    assert created.body["bot"] == {"id": f"28:{APP_ID}"}
    assert created.body["members"] == [{"id": object_id(COLP)}]
    assert created.body["tenantId"] == TENANT
    [sent] = connector.sent()
    assert sent.path == f"/v3/conversations/a:personal-{object_id(COLP)}/activities"


def test_429_waits_for_retry_after_and_5xx_backs_off(connector):
    waits = Waits()
    connector.fail_next(429, retry_after=7)
    connector.fail_next(502)
    to = Address("teams", "x", TENANT, _reference(connector, "x"))
    assert _courier(connector, waits).send(to, REPLY, "k").status == SENT
    assert waits.asked[0] == 7.0 and len(waits.asked) == 2
    assert len(connector.sent()) == 3


def test_failures_are_sorted_into_retry_and_failed(connector):
    to = Address("teams", "x", TENANT, _reference(connector, "x"))
    connector.fail_next(500, times=10)
    assert _courier(connector).send(to, REPLY, "k").status == RETRY
    connector.failures.clear()
    connector.fail_next(403)  # not installed for the person, or they blocked the bot
    assert _courier(connector).send(to, REPLY, "k").status == FAILED
    # No chat and no tenant to open one with: nobody to send to.
    assert _courier(connector).send(Address("teams", "x"), REPLY, "k").status == FAILED


def test_update_replaces_the_sent_card(connector):
    courier = _courier(connector)
    to = Address("teams", "x", TENANT, _reference(connector, "x"))
    sent = courier.send(to, REPLY, "k")
    changed = Reply(title="Updated")
    assert courier.update(sent.ref, changed).status == SENT
    [put] = connector.sent("PUT")
    activity = json.loads(sent.ref)["activity"]
    assert put.path == f"/v3/conversations/a:personal-x/activities/{activity}"
    assert put.body["text"].startswith("Updated")
    assert courier.update("junk", changed).status == FAILED


def test_teams_cannot_find_sent_messages_so_the_sender_resends_visibly(connector):
    courier = _courier(connector)
    assert courier.can_find_sent is False
    assert courier.find_sent(Address("teams", "x"), "k", FIVE_DAYS).status == RETRY
    assert teams_couriers(teams_settings(client_secret=""), LONDON) == {}
    assert set(teams_couriers(teams_settings(), LONDON)) == {"teams"}


def test_a_member_on_teams_is_reminded_in_their_personal_chat(teams, connector, console):
    # The member writes to the bot once: their 1:1 conversation is stored.
    teams.post(teams.personal_message(object_id(COLP), "help"))
    engine = teams.bot.runtime.engine
    with Session(engine) as session:
        member = find_member_by_identity(session=session, board_id=1, channel="teams",
                                         external_id=object_id(COLP))  # fmt: skip
        member.channel = "teams"
        session.add(member)
        session.commit()
    assert not console.as_user(SECRETARIAT).ask('meeting schedule "second tuesday 10:00"').error
    before = len(connector.sent())
    slack = FakeCourier()
    couriers = {"slack": slack, "teams": _courier(connector)}
    report = ReminderSender(engine, couriers, LONDON).run_pass(FIVE_DAYS)
    assert report.sent == 5
    reminders = connector.sent()[before:]
    assert [c.path for c in reminders] == [
        f"/v3/conversations/a:personal-29:{object_id(COLP)}/activities"]  # fmt: skip
    assert COLP not in slack.received()
    # Written for Teams: the hints show how a command is typed there.
    body = json.dumps(reminders[0].body)
    assert "@soc action" in body and "/soc" not in body
    with Session(engine) as session:
        rows = session.exec(select(ReminderDelivery)).all()
    teams_rows = [r for r in rows if r.address.startswith("teams:")]
    assert [r.status for r in teams_rows] == [SENT]
    # A second pass sends nothing again.
    ReminderSender(engine, couriers, LONDON).run_pass(FIVE_DAYS)
    assert len(connector.sent()) == before + 1


def test_the_worker_reaches_teams_members_when_the_app_credentials_are_set(
    monkeypatch, settings, board_engine
):
    env = {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": "xoxb-test"}
    assert board_couriers(load_settings(env), board_engine).channels() == ["slack"]
    for name, value in (("TEAMS_CLIENT_ID", APP_ID), ("TEAMS_CLIENT_SECRET", "s3cret"),
                        ("TEAMS_TENANT_ID", TENANT)):  # fmt: skip
        monkeypatch.setenv(name, value)
    assert board_couriers(load_settings(env), board_engine).channels() == ["slack", "teams"]
    del env["SLACK_BOT_TOKEN"]
    assert board_couriers(load_settings(env), board_engine).channels() == ["teams"]
