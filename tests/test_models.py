"""The persistence layer on SQLite and PostgreSQL: migrations, timestamps, locking, history."""

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, func, select

import handlers.register.actions
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from models.actions import (
    EVERYTHING,
    MOVED,
    ActionFilter,
    action_lists,
    get_action,
    list_actions,
    rag_as_at,
    update_action,
)
from models.boards import get_board, get_or_create_board
from models.db import make_engine, session_scope
from models.meetings import add_meeting, last_meeting, list_meetings, next_meeting
from models.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from models.people import find_partner
from models.tables import Action, ActionChange, Board, Meeting, Role
from tests.conftest import (
    CHAIR,
    COLP,
    IMPORTED_AT,
    NOW,
    seed_members,
)
from tests.model_fixtures import (
    ask,
    db_url,  # noqa: F401  (fixtures)
)

# --- A database of each kind -------------------------------------------------------------------


@pytest.fixture
def db(db_url):  # noqa: F811
    """A migrated, empty database of each kind."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def board_db(db, db_url):  # noqa: F811
    """Annex B imported at IMPORTED_AT, with the chair and the CoLP contact as members."""
    settings = Settings(database_url=db_url)
    import_file(db, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(db) as session:
        board = get_board(session=session, slug="soc")
        colp = find_partner(session=session, board_id=board.id, text="CoLP")
        seed_members(
            session,
            board,
            [
                (CHAIR, "John Simpson", Role.CHAIR, None),
                (COLP, "Rob Ellis", Role.MEMBER, colp.id),
            ],
        )
        session.commit()
    return db


def board_id(engine) -> int:
    """The test Board's id."""
    with Session(engine) as session:
        return get_board(session=session, slug="soc").id


# --- Migrations --------------------------------------------------------------------------------


