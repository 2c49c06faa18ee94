"""The meeting calendar: rules in words or RRULE, working days, the meetings made, and changes."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from bot.cli.main import main
from handlers.errors import CommandError
from handlers.meetings.commands import top_up_meetings
from handlers.meetings.rules import (
    MeetingRule,
    local_to_utc,
    occurrences,
    parse_meeting_rule,
    parse_reminder_days,
    reminder_points,
)
from handlers.run import OPERATOR_NAME, run_command
from handlers.text.workdays import is_working_day, parse_region, working_days_before
from models.boards import get_board
from models.ledger import NOTHING, REMINDER, LedgerKey, insert_new, new_row
from models.schedule import meetings_between
from models.tables import Meeting, Member
from tests.conftest import (
    CHAIR,
    COLP,
    LONDON,
    NOW,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    member_id,
)

TODAY = date(2027, 1, 20)


def rule(text: str) -> MeetingRule:
    """A rule parsed on TODAY."""
    return parse_meeting_rule(text, today=TODAY)


def london(*args: int) -> datetime:
    """A London wall time as aware UTC."""
    return local_to_utc(datetime(*args), LONDON)


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected, at",
    [
        ("second tuesday 10:00", "FREQ=MONTHLY;BYDAY=+2TU", "10:00"),
        ("last thursday 14:30", "FREQ=MONTHLY;BYDAY=-1TH", "14:30"),
        ("first wednesday 9am", "FREQ=MONTHLY;BYDAY=+1WE", "09:00"),
        ("The 2nd Tuesday of every month at 2:30pm", "FREQ=MONTHLY;BYDAY=+2TU", "14:30"),
        ("FREQ=MONTHLY;BYDAY=+1WE;BYHOUR=9", "FREQ=MONTHLY;BYDAY=+1WE", "09:00"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1TH;BYHOUR=14;BYMINUTE=30", "FREQ=MONTHLY;BYDAY=-1TH", "14:30"),
        ("FREQ=MONTHLY;BYDAY=+2TU 10:00", "FREQ=MONTHLY;BYDAY=+2TU", "10:00"),
        ("freq=monthly;byday=-1fr;byhour=10", "FREQ=MONTHLY;BYDAY=-1FR", "10:00"),
    ],
)
def test_rules_in_words_and_rrules(text, expected, at):
    parsed = rule(f'"{text}"')
    assert parsed.rule == expected
    assert f"{parsed.at:%H:%M}" == at


def test_a_rule_describes_itself():
    assert rule("last thursday 14:30").describe() == "the last Thursday of every month at 14:30"
    weekly = rule("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9")
    assert weekly.describe() == "FREQ=WEEKLY;BYDAY=TU at 09:00"


@pytest.mark.parametrize(
    "text, says",
    [
        ("second tuesday", "can't read"),
        ("fifth friday 10:00", "can't read"),
        ("second funday 10:00", "can't read"),
        ("second tuesday 25:00", "not a time"),
        ("FREQ=MONTHLY;BYHOUR=9", "needs BYDAY"),
        ("FREQ=WEEKLY;BYHOUR=9", "weekly rule needs BYDAY"),
        ("FREQ=WEEKLY;BYDAY=+2TU;BYHOUR=9", "plain days"),
        ("FREQ=DAILY;BYHOUR=9", "MONTHLY, WEEKLY or YEARLY"),
        ("FREQ=MONTHLY;BYDAY=+2TU", "say the meeting time"),
        ("FREQ=MONTHLY;BYDAY=+2TU;BYHOUR=10 10:00", "give the time once"),
        ("FREQ=MONTHLY;BYDAY=+2TU;COUNT=3;BYHOUR=10", "COUNT is not supported"),
        ("FREQ=MONTHLY;BYDAY=+2TU;UNTIL=20270101;BYHOUR=10", "UNTIL is not supported"),
        ("FREQ=MONTHLY;BYDAY=+9TU;BYHOUR=10", "BYDAY value"),
        ("FREQ=MONTHLY;BYMONTHDAY=40;BYHOUR=10", "BYMONTHDAY values"),
        ("FREQ=MONTHLY;BYDAY=+2TU;BYHOUR=10;BYMINUTE=99", "BYMINUTE must be"),
        ("FREQ=MONTHLY;BYDAY=+2TU;BYHOUR=10;BYHOUR=11", "given twice"),
        ("FREQ=MONTHLY;BYDAY;BYHOUR=10", "NAME=VALUE"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=10", "never happens"),
        ("", "Say when"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(text, says):
    with pytest.raises(CommandError) as refused:
        rule(text)
    assert says in refused.value.message


def test_interval_zero_is_refused_rather_than_looping_for_ever():
    refused: list[CommandError] = []

    def parse() -> None:
        try:
            rule("FREQ=MONTHLY;INTERVAL=0;BYDAY=+1TU;BYHOUR=9")
        except CommandError as error:
            refused.append(error)

    parser = threading.Thread(target=parse, daemon=True)
    parser.start()
    parser.join(10)  # only a bound, so that a loop fails the test instead of hanging it
    assert not parser.is_alive(), "the rule was still being expanded"
    assert len(refused) == 1 and "INTERVAL" in refused[0].message


def test_occurrences_keep_local_time_across_the_clock_changes():
    found = occurrences(rule("second tuesday 10:00"), LONDON, TODAY, NOW, NOW + timedelta(400))
    assert {m.astimezone(LONDON).hour for m in found} == {10}
    utc_hours = {m.date(): m.hour for m in found}
    assert utc_hours[date(2027, 3, 9)] == 10  # GMT
    assert utc_hours[date(2027, 4, 13)] == 9  # BST
    assert utc_hours[date(2027, 11, 9)] == 10  # GMT again


def test_a_meeting_in_the_hour_the_clocks_skip_moves_an_hour_on():
    odd = rule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;BYHOUR=1;BYMINUTE=30")
    [moment] = occurrences(odd, LONDON, TODAY, NOW, NOW + timedelta(100))
    assert moment.astimezone(LONDON).replace(tzinfo=None) == datetime(2027, 3, 28, 2, 30)


def test_interval_two_counts_from_the_day_the_rule_was_set():
    every_other = rule("FREQ=MONTHLY;INTERVAL=2;BYDAY=+2TU;BYHOUR=10")
    found = occurrences(every_other, LONDON, TODAY, NOW, NOW + timedelta(200))
    assert [m.date() for m in found] == [
        date(2027, 3, 9),
        date(2027, 5, 11),
        date(2027, 7, 13),
    ]


# --- working days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meeting, count, expected",
    [
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
        (date(2027, 3, 30), 1, date(2027, 3, 25)),
        (date(2027, 3, 30), 5, date(2027, 3, 19)),
        (date(2027, 4, 1), 2, date(2027, 3, 30)),
        # Christmas 2026: Boxing Day is a Saturday, so Monday 28 December is the holiday.
        (date(2026, 12, 29), 1, date(2026, 12, 24)),
        (date(2026, 12, 30), 1, date(2026, 12, 29)),
        # New Year 2027 (Friday), seen from the first Tuesday of January.
        (date(2027, 1, 5), 1, date(2027, 1, 4)),
        (date(2027, 1, 5), 5, date(2026, 12, 24)),
        # The late May bank holiday, 31 May 2027.
        (date(2027, 6, 1), 1, date(2027, 5, 28)),
        (date(2027, 6, 1), 5, date(2027, 5, 24)),
        # A plain week.
        (date(2027, 2, 9), 5, date(2027, 2, 2)),
    ],
)
def test_working_days_before_skip_weekends_and_bank_holidays(meeting, count, expected):
    assert working_days_before(meeting, count, "GB-ENG") == expected


def test_holidays_are_those_of_the_region():
    assert not is_working_day(date(2027, 1, 4), "GB-SCT")  # 2 January's substitute day
    assert is_working_day(date(2027, 1, 4), "GB-ENG")
    assert working_days_before(date(2027, 1, 5), 1, "GB-SCT") == date(2026, 12, 31)


def test_regions_are_checked():
    assert parse_region("gb-sct") == "GB-SCT"
    for bad in ("GB-XYZ", "ZZ"):
        with pytest.raises(ValueError, match="holiday region"):
            parse_region(bad)


@pytest.mark.parametrize("text", ["0", "21", "a,b", "", "1,2,3,4,5,6"])
def test_reminder_days_are_checked(text):
    with pytest.raises(CommandError):
        parse_reminder_days(text)


def test_reminder_days_are_sorted_and_deduplicated():
    assert parse_reminder_days("1, 5,5") == [5, 1]


def test_reminders_are_at_nine_london_time_in_gmt_and_bst():
    from datetime import time

    # Tuesday 30 March 2027 (BST) is reminded on Thursday 25 March (still GMT) and Friday 19th.
    before_easter = reminder_points(london(2027, 3, 30, 10), [5, 1], time(9), LONDON, "GB-ENG")
    assert [p.at for p in before_easter] == [
        datetime(2027, 3, 19, 9, tzinfo=UTC),
        datetime(2027, 3, 25, 9, tzinfo=UTC),
    ]
    assert [p.last for p in before_easter] == [False, True]
    # Tuesday 2 November 2027 (GMT): the 5-day point is in BST, the 1-day point in GMT.
    autumn = reminder_points(london(2027, 11, 2, 10), [5, 1], time(9), LONDON, "GB-ENG")
    assert [p.at for p in autumn] == [
        datetime(2027, 10, 26, 8, tzinfo=UTC),
        datetime(2027, 11, 1, 9, tzinfo=UTC),
    ]
    # Wednesday 31 March 2027, in the week the clocks go forward (Sunday 28th) and after Easter.
    spring = reminder_points(london(2027, 3, 31, 10), [5, 1], time(9), LONDON, "GB-ENG")
    assert [p.at for p in spring] == [
        datetime(2027, 3, 22, 9, tzinfo=UTC),
        datetime(2027, 3, 30, 8, tzinfo=UTC),
    ]
    everything = before_easter + autumn + spring
    assert {p.at.astimezone(LONDON).hour for p in everything} == {9}
    assert [p.key for p in autumn] == ["2027-10-26", "2027-11-01"]


# --- the meetings made from the rule ------------------------------------------------------------


def meetings(engine, include_cancelled: bool = True) -> list[Meeting]:
    """The Board's meetings after NOW."""
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        return meetings_between(
            session=session,
            board_id=board.id,
            start=NOW,
            end=NOW + timedelta(days=800),
            include_cancelled=include_cancelled,
        )


