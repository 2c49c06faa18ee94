"""Many workspaces at speed: each workspace's Board and bot token are looked up once every few
seconds per process, never kept past an uninstall for longer than that, and answers cached by
register version are bounded by their size."""

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import event
from sqlmodel import Session, select

from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.install import install_workspace_board, installation_store
from bot.slack.server import create_wsgi_app
from bot.workspace_memory import SECONDS, WorkspaceMemory
from handlers.cache import ENTRY_OVERHEAD, VersionedCache, register_key
from models.actions import EVERYTHING, PUBLIC, rag_tally, strands_of
from models.boards import get_board
from models.db import make_engine, session_scope
from models.migrate import upgrade
from models.tables import Action, ActionStrand, Strand
from tests.conftest import IMPORTED_AT, NOW
from tests.model_fixtures import db_url  # noqa: F401  (fixture)
from tests.slack_stub import SlackHarness, install_settings

pytest_plugins = ("tests.slack_fixtures",)

ALPHA, ALPHA_ADMIN = "T0ALPHA", "UALPHAADMIN"
NOT_SET_UP = "not set up for this Slack workspace"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def installed(engine, settings) -> None:
    """Alpha's workspace installed as bolt's OAuth flow stores it, with its Board."""
    installation = Installation(app_id="A0SOCBOT", team_id=ALPHA, team_name="Alpha",
                                bot_token="xoxb-t0alpha-never-real", bot_id="BSOC",
                                bot_user_id="UBOTSOC", user_id=ALPHA_ADMIN)  # fmt: skip
    installation_store(settings, engine).save(installation)
    with session_scope(engine) as session:
        install_workspace_board(session, settings, installation, NOW)


def statements_about_workspaces(engine):
    """The SQL statements sent that read a workspace's bot token or its Board binding."""
    seen = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args) -> None:
        if "slack_bots" in statement or "boardworkspace" in statement:
            seen.append(statement)

    return seen


def test_a_workspace_is_looked_up_once_every_few_seconds(engine, settings, stub):
    settings = install_settings(settings, stub)
    installed(engine, settings)
    clock = Clock()
    web = create_wsgi_app(settings, engine=engine, clock=lambda: NOW,
                          workspace_memory=WorkspaceMemory(clock=clock))  # fmt: skip
    alpha = SlackHarness(web, stub, ALPHA)
    lookups = statements_about_workspaces(engine)
    for _ in range(3):
        assert "Secretariat" in alpha.command(ALPHA_ADMIN, "member list").everything
    assert len(lookups) == 2  # the bot token and the Board, once
    clock.now += SECONDS
    assert "Secretariat" in alpha.command(ALPHA_ADMIN, "member list").everything
    assert len(lookups) == 4  # looked up again


def test_an_uninstall_is_seen_at_once_here_and_within_seconds_elsewhere(engine, settings, stub):
    settings = install_settings(settings, stub)
    installed(engine, settings)
    here_clock, there_clock = Clock(), Clock()
    here = create_wsgi_app(settings, engine=engine, clock=lambda: NOW,
                           workspace_memory=WorkspaceMemory(clock=here_clock))  # fmt: skip
    # Another web process (another machine) sharing only the database.
    there = create_wsgi_app(settings, engine=engine, clock=lambda: NOW,
                            workspace_memory=WorkspaceMemory(clock=there_clock))  # fmt: skip
    alpha_here, alpha_there = SlackHarness(here, stub, ALPHA), SlackHarness(there, stub, ALPHA)
    for alpha in (alpha_here, alpha_there):
        assert "Secretariat" in alpha.command(ALPHA_ADMIN, "member list").everything

    assert alpha_here.event({"type": "app_uninstalled"}).status == 200

    refused = alpha_here.command(ALPHA_ADMIN, "member list")
    told = stub.wait_for_path(refused.response_url.removeprefix(stub.base)).data.get("text", "")
    assert NOT_SET_UP in told and "Secretariat" not in refused.body
    there_clock.now += SECONDS
    refused = alpha_there.command(ALPHA_ADMIN, "member list")
    told = stub.wait_for_path(refused.response_url.removeprefix(stub.base)).data.get("text", "")
    assert NOT_SET_UP in told and "Secretariat" not in refused.body


def test_only_found_answers_are_remembered_and_only_for_a_while():
    clock = Clock()
    memory = WorkspaceMemory(seconds=5, size=10, clock=clock)
    asked = []

    def look_up(answer):
        def ask():
            asked.append(answer)
            return answer

        return ask

    assert memory.recall("missing", look_up(None)) is None
    assert memory.recall("missing", look_up(None)) is None
    assert memory.recall("found", look_up("slug")) == "slug"
    assert memory.recall("found", look_up("other")) == "slug"
    assert asked == [None, None, "slug"]
    clock.now += 5
    assert memory.recall("found", look_up("other")) == "other"


def test_memory_is_bounded_and_a_clear_wins_over_a_lookup_in_flight():
    clock = Clock()
    memory = WorkspaceMemory(seconds=5, size=3, clock=clock)
    for n in range(10):
        memory.recall(n, lambda n=n: n)
    assert len(memory) == 3

    def slow_look_up():
        memory.clear()  # an uninstall lands while this lookup is under way
        return "stale"

    assert memory.recall("team", slow_look_up) == "stale"
    assert memory.recall("team", lambda: "fresh") == "fresh"


def test_register_cache_is_bounded_by_bytes():
    cache = VersionedCache(max_bytes=16 * (ENTRY_OVERHEAD + 200))
    for n in range(100):
        cache.get_or_compute(("key", n), lambda: "x" * 150)
    assert 0 < len(cache) < 20
    assert cache.used_bytes <= cache.max_bytes
    computed = []
    huge = cache.get_or_compute("huge", lambda: computed.append(1) or "y" * cache.max_bytes)
    cache.get_or_compute("huge", lambda: computed.append(1) or huge)
    assert computed == [1, 1]  # too large to keep: computed each time


def test_answers_computed_over_uncommitted_writes_are_not_cached(board_engine, settings):
    with Session(board_engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        assert register_key(session, board, "rag") is not None
        action = session.exec(select(Action).where(Action.board_id == board.id)).first()
        action.issue = "changed, then rolled back"
        session.add(action)
        session.flush()
        assert register_key(session, board, "rag") is None
        session.rollback()
        assert register_key(session, board, "rag") is not None


@pytest.mark.parametrize("visibility", [PUBLIC, EVERYTHING])
def test_rag_by_strand_counts_each_strand_of_each_visible_action(db_url, visibility):  # noqa: F811
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        settings = Settings(database_url=db_url)
        import_file(engine, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
        with session_scope(engine) as session:
            ids = session.exec(select(Action.id).order_by(Action.id)).all()
            # Some actions with one strand, some with several, some with none.
            for n, action_id in enumerate(ids[:6]):
                for strand in list(Strand)[: n % 3]:
                    session.add(ActionStrand(action_id=action_id, strand=strand.value))
        with Session(engine) as session:
            board = get_board(session=session, slug=settings.board_slug)
            query = select(Action).where(Action.board_id == board.id, visibility.clause())
            actions = list(session.exec(query))
            strands = strands_of(session=session, action_ids=[a.id for a in actions])
            expected: dict = {}
            for action in actions:
                for strand in strands.get(action.id, []):
                    expected[(strand, action.rag)] = expected.get((strand, action.rag), 0) + 1
            tally = rag_tally(session=session, board_id=board.id, visibility=visibility)
            counted = tally.by_strand
        assert counted == expected and sum(expected.values()) > 0
    finally:
        engine.dispose()
