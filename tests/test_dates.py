import calendar
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.text.dates import (
    ACCEPTED_DATE_FORMS,
    DateParseError,
    format_uk_date,
    parse_user_date,
    parse_user_datetime,
)

TODAY = date(2026, 11, 29)  # a Sunday
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse_error(text: str, today: date = TODAY) -> str:
    with pytest.raises(DateParseError) as info:
        parse_user_date(text, today=today)
    return str(info.value)


def datetime_error(text: str, now: datetime = NOW) -> str:
    with pytest.raises(DateParseError) as info:
        parse_user_datetime(text, now=now, tz=LONDON)
    return str(info.value)


# --- parse_user_date: accepted forms -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/02/2027", date(2027, 2, 1)),
        ("1/2/2027", date(2027, 2, 1)),
        ("1/2/27", date(2027, 2, 1)),
        ("1-2-2027", date(2027, 2, 1)),
        ("1.2.2027", date(2027, 2, 1)),
        ("31/12/2099", date(2099, 12, 31)),
        ("29/02/2028", date(2028, 2, 29)),
        ("1/1/00", date(2000, 1, 1)),
    ],
)
def test_numeric_date_is_day_first(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2027-01-31", date(2027, 1, 31)), ("2027-1-5", date(2027, 1, 5))],
)
def test_iso_date_is_year_first(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31 Jan 2027",
        "31 January 2027",
        "31st Jan 2027",
        "31 jan 2027",
        "31 JANUARY 2027",
        "Jan 31 2027",
        "January 31st, 2027",
        "31 Jan, 2027",
        "31 Jan 27",
    ],
)
def test_day_and_month_name_with_year(text: str) -> None:
    assert parse_user_date(text, today=TODAY) == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 Sept 2027", date(2027, 9, 3)),
        ("3 Sep 2027", date(2027, 9, 3)),
        ("3 September 2027", date(2027, 9, 3)),
        ("2nd Feb 2027", date(2027, 2, 2)),
        ("23rd May 2027", date(2027, 5, 23)),
    ],
)
def test_month_names_and_ordinals(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 Jan", date(2027, 1, 31)),
        ("jan 31", date(2027, 1, 31)),
        ("29 Nov", date(2026, 11, 29)),  # today counts
        ("28 Nov", date(2027, 11, 28)),  # yesterday rolls to next year
        ("1 Dec", date(2026, 12, 1)),
        ("29 Feb", date(2028, 2, 29)),  # next leap year
    ],
)
def test_month_name_without_year_rolls_forward(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/02", date(2027, 2, 1)),
        ("29/11", date(2026, 11, 29)),
        ("28.11", date(2027, 11, 28)),
        ("1-12", date(2026, 12, 1)),
    ],
)
def test_numeric_day_month_without_year_rolls_forward(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 30)),
        ("friday", date(2026, 12, 4)),
        ("fri", date(2026, 12, 4)),
        ("Next Friday", date(2026, 12, 4)),
        ("monday", date(2026, 11, 30)),
        ("tues", date(2026, 12, 1)),
        ("thurs", date(2026, 12, 3)),
        ("in 3 days", date(2026, 12, 2)),
        ("in 1 day", date(2026, 11, 30)),
        ("in 2 weeks", date(2026, 12, 13)),
        ("in 1 month", date(2026, 12, 29)),
        ("in 3 months", date(2027, 2, 28)),  # clamped to the end of February
        ("end of month", date(2026, 11, 30)),
        ("End of the month", date(2026, 11, 30)),
    ],
)
def test_relative_forms(text: str, expected: date) -> None:
    assert parse_user_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["sunday", "sun", "next sunday"])
def test_weekday_is_strictly_after_today(text: str) -> None:
    assert parse_user_date(text, today=TODAY) == TODAY + timedelta(weeks=1)


def test_next_weekday_means_the_coming_one() -> None:
    assert parse_user_date("next friday", today=TODAY) == parse_user_date("friday", today=TODAY)


@pytest.mark.parametrize(
    "text", ["  31 Jan 2027  ", "31 Jan 2027.", "31/1/2027.", " 31  Jan\t2027 "]
)
def test_whitespace_and_trailing_full_stop_are_ignored(text: str) -> None:
    assert parse_user_date(text, today=TODAY) == date(2027, 1, 31)


def test_formatted_reply_date_can_be_typed_back() -> None:
    assert parse_user_date("Sun 31 Jan 2027", today=TODAY) == date(2027, 1, 31)


def test_wrong_weekday_prefix_is_rejected() -> None:
    message = parse_error("Fri 31 Jan 2027")
    assert "Sunday, not a Friday" in message


