"""One worker for every Board: each in its own zone, through its own workspace's token, fairly."""

import threading
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import event, func, insert
from sqlmodel import Session, select

from bot.cli.main import main
from bot.couriers import BoardCouriers
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.server import create_wsgi_app
from bot.teams.config import load_teams_settings
from bot.worker import WorkerOptions, tick_boards
from handlers.meetings.rules import parse_meeting_rule
from models.boards import change_board_settings, get_board, get_or_create_board, list_areas
from models.db import make_engine
from models.ledger import RETRY, SENT
from models.migrate import upgrade
from models.people import find_partner
from models.schedule import save_schedule
from models.tables import Action, ActionLead, Board, Meeting, Role
from tests.conftest import IMPORTED_AT, NOW, PG_URL, fresh_postgres_database, seed_members
from tests.model_fixtures import db_url  # noqa: F401  (fixture)
from tests.slack_stub import BOT_TOKEN, SlackHarness, install_settings, slack_settings
from tests.worker_fixtures import FAST, board_statuses, dms, slow_slack

pytest_plugins = ("tests.slack_fixtures",)

ALPHA, BETA, GAMMA = "T0ALPHA", "T0BETA", "T0GAMMA"
LONDON, NEW_YORK = "Europe/London", "America/New_York"
# The next meeting is Tue 9 Feb 2027 10:00, Board time; 5 working days before is Tue 2 Feb,
# reminded at 09:00 Board time: 09:00 UTC in London, 14:00 UTC in New York.
LONDON_NINE = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)
NEW_YORK_NINE = datetime(2027, 2, 2, 14, 0, tzinfo=UTC)
ROLES = (
    ("CHAIR", "Chair", Role.CHAIR, None),
    ("SECRET", "Secretary", Role.SECRETARIAT, "Community Safety Team"),
    ("COLP", "Police contact", Role.MEMBER, "CoLP"),
    ("CST", "Safety contact", Role.MEMBER, "Community Safety Team"),
    ("TRADING", "Trading contact", Role.MEMBER, "Trading Standards"),
    ("COOPT", "Agency contact", Role.CO_OPTEE, "NCA"),
)
CONTACT_ROLES = ("SECRET", "COLP", "CST", "TRADING", "COOPT")


def contacts(team: str) -> set[str]:
    """The Slack ids of a Board's lead-partner contacts (each workspace has its own people)."""
    return {f"U{team[2:]}{role}" for role in CONTACT_ROLES}


def token_of(team: str) -> str:
    """The bot token the stand-in grants `team` when it installs the app."""
    return f"xoxb-{team.lower()}-never-real"


@dataclass
class Deployment:
    """A database hosting Boards of several workspaces, its install settings and web app."""

    engine: object
    settings: object
    web_app: object
    stub: object

    def install(self, team: str, name: str, zone: str, region: str = "GB-ENG") -> str:
        """Install the app in `team` through Slack's OAuth flow (as a browser), then give its
        Board the Annex B register, its people and a second-Tuesday rule; the Board's slug."""
        browser = self.web_app.test_client()
        started = browser.get("/slack/install")
        state = parse_qs(urlparse(started.headers["Location"]).query)["state"][0]
        self.stub.grant(f"code-{team}", team, name, f"U{team[2:]}ADMIN")
        redirect = browser.get(f"/slack/oauth_redirect?code=code-{team}&state={state}")
        assert redirect.status_code == 200
        slug = f"slack-{team.lower()}"
        import_file(self.engine, replace(self.settings, board_slug=slug), ANNEX_B,
                    now=IMPORTED_AT, partners=PARTNERS)  # fmt: skip
        with Session(self.engine) as session:
            board = get_board(session=session, slug=slug)
            change_board_settings(session=session, board=board, timezone=zone,
                                  holiday_region=region)  # fmt: skip
            seed_board(session, board, team[2:])
            session.commit()
        return slug

    def couriers(self, clock=None) -> BoardCouriers:
        """The worker's couriers, as a worker process of its own would make them."""
        options = {"clock": clock} if clock else {}
        return BoardCouriers(self.settings, self.engine, teams=load_teams_settings({}),
                             retry_interval=FAST, **options)  # fmt: skip