def local_days(found: list[Meeting]) -> list[date]:
    """Local dates of meetings."""
    return [m.starts_at.astimezone(LONDON).date() for m in found]


@pytest.fixture
def secretariat(console):
    """The console as the secretariat, with the second-Tuesday rule set."""
    console.as_user(SECRETARIAT)
    assert not console.ask('meeting schedule "second tuesday 10:00"').error
    return console


def test_setting_the_rule_makes_twelve_months_of_meetings(secretariat):
    found = meetings(secretariat.engine)
    assert len(found) == 12
    assert local_days(found)[:3] == [date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13)]
    assert {m.origin for m in found} == {"rule"}
    assert all(m.occurrence == m.starts_at for m in found)


def test_setting_the_same_rule_again_changes_nothing(secretariat):
    ids = [m.id for m in meetings(secretariat.engine)]
    reply = secretariat.ask("meeting schedule second tuesday 10:00")
    assert reply.text.startswith("0 meetings added")
    assert [m.id for m in meetings(secretariat.engine)] == ids


def test_a_new_rule_keeps_moved_cancelled_and_hand_added_meetings(secretariat):
    assert not secretariat.ask("meeting move 9/3/2027 to 10/3/2027 11:00").error
    assert not secretariat.ask("meeting cancel 13/4/2027").error
    assert not secretariat.ask("meeting add 20/4/2027 15:00").error
    reply = secretariat.ask('meeting schedule "third wednesday 10:00"')
    assert "removed" in reply.text
    found = meetings(secretariat.engine)
    days = local_days(found)
    assert date(2027, 2, 9) not in days  # untouched second-Tuesday meetings go
    assert date(2027, 3, 10) in days  # moved: kept
    assert date(2027, 4, 13) in days  # cancelled: kept, still cancelled
    assert date(2027, 4, 20) in days  # added by hand: kept
    assert date(2027, 2, 17) in days  # third Wednesdays come
    cancelled = next(m for m in found if local_days([m]) == [date(2027, 4, 13)])
    assert cancelled.cancelled
    # Back to second Tuesdays: the cancelled one stays cancelled, the moved one is not doubled.
    secretariat.ask('meeting schedule "second tuesday 10:00"')
    again = meetings(secretariat.engine)
    assert date(2027, 3, 9) not in local_days(again)
    assert [m.cancelled for m in again if local_days([m]) == [date(2027, 4, 13)]] == [True]


