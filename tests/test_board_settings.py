"""The Board's own settings: one time zone for everything, set by the secretariat; the
environment only gives a new Board its first values."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.cli.console import Console
from bot.config import load_settings
from bot.plain_text import render_text
from bot.setup import ensure_board
from bot.slack.render.blocks import slack_message
from bot.worker import dry_run
from handlers.meetings.reminders import plan_reminders
from handlers.register.forms import Target, add_note
from handlers.run import run_use_case
from models.boards import get_board
from models.db import make_engine
from models.migrate import downgrade, upgrade
from models.tables import Board
from tests.conftest import (
    CHAIR,
    COLP,
    DEPUTY,
    LONDON,
    NOW,
    PG_URL,
    SECRETARIAT,
    fresh_postgres_database,
)
from tests.reply_fixtures import strings

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
GOOD_VALUES = ('name="Renamed"', "reminders=3", "at=07:00", "timezone=Europe/Dublin")


def board_row(engine) -> Board:
    with Session(engine) as session:
        return get_board(session=session, slug="soc")


def settings_of(board: Board) -> tuple:
    return (board.name, board.timezone, board.holiday_region, board.reminder_days,
            board.reminder_time, board.summary_channels)  # fmt: skip


def secretariat(console):
    return console.as_user(SECRETARIAT)


# --- the time zone the secretariat sets is the one everything uses ------------------------------


def test_the_boards_time_zone_changes_what_meeting_commands_show(console):
    assert not secretariat(console).ask("meeting add 2/3/2027 10:00").error  # 10:00 UTC in March
    before = strings(console.as_user(COLP).ask("meeting list"))
    assert "Tue 2 Mar 2027 10:00" in before
    reply = secretariat(console).ask("board settings timezone=Asia/Tokyo")
    assert not reply.error, reply.title
    after = console.as_user(COLP).ask("meeting list")
    assert "Tue 2 Mar 2027 19:00" in strings(after)  # the same moment, in Tokyo
    assert "time zone Asia/Tokyo" in console.as_user(COLP).ask("meeting reminders").text
    assert "Tue 2 Mar 2027 19:00" in strings(console.as_user(COLP).ask("meeting next"))


def test_a_new_time_zone_keeps_the_rule_at_its_local_time(console):
    assert not secretariat(console).ask('meeting schedule "second tuesday 10:00"').error
    assert not secretariat(console).ask("board settings timezone=America/New_York").error
    reply = console.as_user(COLP).ask("meeting next")
    assert reply.items[0].title == "Tue 9 Feb 2027 10:00"  # 10:00 in New York now
    assert "Reminder, 1 working day + chair's digest: Mon 8 Feb 2027 09:00" in strings(reply)


def test_the_worker_reminds_at_nine_in_the_boards_zone(console, board_engine):
    assert not secretariat(console).ask("meeting add 2/3/2027 10:00").error
    first_point = datetime(2027, 2, 23, 9, 30, tzinfo=UTC)  # 5 working days before, 09:30 London
    with Session(board_engine) as session:
        london = plan_reminders(session, get_board(session=session, slug="soc"), first_point)
    assert london.due, "due at 09:00 London time"
    assert not secretariat(console).ask("board settings timezone=America/New_York").error
    with Session(board_engine) as session:
        board = get_board(session=session, slug="soc")
        assert not plan_reminders(session, board, first_point).due  # 04:30 in New York
        later = datetime(2027, 2, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York
        assert plan_reminders(session, board, later).due


def test_the_worker_skips_the_boards_own_bank_holidays(console, board_engine, settings):
    assert not secretariat(console).ask("meeting add 30/3/2027 10:00").error
    easter_monday = datetime(2027, 3, 29, 9, 30, tzinfo=UTC)  # 10:30 BST
    # In England Easter Monday is a bank holiday: the last reminder went on Thursday 25 March.
    assert "Thu 25 Mar 2027 09:00" in strings(console.as_user(COLP).ask("meeting next"))
    assert not secretariat(console).ask("board settings holidays=GB-SCT").error
    assert "Mon 29 Mar 2027 09:00" in strings(console.as_user(COLP).ask("meeting next"))
    with Session(board_engine) as session:
        plan = plan_reminders(session, get_board(session=session, slug="soc"), easter_monday)
    assert [p.days_before for p in plan.due.values()] == [1]
    assert "GB-SCT" in console.as_user(COLP).ask("meeting reminders").text
    assert "Mon 29 Mar 2027" in dry_run(board_engine, settings, easter_monday)


def test_replies_are_drawn_in_the_boards_zone_not_the_environments(console):
    assert not secretariat(console).ask("board settings timezone=Asia/Tokyo").error
    reply = console.as_user(COLP).ask("action status A-1")
    assert reply.tz == TOKYO
    facts = [f for i in reply.items for f in i.facts] + [f for x in reply.sections for f in x.facts]
    moments = [f.value for f in facts if isinstance(f.value, datetime)]
    assert moments, "the action shows when it was last updated"
    tokyo = moments[0].astimezone(TOKYO).strftime("%H:%M")
    london = moments[0].astimezone(LONDON).strftime("%H:%M")
    assert tokyo != london
    for drawn in (render_text(reply, LONDON), slack_message(reply, LONDON)["text"]):
        assert tokyo in drawn and london not in drawn


# --- the environment only gives a new Board its first settings ----------------------------------


def test_soc_timezone_and_name_only_set_up_a_new_board(board_engine, settings):
    env = {"DATABASE_URL": settings.database_url, "SOC_TIMEZONE": "Asia/Tokyo",
           "SOC_BOARD_NAME": "Tokyo Board"}  # fmt: skip
    tokyo_settings = load_settings(env)
    ensure_board(board_engine, tokyo_settings, NOW)
    existing = board_row(board_engine)
    assert (existing.timezone, existing.name) == (
        "Europe/London",
        "Serious and Organised Crime Partnership Board",
    )
    other = load_settings({**env, "SOC_BOARD": "kent"})
    ensure_board(board_engine, other, NOW)
    with Session(board_engine) as session:
        kent = get_board(session=session, slug="kent")
        assert (kent.timezone, kent.name) == ("Asia/Tokyo", "Tokyo Board")


def test_soc_timezone_does_not_change_an_existing_boards_replies(board_engine, settings):
    tokyo_settings = load_settings({"DATABASE_URL": settings.database_url,
                                    "SOC_TIMEZONE": "Asia/Tokyo"})  # fmt: skip
    console = Console(board_engine, tokyo_settings, SECRETARIAT, clock=lambda: NOW)
    assert not console.ask("meeting add 2/3/2027 10:00").error  # typed in London time
    reply = console.ask("meeting next")
    assert reply.items[0].title == "Tue 2 Mar 2027 10:00"
    assert "Tue 2 Mar 2027 10:00" in console.run_line("meeting next")


# --- who may change them, and bad values -----------------------------------------------------


@pytest.mark.parametrize("user_id", [CHAIR, DEPUTY, COLP])
def test_only_the_secretariat_changes_the_settings(console, board_engine, user_id):
    before = settings_of(board_row(board_engine))
    reply = console.as_user(user_id).ask("board settings timezone=Asia/Tokyo")
    assert reply.error
    assert reply.title == "Only the secretariat can change the Board's settings."
    assert settings_of(board_row(board_engine)) == before
    assert not console.as_user(user_id).ask("board").error  # but everyone may look


@pytest.mark.parametrize(
    "option, said",
    [
        ("timezone=Europe/Londres", "“Europe/Londres” is not a time zone."),
        ("timezone=../../etc/passwd", "is not a time zone."),
        ("holidays=GB-XYZ", "is not a holiday region of GB"),
        ("holidays=Narnia", "is not a holiday region"),
        ("at=25:00", "“25:00” is not a time."),
        ("reminders=0,30", "is not a list of working days before the meeting."),
        ('name=" "', "The Board's name cannot be empty."),
        ("summary=C1,a<b", "is not a channel."),
        ("colour=blue", "Unknown option “colour=”."),
    ],
)
def test_a_bad_value_is_explained_and_nothing_is_written(console, board_engine, option, said):
    before = settings_of(board_row(board_engine))
    # Good values beside the bad one are not saved either.
    good = [g for g in GOOD_VALUES if g.split("=")[0] != option.split("=")[0]]
    reply = secretariat(console).ask(f"board settings {' '.join(good)} {option}")
    assert reply.error
    assert said in reply.title, reply.title
    assert settings_of(board_row(board_engine)) == before


def test_settings_without_options_say_how(console):
    reply = secretariat(console).ask("board settings")
    assert reply.error and "name=value" in reply.title
    assert "timezone=" in reply.hint


def test_summary_channels_take_mentions_and_none_clears_them(console, board_engine):
    reply = secretariat(console).ask("board settings summary=<#C0AB|soc-board>,C0AB,C0CD")
    assert not reply.error, reply.title
    assert board_row(board_engine).summary_channels == ["slack:C0AB", "slack:C0CD"]
    assert not secretariat(console).ask("board settings summary=none").error
    assert board_row(board_engine).summary_channels == []


def test_the_same_values_again_change_nothing(console):
    reply = secretariat(console).ask("board settings timezone=Europe/London holidays=GB-ENG")
    assert not reply.error and reply.title == "Nothing changed"


def test_each_change_is_logged_with_who_made_it(console, caplog):
    caplog.set_level("INFO", logger="handlers.boards.settings")
    assert not secretariat(console).ask("board settings timezone=Europe/Dublin at=08:00").error
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "setting timezone changed by member" in logged
    assert "'Europe/London' -> 'Europe/Dublin'" in logged
    assert "setting reminder_time changed" in logged


# --- the migration moves the schedule's settings onto the Board and back ------------------------


def _migration_round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO board (id, slug, name, timezone, created_at, register_version, "
                "history_head) VALUES (1, 'soc', 'SOC', 'Europe/London', :now, 0, ''), "
                "(2, 'kent', 'Kent', 'Europe/London', :now, 0, '')"
            ), {"now": NOW.replace(tzinfo=None)})  # fmt: skip
            connection.execute(text(
                "INSERT INTO meetingschedule (board_id, rule, meeting_time, timezone, "
                "reminder_days, reminder_time, holiday_region, updated_at) VALUES "
                "(1, 'FREQ=MONTHLY;BYDAY=+2TU', '10:00', 'Europe/Dublin', '3,1', '08:30', "
                "'GB-SCT', :now)"
            ), {"now": NOW.replace(tzinfo=None)})  # fmt: skip
        upgrade(engine, "0008")
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT slug, timezone, reminder_days, reminder_time, holiday_region "
                "FROM board ORDER BY id"
            )).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [
            ("soc", "Europe/Dublin", "3,1", "08:30", "GB-SCT"),
            ("kent", "Europe/London", "5,1", "09:00", "GB-ENG"),
        ]
        downgrade(engine, "0007")
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT timezone, reminder_days, reminder_time, holiday_region FROM meetingschedule"
            )).one()  # fmt: skip
        assert tuple(row) == ("Europe/Dublin", "3,1", "08:30", "GB-SCT")
    finally:
        engine.dispose()


def test_the_migration_moves_the_schedules_settings_to_the_board_and_back(tmp_path):
    _migration_round_trip(f"sqlite:///{tmp_path / 'migrate.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs SOC_TEST_POSTGRES_URL")
def test_the_migration_round_trip_on_postgresql():
    with fresh_postgres_database("soc_board_settings") as url:
        _migration_round_trip(url)


def test_a_forms_outcome_is_drawn_in_the_boards_zone(console, board_engine):
    assert not secretariat(console).ask("board settings timezone=Asia/Tokyo").error
    item = console.as_user(COLP).ask("action status A-1").items[0]
    target = Target(item.ref, item.version)
    outcome = run_use_case(engine=board_engine, board_slug="soc", user_id=COLP, now=NOW,
                           use_case=lambda s, ctx: add_note(s, ctx, target, "checked"))  # fmt: skip
    assert not outcome.error
    assert outcome.reply.tz == TOKYO
