"""Teams' rate limits per tenant: a tenant that asks to be left alone delays only its own messages.

Two Boards in two tenants (sharing the deployment's app) are reminded by the worker's tick
through the Bot Connector stand-in; tenant A's connector answers 429.
"""

import asyncio
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlmodel import Session, select
from yarl import URL

from bot.couriers import BoardCouriers
from bot.senders.courier import RATE_LIMITED, retry_after
from bot.senders.exactly_once import RESENT_LINE
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.teams.connector import ConnectorError, with_retries
from bot.worker import tick_boards
from handlers.meetings.rules import parse_meeting_rule
from models.boards import get_board
from models.ledger import RETRY, SENT
from models.people import attach_identity, find_member_by_identity, find_partner
from models.schedule import save_schedule
from models.tables import ReminderDelivery, Role
from tests.conftest import IMPORTED_AT, NOW, seed_members
from tests.teams_stub import TENANT, local_connection_manager, object_id, teams_settings
from tests.worker_fixtures import board_statuses

pytest_plugins = ("tests.teams_fixtures",)

TENANT_A, TENANT_B = TENANT, "bbbbbbbb-8888-7777-6666-555555555555"
ALPHA, BETA = "alpha", "beta"
# Tue 2 Feb 2027 09:00 in London: the 5-day reminder of both Boards' Tue 9 Feb meeting.
FIVE_DAYS = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)
ROLES = (
    ("CHAIR", Role.CHAIR, None),
    ("SECRET", Role.SECRETARIAT, "Community Safety Team"),
    ("COLP", Role.MEMBER, "CoLP"),
    ("CST", Role.MEMBER, "Community Safety Team"),
    ("TRADING", Role.MEMBER, "Trading Standards"),
    ("COOPT", Role.CO_OPTEE, "NCA"),
)
CONTACT_ROLES = ("SECRET", "COLP", "CST", "TRADING", "COOPT")  # lead partners' contacts


def people(slug: str) -> set[str]:
    """The Entra object ids of a Board's lead-partner contacts (the people it reminds)."""
    return {object_id(f"U{slug.upper()}{role}") for role in CONTACT_ROLES}


class Clock:
    """The worker's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


class Waits:
    """A sleep that records how long it was asked to wait, and does not wait."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def add_board(engine, settings, slug: str, tenant: str) -> None:
    """A Board with the Annex B register, its people on Teams in `tenant` (no chat stored yet:
    the courier opens one) and a second-Tuesday rule."""
    import_file(engine, replace(settings, board_slug=slug), ANNEX_B, now=IMPORTED_AT,
                partners=PARTNERS)  # fmt: skip
    prefix = slug.upper()
    with Session(engine) as session:
        board = get_board(session=session, slug=slug)

        def partner(name: str | None) -> int | None:
            return find_partner(session=session, board_id=board.id, text=name).id if name else None

        seed_members(session, board, [(f"U{prefix}{role}", f"{role.title()} {prefix}", kind,
                                       partner(p)) for role, kind, p in ROLES])  # fmt: skip
        session.commit()
        for role, _, _ in ROLES:
            member = find_member_by_identity(session=session, board_id=board.id, channel="slack",
                                             external_id=f"U{prefix}{role}")  # fmt: skip
            attach_identity(session=session, member=member, channel="teams", now=NOW,
                            external_id=object_id(f"U{prefix}{role}"), tenant=tenant)  # fmt: skip
        rule = parse_meeting_rule("second tuesday 10:00", today=NOW.date())
        save_schedule(session=session, board_id=board.id, now=NOW, rule=rule.rule,
                      meeting_time="10:00", anchor=NOW.date())  # fmt: skip
        session.commit()


@pytest.fixture
def two_tenants(engine, settings):
    """Board `alpha` in tenant A and `beta` in tenant B, both on the deployment's Teams app."""
    add_board(engine, settings, ALPHA, TENANT_A)
    add_board(engine, settings, BETA, TENANT_B)
    return engine


def worker_couriers(settings, engine, connector, clock: Clock, waits: Waits) -> BoardCouriers:
    """The worker's couriers (Teams only), talking to the stand-in, on the test's clock."""
    config = teams_settings()
    options = {"connections": local_connection_manager(config), "service_url": connector.url,
               "sleep": waits}  # fmt: skip
    return BoardCouriers(settings, engine, teams=config, clock=clock, teams_options=options)


def throttle(connector, tenant: str, chats: set[str], seconds: int) -> dict:
    """Answer 429 with Retry-After `seconds` to every call for `tenant` (opening a chat in it,
    or writing to one of `chats`) while `state["on"]`; `state["refused"]` counts them."""
    original = connector._answer
    state = {"on": True, "refused": 0}

    def answer(request, method):
        raw = request.rfile.read(int(request.headers.get("content-length") or 0))
        request.rfile = io.BytesIO(raw)  # the stand-in reads the body again
        body = json.loads(raw or b"{}")
        ours = body.get("tenantId") == tenant or any(chat in request.path for chat in chats)
        if state["on"] and ours:
            state["refused"] += 1
            return connector._send(request, 429, {"error": {"code": "stub"}},
                                   {"Retry-After": str(seconds)})  # fmt: skip
        return original(request, method)

    connector._answer = answer
    return state