def seed_board(session: Session, board: Board, prefix: str) -> None:
    """The Board's people (ids prefixed per workspace) and its meeting rule (no meetings yet:
    the worker's top-up makes them)."""

    def partner(name: str | None) -> int | None:
        return find_partner(session=session, board_id=board.id, text=name).id if name else None

    seed_members(session, board, [(f"U{prefix}{role}", f"{name} {prefix}", kind, partner(p))
                                  for role, name, kind, p in ROLES])  # fmt: skip
    rule = parse_meeting_rule("second tuesday 10:00", today=NOW.date())
    save_schedule(session=session, board_id=board.id, now=NOW, rule=rule.rule,
                  meeting_time="10:00", anchor=NOW.date())  # fmt: skip


@pytest.fixture
def hosting(db_url, settings, stub):  # noqa: F811
    """Alpha's Board in London, Beta's in New York, and Gamma's, uninstalled (inactive)."""
    hosted = replace(install_settings(settings, stub), database_url=db_url)
    engine = make_engine(db_url)
    upgrade(engine)
    deployment = Deployment(engine, hosted, create_wsgi_app(hosted, engine=engine,
                                                            clock=lambda: NOW), stub)  # fmt: skip
    deployment.install(ALPHA, "Alpha Partnership", LONDON)
    deployment.install(BETA, "Beta Partnership", NEW_YORK, "US-NY")
    deployment.install(GAMMA, "Gamma Partnership", LONDON)
    gamma = SlackHarness(deployment.web_app, stub, GAMMA)
    assert gamma.event({"type": "app_uninstalled"}).status == 200
    stub.calls.clear()
    yield deployment
    engine.dispose()


def sent_with(stub) -> dict[str, set[str]]:
    """The tokens each person's direct messages were posted with."""
    found: dict[str, set[str]] = {}
    for call in stub.calls_to("chat.postMessage"):
        user = call.data.get("channel") or ""
        found.setdefault(user, set()).add(call.headers.get("authorization", ""))
    return found


def received(stub) -> dict[str, int]:
    """How many direct messages each person has."""
    return {user: len(messages) for user, messages in dms(stub).items()}


# --- each Board in its own zone, with its own token ---------------------------------------------


def test_each_board_is_reminded_at_its_own_nine_with_its_own_token(hosting, stub):
    couriers = hosting.couriers()
    first = tick_boards(hosting.engine, couriers, LONDON_NINE)
    assert received(stub) == dict.fromkeys(contacts(ALPHA), 1)  # New York is at 04:00
    assert first.board("slack-t0alpha").reminders.sent == 5
    assert first.board("slack-t0beta").reminders.sent == 0
    assert first.inactive == ["slack-t0gamma"]

    tick_boards(hosting.engine, couriers, NEW_YORK_NINE)
    assert received(stub) == dict.fromkeys(contacts(ALPHA) | contacts(BETA), 1)
    tokens = sent_with(stub)
    assert {user: tokens[user] for user in contacts(ALPHA)} == dict.fromkeys(
        contacts(ALPHA), {f"Bearer {token_of(ALPHA)}"})  # fmt: skip
    assert {user: tokens[user] for user in contacts(BETA)} == dict.fromkeys(
        contacts(BETA), {f"Bearer {token_of(BETA)}"})  # fmt: skip
    # Each Board's meetings are in its own zone: 10:00 in London, 10:00 in New York.
    with Session(hosting.engine) as session:
        starts = {
            board.slug: min(m.starts_at for m in session.exec(
                select(Meeting).where(Meeting.board_id == board.id)))
            for board in session.exec(select(Board).where(Board.active))
        }  # fmt: skip
    assert starts["slack-t0alpha"].astimezone(UTC).hour == 10
    assert starts["slack-t0beta"].astimezone(UTC).hour == 15


