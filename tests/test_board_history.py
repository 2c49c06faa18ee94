"""The Board's own history: settings, the priorities exercise's closing day and members' roles,
recorded with who and old → new in the change's own transaction, shown by `board history` to the
chair, deputy and secretariat, and never edited."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.cli.console import Console
from bot.senders.priorities import PrioritySender
from handlers.errors import CommandError
from handlers.replies import Reply
from models.board_history import record_board_change
from models.board_seal import seal_to_board
from models.boards import get_board, get_or_create_board
from models.db import make_engine
from models.hosting import delete_board
from models.migrate import upgrade
from models.tables import Board, BoardChange, Member, PriorityExercise
from tests.conftest import (
    CHAIR,
    COLP,
    DEPUTY,
    NOW,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
)
from tests.fake_courier import FakeCourier
from tests.model_fixtures import db_url  # noqa: F401  (fixture)

TOMORROW = NOW + timedelta(days=1)  # Thursday 21 January 2027, 10:00
EXTENDED_REMINDER = datetime(2027, 2, 11, 9, 0, tzinfo=UTC)  # the working day before 12 Feb


def ask(console: Console, user_id: str, text: str, at: datetime = NOW) -> Reply:
    """Run a command as someone at a moment."""
    return type(console)(console.engine, console.settings, user_id, clock=lambda: at).ask(text)


def ok(console: Console, user_id: str, text: str, at: datetime = NOW) -> Reply:
    """Run a command that must succeed."""
    reply = ask(console, user_id, text, at)
    assert not reply.error, f"{text!r} as {user_id}: {reply.title} ({reply.hint})"
    return reply


def entries(engine) -> list[tuple[str, str, str]]:
    """Every history entry as (who, what, details), oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(BoardChange).order_by(BoardChange.id)).all()
        return [(r.by_name, r.what, r.details) for r in rows]


def board_row(engine) -> Board:
    with Session(engine) as session:
        return get_board(session=session, slug="soc")


# --- each kind of change is recorded with who and old → new ------------------------------------


def test_each_changed_setting_is_recorded_with_who_and_old_to_new(console):
    ok(console, SECRETARIAT, "board settings timezone=Europe/Dublin reminders=3,1 at=09:00")
    assert entries(console.engine) == [
        ("David MacKintosh", "settings", "time zone: Europe/London → Europe/Dublin"),
        ("David MacKintosh", "settings", "reminder days: 5,1 → 3,1"),
    ]  # at=09:00 was the setting already: not a change
    with Session(console.engine) as session:
        [first, _] = session.exec(select(BoardChange)).all()
        secretariat = session.get(Member, first.by_member_id)
        assert secretariat.display_name == "David MacKintosh"
        assert first.at == NOW


def test_summary_channels_are_recorded_as_a_list(console):
    ok(console, SECRETARIAT, "board settings summary=C111,C222")
    ok(console, SECRETARIAT, "board settings summary=none")
    assert [d for _, _, d in entries(console.engine)] == [
        "summary channels: none → slack:C111, slack:C222",
        "summary channels: slack:C111, slack:C222 → none",
    ]


def test_the_same_settings_again_record_nothing(console):
    ok(console, SECRETARIAT, "board settings timezone=Europe/London at=09:00")
    assert entries(console.engine) == []


def test_closing_the_exercise_early_is_recorded(console):
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    ok(console, CHAIR, "priorities close", TOMORROW)
    assert entries(console.engine) == [
        (
            "John Simpson",
            "priorities close",
            "closing day Fri 5 Feb 2027 → closed Thu 21 Jan 2027 10:00",
        )
    ]


def test_extending_the_exercise_is_recorded(console):
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    ok(console, SECRETARIAT, "priorities extend closes=12/2/2027", TOMORROW)
    assert entries(console.engine) == [
        ("David MacKintosh", "priorities extend", "closing day Fri 5 Feb 2027 → Fri 12 Feb 2027")
    ]