# --- parse_user_date: errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("13/13/2027", "there is no month 13"),
        ("02/30/2027", "there is no month 30"),
        ("30/02/2027", "February 2027 has no day 30"),
        ("29/02/2027", "February 2027 has no day 29"),
        ("31/04/2027", "April 2027 has no day 31"),
        ("0/1/2027", "has no day 0"),
        ("1/0/2027", "there is no month 0"),
        ("31/4", "April has no day 31"),
    ],
)
def test_invalid_numeric_date_explains_uk_order(text: str, reason: str) -> None:
    message = parse_error(text)
    assert "day/month/year" in message
    assert "UK" in message
    assert reason in message
    assert f'"{text}"' in message


def test_us_order_date_suggests_the_swap() -> None:
    message = parse_error("01/13/2027")
    assert "day/month/year" in message
    assert "did you mean 13/1/2027?" in message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2027-13-01", "there is no month 13"),
        ("2027-02-29", "February 2027 has no day 29"),
    ],
)
def test_invalid_iso_date_explains_year_first(text: str, reason: str) -> None:
    message = parse_error(text)
    assert "year-month-day" in message
    assert reason in message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ".",
        "soon",
        "32 Jan",
        "30 Feb",
        "Febtober 3",
        "1/2/3/4",
        "1/2-2027",
        "31 Jan lol",
        "next",
        "next month",
        "in 2 fortnights",
        "in a week",
        "31",
        "2027",
        "1/2/202",
        "12/25/2027 or thereabouts",
    ],
)
def test_unreadable_text_quotes_input_and_lists_forms(text: str) -> None:
    message = parse_error(text)
    assert f'"{text.strip()}"' in message
    assert ACCEPTED_DATE_FORMS in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        "1/1/1999",
        "1/1/2101",
        "2101-01-01",
        "1999-12-31",
        "31 Jan 1999",
        "in 1000 months",
        "in 99999999999999999999 weeks",
    ],
)
def test_years_outside_2000_to_2100_are_rejected(text: str) -> None:
    message = parse_error(text)
    assert "2000 and 2100" in message
    assert ACCEPTED_DATE_FORMS in message


def test_long_junk_is_shortened_to_one_line() -> None:
    message = parse_error("blah\n" * 100)
    assert "\n" not in message
    assert len(message) < 400


def test_accepted_forms_is_one_line_and_each_example_parses() -> None:
    assert "\n" not in ACCEPTED_DATE_FORMS
    for example in ACCEPTED_DATE_FORMS.split(", "):
        parse_user_date(example, today=TODAY)


# --- format_uk_date ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2027, 1, 31), "Sun 31 Jan 2027"),
        (date(2026, 12, 4), "Fri 4 Dec 2026"),
        (date(2027, 9, 1), "Wed 1 Sep 2027"),
    ],
)
def test_format_uk_date(d: date, expected: str) -> None:
    assert format_uk_date(d) == expected


# --- parse_user_datetime -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/1/2027 14:30", utc(2027, 1, 5, 14, 30)),
        ("5/1/2027 2:30pm", utc(2027, 1, 5, 14, 30)),
        ("5/1/2027 2:30 PM", utc(2027, 1, 5, 14, 30)),
        ("5/1/2027 2pm", utc(2027, 1, 5, 14, 0)),
        ("5/1/2027 09:00", utc(2027, 1, 5, 9, 0)),
        ("5/1/2027 9.30am", utc(2027, 1, 5, 9, 30)),
        ("5/1/2027 at 09:00", utc(2027, 1, 5, 9, 0)),
        ("5 Jan 2027 at 9am", utc(2027, 1, 5, 9, 0)),
        ("2027-01-05T09:00", utc(2027, 1, 5, 9, 0)),
        ("2027-01-05 09:00", utc(2027, 1, 5, 9, 0)),
        ("5/1/2027 12am", utc(2027, 1, 5, 0, 0)),
        ("5/1/2027 12pm", utc(2027, 1, 5, 12, 0)),
        ("5/1/2027 00:00", utc(2027, 1, 5, 0, 0)),
        ("tomorrow at 2pm", utc(2026, 11, 30, 14, 0)),
        ("friday 10:00.", utc(2026, 12, 4, 10, 0)),
        ("31 Jan 17:45", utc(2027, 1, 31, 17, 45)),
    ],
)
def test_datetime_forms(text: str, expected: datetime) -> None:
    result = parse_user_datetime(text, now=NOW, tz=LONDON)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-05 09:00", utc(2027, 1, 5, 9, 0)),  # GMT
        ("2027-07-01 09:00", utc(2027, 7, 1, 8, 0)),  # BST
        ("2027-03-28 00:59", utc(2027, 3, 28, 0, 59)),  # just before the spring gap
        ("2027-03-28 02:00", utc(2027, 3, 28, 1, 0)),  # just after it
        ("2027-10-31 01:30", utc(2027, 10, 31, 0, 30)),  # repeated hour: first (BST) one
        ("2027-10-31 02:30", utc(2027, 10, 31, 2, 30)),
    ],
)
def test_datetime_is_local_wall_time_returned_in_utc(text: str, expected: datetime) -> None:
    assert parse_user_datetime(text, now=NOW, tz=LONDON) == expected