def test_an_inactive_board_gets_nothing(hosting, stub):
    couriers = hosting.couriers()
    for moment in (LONDON_NINE, NEW_YORK_NINE, NEW_YORK_NINE + timedelta(days=6)):
        report = tick_boards(hosting.engine, couriers, moment)
        assert "slack-t0gamma" not in [b.board for b in report.boards]
    assert not contacts(GAMMA) & set(received(stub))
    assert board_statuses(hosting.engine, "slack-t0gamma") == {}
    with Session(hosting.engine) as session:
        gamma = get_board(session=session, slug="slack-t0gamma")
        assert session.exec(select(Meeting).where(Meeting.board_id == gamma.id)).all() == []
    # Its workspace's token is gone with the install: no call carried it.
    assert all(token_of(GAMMA) not in c.headers.get("authorization", "") for c in stub.calls)


def test_a_named_board_is_the_only_one_served(hosting, stub):
    report = tick_boards(hosting.engine, hosting.couriers(), NEW_YORK_NINE,
                         board_slug="slack-t0beta")  # fmt: skip
    assert [b.board for b in report.boards] == ["slack-t0beta"]
    assert received(stub) == dict.fromkeys(contacts(BETA), 1)


# --- fairness ------------------------------------------------------------------------------------


def throttle(stub, token: str, seconds: int) -> dict:
    """Make every call carrying `token` answer 429 with Retry-After `seconds` while
    `state["on"]`; `state["refused"]` counts the calls refused."""
    original = stub._answer
    state = {"on": True, "refused": 0}

    def answer(handler, raw, path=""):
        if state["on"] and handler.headers.get("authorization") == f"Bearer {token}":
            state["refused"] += 1
            handler.send_response(429)
            handler.send_header("Retry-After", str(seconds))
            handler.send_header("content-type", "application/json")
            handler.end_headers()
            handler.wfile.write(b'{"ok": false, "error": "ratelimited"}')
            return
        original(handler, raw, path)

    stub._answer = answer
    return state