def test_a_new_member_and_a_new_role_are_recorded_other_details_are_not(console):
    ok(console, DEPUTY, 'member add UNEW123 name="Amy New" role=member')
    ok(console, DEPUTY, "member add UNEW123 away=yes")  # not a Board-level change
    ok(console, CHAIR, "member add UNEW123 role=secretariat")
    ok(console, CHAIR, "member add UNEW123 role=secretariat")  # the role it has
    assert entries(console.engine) == [
        ("Jon Avern", "member add", "Amy New added as Member"),
        ("John Simpson", "member role", "Amy New: Member → Secretariat"),
    ]


# --- a change that fails records nothing -------------------------------------------------------


@pytest.mark.parametrize(
    "user_id, command",
    [
        (SECRETARIAT, "board settings timezone=Europe/Dublin at=25:00"),  # one bad value
        (COLP, "board settings timezone=Europe/Dublin"),  # not the secretariat
        (SECRETARIAT, 'member add UNEW123 name="Amy New" role=member deputy=UNOBODY'),
        (COLP, 'member add UNEW123 name="Amy New" role=member'),
        (SECRETARIAT, "priorities close"),  # no exercise open
        (SECRETARIAT, "priorities extend closes=1/1/2027"),
    ],
)
def test_a_refused_change_records_nothing(console, user_id, command):
    reply = ask(console, user_id, command)
    assert reply.error
    assert entries(console.engine) == []


def test_a_settings_change_failing_after_it_was_recorded_leaves_no_record(console, monkeypatch):
    def fail(*_args, **_kwargs):
        raise CommandError("The calendar could not be moved.")

    monkeypatch.setattr("handlers.boards.commands.top_up_meetings", fail)
    reply = ask(console, SECRETARIAT, "board settings timezone=Europe/Dublin")
    assert reply.title == "The calendar could not be moved."
    assert board_row(console.engine).timezone == "Europe/London"
    assert entries(console.engine) == []


def test_an_extension_failing_after_it_was_recorded_leaves_no_record(console, monkeypatch):
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")

    def fail(*_args, **_kwargs):
        raise CommandError("The ledger could not be read.")

    monkeypatch.setattr("handlers.priorities.controls.deliveries_of", fail)
    reply = ask(console, SECRETARIAT, "priorities extend closes=12/2/2027", TOMORROW)
    assert reply.title == "The ledger could not be read."
    assert entries(console.engine) == []
    with Session(console.engine) as session:
        [exercise] = session.exec(select(PriorityExercise)).all()
    assert exercise.closes_on == date(2027, 2, 5)


# --- `board history` ---------------------------------------------------------------------------


def test_board_history_shows_the_newest_first_with_who_and_when(console):
    ok(console, SECRETARIAT, "board settings reminders=3,1")
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    ok(console, CHAIR, "priorities extend closes=12/2/2027", TOMORROW)
    reply = ok(console, DEPUTY, "board history")
    assert reply.title == "Board history"
    assert reply.text == "2 most recent Board-level changes, newest first."
    [section] = reply.sections
    assert [(f.label, f.value, f.at) for f in section.facts] == [
        ("John Simpson", "priorities extend: closing day Fri 5 Feb 2027 → Fri 12 Feb 2027",
         TOMORROW),
        ("David MacKintosh", "settings: reminder days: 5,1 → 3,1", NOW),
    ]  # fmt: skip
    [latest] = ok(console, CHAIR, "board history 1").sections[0].facts
    assert latest.label == "John Simpson"


def test_board_history_with_nothing_recorded_says_what_would_be(console):
    reply = ok(console, SECRETARIAT, "board history")
    assert reply.sections == []
    assert reply.text.startswith("No Board-level change is recorded yet")


@pytest.mark.parametrize("user_id", [COLP, OBSERVER])
def test_board_history_is_refused_to_members_who_are_not_chair_deputy_or_secretariat(
    console, user_id
):
    ok(console, SECRETARIAT, "board settings reminders=3,1")
    reply = ask(console, user_id, "board history")
    assert reply.error
    assert reply.title == "Only the chair, deputy chair or secretariat can see the Board's history."
    assert "reminder days" not in str(reply)