def test_a_dropped_meeting_that_was_reminded_is_cancelled_not_deleted(secretariat):
    engine = secretariat.engine
    first = meetings(engine)[0]
    with Session(engine) as session:
        key = LedgerKey(first.id, "2027-02-02", member_id(session, COLP), REMINDER)
        insert_new(
            session=session, rows=[new_row(key, board_id=first.board_id, status=NOTHING, now=NOW)]
        )
        session.commit()
    secretariat.ask('meeting schedule "third wednesday 10:00"')
    with Session(engine) as session:
        kept = session.get(Meeting, first.id)
        assert kept.cancelled and kept.note == "no longer in the schedule"


def test_the_horizon_is_topped_up_as_time_passes(secretariat):
    engine = secretariat.engine
    later = NOW + timedelta(days=40)
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug="soc")
        added, dropped = top_up_meetings(session, board, later)
        session.commit()
    assert local_days(added) == [date(2028, 2, 8)]
    assert dropped == []


def test_moving_to_a_time_keeps_the_day(secretariat):
    reply = secretariat.ask("meeting move 9/2/2027 to 2pm")
    assert reply.title == "Moved the meeting to Tue 9 Feb 2027 14:00"


@pytest.mark.parametrize(
    "text, says",
    [
        ("meeting move 10/2/2027 to 11/2/2027 10:00", "no coming meeting on Wed 10 Feb 2027"),
        ("meeting move 9/2/2027 to 1/1/2027 10:00", "has passed"),
        ("meeting move 9/2/2027 to 9/3/2027 10:00", "already a meeting on Tue 9 Mar 2027 10:00"),
        ("meeting move 9/2/2027", "Say which meeting"),
        ("meeting move 9/2/2027 to 11/2/2027", "needs a time"),
        ("meeting cancel 31/02/2027", "February 2027 has no day 31"),
        ("meeting cancel", "Which meeting"),
        ("meeting add 9/3/2027 10:00", "already a meeting"),
        ("meeting add 1/1/2027 10:00", "has passed"),
        ("meeting add 28/3/2027 01:30", "doesn't exist"),
        ("meeting reminders 0 at 09:00", "not a list of working days"),
        ("meeting reminders 5,1 at 25:00", "not a time"),
        ("meeting reminders holidays=GB-XX", "holiday region"),
    ],
)
def test_meeting_changes_explain_what_is_wrong(secretariat, text, says):
    reply = secretariat.ask(text)
    assert reply.error
    assert says in reply.title