class Clock:
    """A monotonic clock the test moves on."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_a_rate_limited_workspace_delays_only_its_own_board(hosting, stub):
    clock = Clock()
    couriers = hosting.couriers(clock)
    limited = throttle(stub, token_of(ALPHA), seconds=600)
    # Both Boards are due in this tick (London's 09:00 point has passed, New York's is now).
    first = tick_boards(hosting.engine, couriers, NEW_YORK_NINE)
    assert received(stub) == dict.fromkeys(contacts(BETA), 1)
    assert first.board("slack-t0beta").reminders.sent == 5
    assert first.board("slack-t0alpha").reminders.retry == 5
    assert board_statuses(hosting.engine, "slack-t0alpha") == {RETRY: 5}
    # Asked once: not waited out, and not asked again while it wants to be left alone.
    assert limited["refused"] == 1

    limited["on"] = False
    tick_boards(hosting.engine, couriers, NEW_YORK_NINE + timedelta(minutes=1))
    assert limited["refused"] == 1  # still within its Retry-After: nothing asked of it
    assert board_statuses(hosting.engine, "slack-t0alpha") == {RETRY: 5}

    clock.seconds += 601
    later = tick_boards(hosting.engine, couriers, NEW_YORK_NINE + timedelta(minutes=2))
    assert later.board("slack-t0alpha").reminders.sent == 5
    assert received(stub) == dict.fromkeys(contacts(ALPHA) | contacts(BETA), 1)
    assert board_statuses(hosting.engine, "slack-t0alpha") == {SENT: 5}
    assert all(tokens == {f"Bearer {token_of(ALPHA)}"}
               for user, tokens in sent_with(stub).items() if user in contacts(ALPHA))  # fmt: skip


def test_two_workers_ticking_at_once_send_each_message_once(hosting, stub):
    slow_slack(stub)
    engines = [make_engine(hosting.settings.database_url) for _ in range(2)]
    try:
        workers = [replace(hosting, engine=engine).couriers() for engine in engines]
        start = threading.Barrier(len(engines))
        reports, errors = [], []

        def run(engine, couriers) -> None:
            start.wait()
            try:
                options = WorkerOptions(boards_at_once=2)
                reports.append(tick_boards(engine, couriers, NEW_YORK_NINE, options=options,
                                           chunk=2))  # fmt: skip
            except Exception as error:  # noqa: BLE001
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=pair) for pair in zip(engines, workers, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for engine in engines:
            engine.dispose()
    assert errors == []
    assert sum(r.board(slug).reminders.sent for r in reports
               for slug in ("slack-t0alpha", "slack-t0beta")) == 10  # fmt: skip
    assert received(stub) == dict.fromkeys(contacts(ALPHA) | contacts(BETA), 1)
    with Session(hosting.engine) as session:
        occurrences = session.exec(
            select(Meeting.board_id, func.count(), func.count(func.distinct(Meeting.occurrence)))
            .group_by(Meeting.board_id)
        ).all()  # fmt: skip
    assert len(occurrences) == 2
    assert all(count == distinct > 0 for _, count, distinct in occurrences)


# --- the CLI -------------------------------------------------------------------------------------


def test_remind_and_status_cover_every_active_board(hosting, stub, monkeypatch, capsys):
    for name, value in {"DATABASE_URL": hosting.settings.database_url,
                        "SLACK_CLIENT_ID": hosting.settings.slack_client_id,
                        "SLACK_CLIENT_SECRET": hosting.settings.slack_client_secret,
                        "SLACK_SIGNING_SECRET": hosting.settings.slack_signing_secret,
                        "SLACK_API_URL": stub.api_url}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["remind", "--dry-run", "--as-of", "2027-02-02 09:00"]) == 0
    preview = capsys.readouterr().out
    assert "════ Alpha Partnership (slack-t0alpha)" in preview
    assert "════ Beta Partnership (slack-t0beta)" in preview and "Gamma" not in preview
    assert stub.calls_to("chat.postMessage") == []

    assert main(["remind", "--board", "slack-t0beta", "--as-of", "2027-02-02 09:00"]) == 0
    out = capsys.readouterr().out
    assert "Reminder pass for slack-t0beta: sent 5," in out and "alpha" not in out
    assert received(stub) == dict.fromkeys(contacts(BETA), 1)

    # As if at 09:00 in each Board's own zone: Alpha's now; Beta's were sent already.
    assert main(["remind", "--as-of", "2027-02-02 09:00"]) == 0
    out = capsys.readouterr().out
    assert "Reminder pass for slack-t0alpha: sent 5," in out
    assert "Reminder pass for slack-t0beta: sent 0," in out
    assert received(stub) == dict.fromkeys(contacts(ALPHA) | contacts(BETA), 1)

    assert main(["reminders", "status"]) == 0
    status = capsys.readouterr().out
    assert "Alpha Partnership (slack-t0alpha)" in status and "Beta Partnership" in status
    assert "Gamma" not in status
    assert main(["reminders", "status", "--board", "slack-t0gamma"]) == 0
    assert "Reminder status" in capsys.readouterr().out
    assert main(["remind", "--board", "nowhere"]) == 1
    assert "There is no Board 'nowhere'" in capsys.readouterr().err


# --- SQL statements per tick ---------------------------------------------------------------------


def statements_of_one_tick(db_url: str, settings, stub, boards: int, actions: int) -> int:  # noqa: F811
    """SQL statements of the 09:00 tick over `boards` Boards of `actions` extra actions each (one
    token, every DM sent), after a tick the day before (clients made, meetings topped up)."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        single = replace(slack_settings(settings, stub), database_url=db_url)
        for number in range(boards):
            slug = f"board-{number}"
            with Session(engine) as session:
                get_or_create_board(session=session, slug=slug, name=slug, now=IMPORTED_AT)
                session.commit()
            import_file(engine, replace(single, board_slug=slug), ANNEX_B, now=IMPORTED_AT,
                        partners=PARTNERS)  # fmt: skip
            with Session(engine) as session:
                board = get_board(session=session, slug=slug)
                seed_board(session, board, f"B{number}")
                add_actions(session, board, actions)
                session.commit()
        couriers = BoardCouriers(single, engine, teams=load_teams_settings({}),
                                 retry_interval=FAST)  # fmt: skip
        tick_boards(engine, couriers, LONDON_NINE - timedelta(days=1))
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        report = tick_boards(engine, couriers, LONDON_NINE)
        event.remove(engine, "before_cursor_execute", listener)
        assert [b.reminders.sent for b in report.boards] == [5] * boards
        return len(seen)
    finally:
        engine.dispose()