def delivered(connector) -> dict[str, int]:
    """How many messages each person's 1:1 chat received, by object id."""
    found: dict[str, int] = {}
    for call in connector.sent():
        person = call.path.split("/")[3].removeprefix("a:personal-")
        found[person] = found.get(person, 0) + 1
    return found


def test_a_rate_limited_tenant_delays_only_its_own_messages(two_tenants, settings, connector):
    engine, clock, waits = two_tenants, Clock(), Waits()
    couriers = worker_couriers(settings, engine, connector, clock, waits)
    limited = throttle(connector, TENANT_A, people(ALPHA), seconds=120)

    first = tick_boards(engine, couriers, FIVE_DAYS)
    assert first.board(BETA).reminders.sent == 5
    assert delivered(connector) == dict.fromkeys(people(BETA), 1)
    assert first.board(ALPHA).reminders.retry == 5
    assert board_statuses(engine, ALPHA) == {RETRY: 5}
    with Session(engine) as session:
        errors = sorted(session.exec(select(ReminderDelivery.error).where(
            ReminderDelivery.status == RETRY)))  # fmt: skip
    # One call refused; the other four not made while tenant A is paused.
    assert errors == [RATE_LIMITED] * 4 + [f"{RATE_LIMITED}: HTTP 429, retry after 120 s"]
    # Asked once: 120 s is not waited out on the spot, and A is not asked again meanwhile.
    assert limited["refused"] == 1
    assert waits.asked == []

    limited["on"] = False
    tick_boards(engine, couriers, FIVE_DAYS + timedelta(minutes=1))
    assert board_statuses(engine, ALPHA) == {RETRY: 5}  # still within its Retry-After: left alone
    assert not people(ALPHA) & set(delivered(connector))

    clock.seconds += 121
    later = tick_boards(engine, couriers, FIVE_DAYS + timedelta(minutes=2))
    assert later.board(ALPHA).reminders.sent == 5
    assert later.board(BETA).reminders.sent == 0
    assert board_statuses(engine, ALPHA) == {SENT: 5} and board_statuses(engine, BETA) == {SENT: 5}
    assert delivered(connector) == dict.fromkeys(people(ALPHA) | people(BETA), 1)
    opened = {c.body["tenantId"] for c in connector.created() if c.body["members"][0]["id"]
              in people(ALPHA)}  # fmt: skip
    assert opened == {TENANT_A}
    # Refused or never tried, so certainly not sent before: no "you may have this twice".
    assert not any(RESENT_LINE in json.dumps(call.body) for call in connector.sent())


def test_a_short_retry_after_is_waited_out_in_the_same_tick(two_tenants, settings, connector):
    engine, waits = two_tenants, Waits()
    couriers = worker_couriers(settings, engine, connector, Clock(), waits)
    connector.fail_next(429, retry_after=1)

    report = tick_boards(engine, couriers, FIVE_DAYS)
    assert report.board(ALPHA).reminders.sent == report.board(BETA).reminders.sent == 5
    assert waits.asked == [1.0]  # waited (through the injected sleep), not put off
    assert board_statuses(engine, ALPHA) == board_statuses(engine, BETA) == {SENT: 5}
    assert delivered(connector) == dict.fromkeys(people(ALPHA) | people(BETA), 1)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"retry-after": ["1.5"]}, 1.5),  # slack_sdk's header lists
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"Retry-After": "inf"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_reads_the_seconds_asked_for(headers, seconds):
    assert retry_after(headers) == seconds
    assert retry_after(headers, default=1) == (1 if seconds is None else seconds)


@pytest.mark.parametrize(
    ("first", "maybe_delivered"),
    [(429, False), (503, True), (TimeoutError, True)],
)
def test_a_429_after_a_lost_try_is_not_taken_for_certainly_unsent(first, maybe_delivered):
    request = aiohttp.RequestInfo(URL("http://connector.test/v3/conversations"), "POST", {})

    def refusal(status: int, headers: dict) -> aiohttp.ClientResponseError:
        return aiohttp.ClientResponseError(request, (), status=status, headers=headers)

    answers = [refusal(429, {"Retry-After": "1"}) if first == 429 else
               first() if first is TimeoutError else refusal(first, {}),
               refusal(429, {"Retry-After": "120"})]  # fmt: skip

    async def call():
        raise answers.pop(0)

    async def no_wait(_seconds: float) -> None:
        return None

    with pytest.raises(ConnectorError) as raised:
        asyncio.run(with_retries(call, sleep=no_wait))
    assert raised.value.status == 429 and raised.value.retry_after == 120
    assert raised.value.maybe_delivered is maybe_delivered