def user_tables(engine) -> set[str]:
    """Tables other than Alembic's own."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_go_up_to_head_down_to_base_and_up_again(db_url):  # noqa: F811
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert user_tables(engine) == set(SQLModel.metadata.tables)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert user_tables(engine) == set()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert user_tables(engine) == set(SQLModel.metadata.tables)
    finally:
        engine.dispose()


def test_every_migration_steps_down_and_up(db_url):  # noqa: F811
    script = ScriptDirectory.from_config(alembic_config(db_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    engine = make_engine(db_url)
    try:
        for revision in revisions:
            upgrade(engine, revision)
            assert current_revision(engine) == revision
        for previous in [*reversed(revisions[:-1]), None]:
            downgrade(engine, previous or "base")
            assert current_revision(engine) == previous
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(db):
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)
    assert diffs == []


# --- Timestamps --------------------------------------------------------------------------------


def test_timestamps_come_back_aware_utc(db):
    summer = datetime(2027, 7, 1, 10, 30, tzinfo=ZoneInfo("Europe/London"))  # 09:30 UTC
    with session_scope(db) as session:
        get_or_create_board(session=session, slug="tz", name="TZ", now=summer)
    with Session(db) as session:
        board = get_board(session=session, slug="tz")
        assert board.created_at.tzinfo is not None
        assert board.created_at.utcoffset() == timedelta(0)
        assert board.created_at == datetime(2027, 7, 1, 9, 30, tzinfo=UTC)


def test_naive_timestamps_are_refused(db):
    with Session(db) as session:
        session.add(Board(slug="naive", name="Naive", created_at=datetime(2027, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_history_timestamps_are_aware(board_db):
    with Session(board_db) as session:
        change = session.exec(select(ActionChange)).first()
        action = session.exec(select(Action)).first()
    assert change.at == IMPORTED_AT and change.at.tzinfo is not None
    assert action.updated_at == IMPORTED_AT and action.created_at.tzinfo is not None


# --- Optimistic locking ------------------------------------------------------------------------


def test_second_of_two_concurrent_updates_is_stale(board_db):
    bid = board_id(board_db)
    first = Session(board_db, expire_on_commit=False)
    second = Session(board_db, expire_on_commit=False)
    try:
        mine = get_action(session=first, board_id=bid, number=1)
        first.commit()  # end the read (on SQLite it holds the write lock), keep the object
        theirs = get_action(session=second, board_id=bid, number=1)
        second.commit()
        assert mine.version == theirs.version == 1

        update_action(session=second, action=theirs, now=NOW, actor=None, changes={"rag": "green"})
        second.commit()
        with pytest.raises(StaleDataError):
            update_action(session=first, action=mine, now=NOW, actor=None, changes={"rag": "red"})
            first.commit()
        first.rollback()
    finally:
        first.close()
        second.close()
    with Session(board_db) as session:
        action = get_action(session=session, board_id=bid, number=1)
        assert (action.rag, action.version) == ("green", 2)
        rags = session.exec(
            select(ActionChange.new_value).where(
                ActionChange.action_id == action.id, ActionChange.field == "rag"
            )
        ).all()
        assert rags == ["amber", "green"]  # the stale "red" left no history


def test_every_update_bumps_the_version(board_db):
    bid = board_id(board_db)
    for rag in ("green", "red", "blue"):
        with session_scope(board_db) as session:
            action = get_action(session=session, board_id=bid, number=2)
            update_action(session=session, action=action, now=NOW, actor=None, changes={"rag": rag})
    with Session(board_db) as session:
        assert get_action(session=session, board_id=bid, number=2).version == 4


def test_typed_update_racing_another_writer_applies_on_top_of_their_change(
    board_db,
    db_url,  # noqa: F811
    monkeypatch,
):
    """Another writer changes A-1 after the command found it and before it locks it to save.

    A typed command carries no version of what the person saw, so it is applied to the action as
    the other writer left it rather than refused. On PostgreSQL the other writer is a separate
    connection committing in between. On SQLite a second writer cannot get in (BEGIN IMMEDIATE
    makes it wait: see test_sqlite_writer_waits_for_an_open_transaction), so the bump is made on
    the command's own connection, behind the ORM's back: the ORM still holds version 1.
    """
    bid = board_id(board_db)
    real_lock = handlers.register.actions.lock_action
    other = make_engine(db_url)

    def racing_lock(*, session, action):
        bump = update(Action).where(Action.id == action.id)
        bump = bump.values(version=Action.version + 1, rag="red").execution_options(
            synchronize_session=False
        )
        if db_url.startswith("sqlite"):
            session.connection().execute(bump)
        else:
            with other.begin() as connection:
                connection.execute(bump)
        return real_lock(session=session, action=action)

    monkeypatch.setattr(handlers.register.actions, "lock_action", racing_lock)
    try:
        reply = ask(board_db, COLP, 'action update A-1 rag=green note="Dashboard shared"')
    finally:
        other.dispose()
    assert not reply.error, reply.title
    with Session(board_db) as session:
        action = get_action(session=session, board_id=bid, number=1)
        notes = session.exec(select(ActionChange).where(ActionChange.note == "Dashboard shared"))
        (change,) = notes.all()
    assert (change.field, change.old_value, change.new_value) == ("rag", "red", "green")
    assert (action.rag, action.version) == ("green", 3)  # on top of the other writer's version 2


# --- History -----------------------------------------------------------------------------------


def test_rag_as_at_rebuilds_past_ratings_from_history(board_db):
    bid = board_id(board_db)
    day1, day2 = IMPORTED_AT + timedelta(days=1), IMPORTED_AT + timedelta(days=2)
    assert not ask(board_db, COLP, "action update A-1 rag=green", now=day1).error
    assert not ask(board_db, COLP, "action update A-1 rag=red", now=day2).error
    assert not ask(
        board_db, CHAIR, 'action add area=drugs lead=CoLP title="New" rag=green', now=day2
    ).error
    with Session(board_db) as session:
        number = {a.id: a.number for a in session.exec(select(Action))}

        def ratings(at: datetime) -> dict[int, str]:
            rebuilt = rag_as_at(session=session, board_id=bid, at=at)
            return {number[action_id]: rag for action_id, rag in rebuilt.items()}

        assert ratings(IMPORTED_AT - timedelta(seconds=1)) == {}
        at_import = ratings(IMPORTED_AT)
        assert len(at_import) == 11
        assert (at_import[1], at_import[4], at_import[8]) == ("amber", "blue", "none")
        assert list(at_import.values()).count("amber") == 9
        assert ratings(day1)[1] == "green"
        assert ratings(day1 + timedelta(hours=12))[1] == "green"
        assert 12 not in ratings(day1)
        assert ratings(day2)[1] == "red"
        assert ratings(day2)[12] == "green"
        assert ratings(day2)[2] == "amber"


def test_rag_moves_since_compares_then_and_now(board_db):
    bid = board_id(board_db)
    meeting = IMPORTED_AT + timedelta(days=3)
    ask(board_db, COLP, "action update A-1 rag=green", now=meeting + timedelta(days=1))
    ask(board_db, COLP, "action update A-9 rag=red", now=meeting + timedelta(days=1))
    ask(board_db, COLP, "action update A-9 rag=amber", now=meeting + timedelta(days=2))
    with Session(board_db) as session:
        lists = action_lists(
            session=session, board_id=bid, visibility=EVERYTHING, filters={}, rag_at=meeting
        )
    # A-9 went back to amber: no net move.
    moved = lists[MOVED]
    assert moved.total == 1
    assert [(h.number, h.old_rag, h.rag) for h in moved.first] == [(1, "amber", "green")]


def test_action_lists_give_each_lists_first_actions_and_size_from_one_query(board_db):
    bid = board_id(board_db)
    ask(board_db, COLP, "action update A-1 rag=red", now=IMPORTED_AT + timedelta(days=1))
    wanted = {"red": ActionFilter(rag="red"), "open": ActionFilter(open_only=True)}
    with Session(board_db) as session:
        lists = action_lists(
            session=session, board_id=bid, visibility=EVERYTHING, filters=wanted, limit=3
        )

        def numbers(where: ActionFilter) -> list[int]:
            found, _ = list_actions(
                session=session, board_id=bid, visibility=EVERYTHING, where=where
            )
            return [action.number for action in found]

        red, open_ = numbers(wanted["red"]), numbers(wanted["open"])
    assert 1 in red and len(open_) > 3
    for name, expected in (("red", red), ("open", open_)):
        assert lists[name].total == len(expected)
        assert [h.number for h in lists[name].first] == expected[:3]


# --- Meetings ----------------------------------------------------------------------------------


def test_last_and_next_meeting(board_db):
    bid = board_id(board_db)
    first, second, third = (datetime(2027, m, 12, 10, 0, tzinfo=UTC) for m in (1, 2, 3))
    with session_scope(board_db) as session:
        for at in (third, first, second):
            add_meeting(session=session, board_id=bid, starts_at=at)
        assert add_meeting(session=session, board_id=bid, starts_at=first).starts_at == first
        session.exec(select(Meeting).where(Meeting.starts_at == second)).one().cancelled = True
    with Session(board_db) as session:

        def last(now):
            meeting = last_meeting(session=session, board_id=bid, now=now)
            return meeting.starts_at if meeting else None

        def upcoming(now):
            meeting = next_meeting(session=session, board_id=bid, now=now)
            return meeting.starts_at if meeting else None

        assert len(list_meetings(session=session, board_id=bid)) == 3  # no duplicate of `first`
        assert [m.starts_at for m in list_meetings(session=session, board_id=bid)] == [
            first,
            second,
            third,
        ]
        assert last(first - timedelta(minutes=1)) is None
        assert upcoming(first - timedelta(minutes=1)) == first
        assert last(first) == first  # a meeting that has started is the last one
        assert upcoming(first) == third  # the cancelled one is skipped
        assert last(third - timedelta(days=1)) == first  # the cancelled one never happened
        assert last(third + timedelta(days=30)) == third
        assert upcoming(third) is None
        since = list_meetings(session=session, board_id=bid, since=second)
        assert [m.starts_at for m in since] == [second, third]


# --- Column sizes ------------------------------------------------------------------------------


def test_longest_values_the_commands_allow_fit_the_columns(board_db):
    # (longest value typed, column size): a whole command is at most 8,000 characters, so the
    # action text cannot reach its 8,000-character column through `/soc`.
    sizes = {
        "title": (2000, 2000),
        "action": (7950, 8000),
        "barriers": (4000, 4000),
        "outcomes": (4000, 4000),
        "note": (4000, 4000),
    }
    for option, (typed, column) in sizes.items():
        reply = ask(board_db, CHAIR, f'action update A-1 {option}="{"y" * typed}" rag=red')
        assert not reply.error, (option, reply.title)
        assert not ask(board_db, CHAIR, "action update A-1 rag=amber").error
        too_long = ask(board_db, CHAIR, f'action update A-1 {option}="{"z" * (column + 1)}"')
        assert too_long.error and "too long" in too_long.title, option
    reply = ask(board_db, CHAIR, f'partner add "{"p" * 200}" aliases="{"q" * 1000}"')
    assert not reply.error, reply.title
    assert not ask(board_db, CHAIR, f'area add "{"r" * 200}"').error
    assert not ask(board_db, CHAIR, f'member add UNEW name="{"n" * 200}" role=observer').error


def test_imported_text_with_control_characters_is_storable(db, db_url, tmp_path):  # noqa: F811
    path = tmp_path / "nul.json"
    rows = [{"area": "Cyber attack", "issue": "Null\u0000byte", "leads": ["CoLP"]}]
    path.write_text(json.dumps(rows), encoding="utf-8")
    import_file(db, Settings(database_url=db_url), path, now=NOW, partners=PARTNERS)
    with Session(db) as session:
        assert session.exec(select(Action.issue)).one() == "Null byte"


# --- SQLite with more than one writer ----------------------------------------------------------


def test_sqlite_writer_waits_for_an_open_transaction(tmp_path):
    path = tmp_path / "locks.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    try:
        with session_scope(engine) as session:
            get_or_create_board(session=session, slug="soc", name="SOC", now=NOW)
        with Session(engine) as session:
            get_board(session=session, slug="soc")  # a read: the transaction has begun
            other = sqlite3.connect(path, timeout=0.2)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE board SET name = 'other'")
            session.commit()
        other.execute("UPDATE board SET name = 'other'")  # free once the first commits
        other.commit()
        other.close()
    finally:
        engine.dispose()


def test_two_sqlite_writers_at_once_never_see_database_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    setup = make_engine(url)
    upgrade(setup)
    with session_scope(setup) as session:
        bid = get_or_create_board(session=session, slug="soc", name="SOC", now=NOW).id
    setup.dispose()
    rounds, errors = 40, []
    start = threading.Barrier(2)

    def writer(offset: int) -> None:
        engine = make_engine(url)  # each "process" has its own engine and connections
        try:
            start.wait()
            for n in range(rounds):
                # Read then write: the pattern that fails under SQLite's deferred transactions.
                with session_scope(engine) as session:
                    seen = session.exec(select(func.count()).select_from(Meeting)).one()
                    at = NOW + timedelta(minutes=2 * n + offset)
                    add_meeting(session=session, board_id=bid, starts_at=at, note=str(seen))
        except Exception as err:  # noqa: BLE001  (collected and asserted on below)
            errors.append(err)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    check = make_engine(url)
    with Session(check) as session:
        assert session.exec(select(func.count()).select_from(Meeting)).one() == 2 * rounds
    check.dispose()