def test_ambiguous_autumn_time_takes_first_occurrence() -> None:
    result = parse_user_datetime("31/10/2027 01:30", now=NOW, tz=LONDON)
    assert result == utc(2027, 10, 31, 0, 30)
    assert result.astimezone(LONDON).utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text", ["2027-03-28 01:30", "28/3/2027 1am", "28 Mar 2027 01:59"])
def test_time_skipped_by_spring_clock_change_is_rejected(text: str) -> None:
    message = datetime_error(text)
    assert "clocks" in message
    assert "Sun 28 Mar 2027" in message


def test_datetime_relative_forms_use_now_in_the_given_timezone() -> None:
    # 23:30 UTC on 30 June is already 1 July in London.
    late = datetime(2027, 6, 30, 23, 30, tzinfo=UTC)
    assert parse_user_datetime("today 09:00", now=late, tz=LONDON) == utc(2027, 7, 1, 8, 0)
    assert parse_user_datetime("tomorrow 9am", now=late, tz=LONDON) == utc(2027, 7, 2, 8, 0)


@pytest.mark.parametrize("text", ["5/1/2027", "tomorrow", "31 Jan", "2027-01-05"])
def test_datetime_without_time_asks_for_one(text: str) -> None:
    message = datetime_error(text)
    assert "needs a time" in message
    assert '"5/1/2027 10:00"' in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tomorrow 25:00", "there is no hour 25"),
        ("tomorrow 10:75", "there is no minute 75"),
        ("tomorrow 13pm", "13pm isn't a time"),
        ("tomorrow 0am", "0am isn't a time"),
    ],
)
def test_impossible_time_is_rejected(text: str, problem: str) -> None:
    message = datetime_error(text)
    assert problem in message
    assert f'"{text}"' in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13/13/2027 10:00", "day/month/year"),
        ("blah", ACCEPTED_DATE_FORMS),
        ("tomorrow 9", "add a time"),
        ("31 Jan lol 10:00", ACCEPTED_DATE_FORMS),
    ],
)
def test_datetime_with_unreadable_date_explains(text: str, expected: str) -> None:
    assert expected in datetime_error(text)


def test_datetime_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_user_datetime("tomorrow 9am", now=datetime(2026, 11, 29, 12), tz=LONDON)


# --- properties ----------------------------------------------------------------------------

date_ish = st.text(alphabet="0123456789/.-:, adefhijklmnoprstuvwy", max_size=25)
any_text = st.one_of(st.text(), date_ish)
in_range = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
today_in_range = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(text=any_text, today=today_in_range)
def test_parse_user_date_returns_in_range_date_or_raises_date_parse_error(
    text: str, today: date
) -> None:
    try:
        result = parse_user_date(text, today=today)
    except DateParseError as err:
        assert "\n" not in str(err)
    else:
        assert type(result) is date
        assert 2000 <= result.year <= 2100


@given(text=any_text)
def test_parse_user_datetime_returns_utc_or_raises_date_parse_error(text: str) -> None:
    try:
        result = parse_user_datetime(text, now=NOW, tz=LONDON)
    except DateParseError as err:
        assert "\n" not in str(err)
    else:
        assert result.utcoffset() == timedelta(0)


@given(d=in_range)
def test_written_dates_round_trip(d: date) -> None:
    for text in (f"{d.day}/{d.month}/{d.year}", d.isoformat(), format_uk_date(d)):
        assert parse_user_date(text, today=TODAY) == d


@given(d=in_range, today=today_in_range)
def test_date_without_year_is_the_next_occurrence(d: date, today: date) -> None:
    month = format_uk_date(d).split()[2]
    result = parse_user_date(f"{d.day} {month}", today=today)
    assert (result.day, result.month) == (d.day, d.month)
    assert today <= result
    # No earlier occurrence on or after today was skipped.
    for year in range(today.year, result.year):
        if (d.month, d.day) != (2, 29) or calendar.isleap(year):
            assert date(year, d.month, d.day) < today


def test_module_is_pure() -> None:
    source = (Path(__file__).parents[1] / "handlers" / "text" / "dates.py").read_text()
    assert not re.search(r"\.(now|today|utcnow)\(", source)
    assert not re.search(r"^\s*(from|import) (slack|apscheduler|bot)\b", source, re.M)
    assert "fuzzy" not in source