def test_cancelled_meetings_cannot_be_cancelled_twice(secretariat):
    assert not secretariat.ask("meeting cancel 9/2/2027").error
    assert "no coming meeting" in secretariat.ask("meeting cancel 9/2/2027").title
    assert secretariat.ask("meeting next").title == "Next meeting: Tue 9 Mar 2027 10:00"


def test_a_cancelled_meeting_can_be_added_back(secretariat):
    secretariat.ask("meeting cancel 9/2/2027")
    assert not secretariat.ask("meeting add 9/2/2027 10:00").error
    assert secretariat.ask("meeting next").title == "Next meeting: Tue 9 Feb 2027 10:00"


def test_holiday_region_is_set_with_the_reminders(secretariat):
    reply = secretariat.ask("meeting reminders holidays=gb-sct")
    assert "GB-SCT bank holidays" in reply.text
    assert "5, 1 working days" in reply.text


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [COLP, OBSERVER])
def test_members_read_the_calendar_but_cannot_change_it(secretariat, user):
    secretariat.as_user(user)
    assert not secretariat.ask("meeting list").error
    assert not secretariat.ask("meeting next").error
    assert not secretariat.ask("meeting reminders").error
    for text in (
        'meeting schedule "last friday 10:00"',
        "meeting cancel 9/2/2027",
        "meeting move 9/2/2027 to 10/2/2027 10:00",
        "meeting add 1/3/2027 10:00",
        "meeting reminders 3,1",
    ):
        reply = secretariat.ask(text)
        assert reply.title.startswith("Only the chair, deputy chair or secretariat"), text
    assert len(meetings(secretariat.engine, include_cancelled=False)) == 12


def test_the_chair_may_change_the_calendar(secretariat):
    assert not secretariat.as_user(CHAIR).ask("meeting cancel 9/2/2027").error


def test_strangers_are_sent_to_the_secretariat(secretariat):
    assert "not on this Board" in secretariat.as_user(STRANGER).ask("meeting next").title


# --- the CLI operator ----------------------------------------------------------------------------


def test_the_cli_operator_has_secretariat_rights_and_is_never_saved(board_engine, settings):
    reply = run_command(
        engine=board_engine,
        board_slug=settings.board_slug,
        user_id="OPERATOR",
        text='meeting schedule "second tuesday 10:00"',
        now=NOW,
        operator=True,
    )
    assert not reply.error, reply.title
    with Session(board_engine) as session:
        names = session.exec(select(Member.display_name)).all()
        assert OPERATOR_NAME not in names
        assert session.exec(select(func.count()).select_from(Meeting)).one() == 12
    refused = run_command(
        engine=board_engine,
        board_slug=settings.board_slug,
        user_id="OPERATOR",
        text="meeting cancel 9/2/2027",
        now=NOW,
    )
    assert refused.error


def test_soc_bot_meeting_runs_the_same_commands(board_engine, database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["meeting", "schedule", "second tuesday 10:00"]) == 0
    out = capsys.readouterr().out
    assert "The Board meets the second Tuesday of every month at 10:00" in out
    assert main(["meeting", "list"]) == 0
    assert "Reminder, 5 working days" in capsys.readouterr().out
    assert main(["meeting", "cancel", "31/2/2027"]) == 1
    assert "has no day 31" in capsys.readouterr().out