def test_board_history_is_refused_to_strangers(console):
    reply = ask(console, STRANGER, "board history")
    assert reply.error and reply.title == "You're not on this Board's member list yet."


@pytest.mark.parametrize("count", ["0", "201", "ten", "2 3"])
def test_board_history_takes_a_number_from_1_to_200(console, count):
    reply = ask(console, SECRETARIAT, f"board history {count}")
    assert reply.error
    assert "board history 10" in reply.hint


# --- append-only --------------------------------------------------------------------------------


@pytest.fixture
def history_db(db_url):  # noqa: F811
    """An empty database of each kind with one Board and one history entry."""
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        board = get_or_create_board(
            session=session, slug="soc", name="SOC", now=NOW, timezone="Europe/London"
        )
        record_board_change(session=session, board_id=board.id, at=NOW, by=None,
                            what="settings", details="name: A → B")  # fmt: skip
        session.commit()
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "statement", ["UPDATE boardchange SET details = 'edited'", "DELETE FROM boardchange"]
)
def test_the_database_refuses_to_edit_the_boards_history(history_db, statement):
    with pytest.raises(DBAPIError, match="boardchange is append-only"), history_db.begin() as c:
        c.execute(text(statement))
    assert entries(history_db) == [("", "settings", "name: A → B")]


def test_a_sealed_transaction_cannot_edit_its_own_boards_history(history_db):
    if history_db.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    with Session(history_db) as session:
        board_id = get_board(session=session, slug="soc").id
        seal_to_board(session, board_id)
        assert len(session.exec(select(BoardChange)).all()) == 1  # the seal lets it read its own
        with pytest.raises(DBAPIError, match="boardchange is append-only"):
            session.execute(text("UPDATE boardchange SET details = 'edited'"))
        session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), history_db.begin() as connection:
        connection.execute(text("TRUNCATE boardchange"))


def test_deleting_the_whole_board_still_removes_its_history(history_db):
    with Session(history_db) as session:
        board_id = get_board(session=session, slug="soc").id
        deleted = delete_board(session=session, board_id=board_id)
        session.commit()
    assert deleted["boardchange"] == 1
    assert entries(history_db) == []
    with Session(history_db) as session:  # the guard is back for the next Board's history
        board = get_or_create_board(
            session=session, slug="next", name="Next", now=NOW, timezone="Europe/London"
        )
        record_board_change(session=session, board_id=board.id, at=NOW, by=None,
                            what="settings", details="name: B → C")  # fmt: skip
        session.commit()
    with pytest.raises(DBAPIError, match="append-only"), history_db.begin() as connection:
        connection.execute(text("DELETE FROM boardchange"))


# --- the messages after an extension show the new closing day ----------------------------------


def test_after_an_extension_the_reminder_shows_the_new_closing_day(console):
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    courier = FakeCourier()
    sender = PrioritySender(console.engine, {courier.channel: courier}, lease=timedelta(0))
    invited = sender.run_pass(NOW).sent
    assert invited > 0
    assert all("Fri 5 Feb 2027" in m.reply.hint for m in courier.sent)
    reply = ok(console, CHAIR, "priorities extend closes=12/2/2027", TOMORROW)
    assert reply.notice.endswith(
        "Invitations already sent are being updated with the new closing day."
    )
    assert sender.run_pass(EXTENDED_REMINDER).sent == invited
    reminders = courier.sent[invited:]
    assert reminders and all("It closes Fri 12 Feb 2027" in m.reply.text for m in reminders)
    assert not any("5 Feb" in m.reply.text for m in reminders)


def test_an_extension_before_any_invitation_went_says_nothing_of_them(console):
    ok(console, SECRETARIAT, "priorities open closes=5/2/2027")
    reply = ok(console, CHAIR, "priorities extend closes=12/2/2027", TOMORROW)
    assert reply.notice == "Partners who have not answered are reminded Thu 11 Feb 2027 09:00."