def add_actions(session: Session, board: Board, count: int) -> None:
    """`count` open actions due before the meeting, led by the Board's four partners in turn."""
    areas = [a.id for a in list_areas(session=session, board_id=board.id)]
    leads = [find_partner(session=session, board_id=board.id, text=name).id
             for name in ("CoLP", "Community Safety Team", "Trading Standards", "NCA")]  # fmt: skip
    session.exec(insert(Action), params=[
        {"board_id": board.id, "number": 100 + n, "area_id": areas[n % len(areas)],
         "issue": f"Synthetic action {n}", "action_text": "Share intelligence.", "barriers": "",
         "outcomes": "", "rag": "amber", "confidential": False, "due_date": date(2027, 2, 5),
         "created_at": IMPORTED_AT, "updated_at": IMPORTED_AT, "version": 1}
        for n in range(count)])  # fmt: skip
    ids = dict(session.exec(select(Action.number, Action.id).where(
        Action.board_id == board.id, Action.number >= 100)).all())  # fmt: skip
    session.exec(
        insert(ActionLead),
        params=[
            {"action_id": ids[100 + n], "partner_id": leads[n % len(leads)]} for n in range(count)
        ],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    """Makes empty databases (SQLite files, or PostgreSQL databases dropped after)."""
    with ExitStack() as made:

        def make() -> str:
            if request.param == "sqlite":
                return f"sqlite:///{tmp_path / uuid.uuid4().hex}.db"
            if not PG_URL:
                pytest.skip("SOC_TEST_POSTGRES_URL is not set")
            return made.enter_context(fresh_postgres_database("soc_tick"))

        yield make


def test_a_ticks_statements_grow_with_boards_not_actions(fresh_url, settings, stub, capsys):
    counts = {}
    for boards, actions in ((1, 20), (1, 200), (3, 20), (3, 200)):
        counts[boards, actions] = statements_of_one_tick(fresh_url(), settings, stub, boards,
                                                         actions)  # fmt: skip
        stub.messages.clear()
    with capsys.disabled():
        print(f"\nSQL statements of one 09:00 tick (Boards, actions each): {counts}")
    assert counts[1, 200] == counts[1, 20] and counts[3, 200] == counts[3, 20]
    assert counts[3, 20] <= 3 * counts[1, 20]


def test_single_token_mode_uses_the_one_token_kept_across_ticks(engine, settings, stub):
    couriers = BoardCouriers(slack_settings(settings, stub), engine,
                             teams=load_teams_settings({}))  # fmt: skip
    with Session(engine) as session:
        board = get_board(session=session, slug="soc") or get_or_create_board(
            session=session, slug="soc", name="Soc", now=NOW
        )
        found = couriers.for_board(board, [])
        again = couriers.for_board(board, [])
    assert found["slack"].client.token == BOT_TOKEN
    assert again["slack"].client is found["slack"].client  # kept across ticks
