"""Parse dates and times typed by UK users, and format dates for plain-text replies.

Pure functions: the caller always passes `today` / `now`, so nothing here reads the clock.
"""

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta


class DateParseError(ValueError):
    """A date the user typed could not be understood.

    str(err) is a one-line, user-facing explanation.
    """


ACCEPTED_DATE_FORMS = (
    "31/01/2027, 31 Jan 2027, 31 Jan, 2027-01-31, today, tomorrow, friday, next friday, "
    "in 2 weeks, end of month"
)
MIN_YEAR, MAX_YEAR = 2000, 2100

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = {n.lower(): i for i, name in enumerate(_MONTH_NAMES, 1) for n in (name, name[:3])}
_MONTHS["sept"] = 9
_WEEKDAYS = {n.lower(): i for i, name in enumerate(_DAY_NAMES) for n in (name, name[:3])}
_WEEKDAYS.update(tue=1, tues=1, weds=2, thur=3, thurs=3)
# The most days each month can ever have (29 February exists in leap years).
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# re.ASCII everywhere: \d must not match non-ASCII digits such as "٣".
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{4}|\d{2}))?", re.ASCII)
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}|\d{2}))?"
_DAY_MONTH = re.compile(rf"(\d{{1,2}}){_ORD}\s+([a-z]+)\.?{_YEAR}", re.ASCII)
_MONTH_DAY = re.compile(rf"([a-z]+)\.?\s+(\d{{1,2}}){_ORD}{_YEAR}", re.ASCII)
_IN_N = re.compile(r"in\s+(\d+)\s+(day|week|month)s?", re.ASCII)
_WEEKDAY = re.compile(r"(?:next\s+)?([a-z]+)", re.ASCII)
_WEEKDAY_PREFIX = re.compile(r"([a-z]+)\.?,?\s+(.+)", re.ASCII)
_ISO_T = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", re.ASCII)
_WITH_TIME = re.compile(
    r"(?P<date>.+?)(?:\s+at)?\s+(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>am|pm)?",
    re.ASCII,
)
_UK_ORDER = "dates are read day/month/year (UK style), and "
_TIME_EXAMPLE = '"5/1/2027 10:00" or "tomorrow 2pm"'


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower().removesuffix(".").strip()


def _shown(text: str) -> str:
    shown = " ".join(text.split())
    return shown if len(shown) <= 40 else shown[:40] + "…"


def _fail(text: str, reason: str = "") -> DateParseError:
    detail = f": {reason}" if reason else ""
    return DateParseError(
        f'Couldn\'t read "{_shown(text)}" as a date{detail}. Try one of: {ACCEPTED_DATE_FORMS}.'
    )


def _year(digits: str | None) -> int | None:
    if digits is None:
        return None
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _check_day_month(text: str, day: int, month: int, year: int | None, prefix: str) -> None:
    if not 1 <= month <= 12:
        raise _fail(text, f"{prefix}there is no month {month}")
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise _fail(text, f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    last = _MAX_DAYS[month - 1] if year is None else calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        when = _MONTH_NAMES[month - 1] + ("" if year is None else f" {year}")
        raise _fail(text, f"{prefix}{when} has no day {day}")


def _day_month(
    text: str, day: int, month: int, year: int | None, today: date, prefix: str = ""
) -> date:
    _check_day_month(text, day, month, year, prefix)
    if year is not None:
        return date(year, month, day)
    # No year given: the next occurrence on or after today (29 February may be years away).
    for y in range(today.year, today.year + 9):
        if day <= calendar.monthrange(y, month)[1] and date(y, month, day) >= today:
            return date(y, month, day)
    raise _fail(text)


def _numeric(text: str, m: re.Match[str], today: date) -> date:
    day, month, year = int(m[1]), int(m[3]), _year(m[4])
    # Looks like US month/day order: suggest the swap, but only if that is a real date.
    if (
        month > 12
        and 1 <= day <= 12
        and year
        and MIN_YEAR <= year <= MAX_YEAR
        and month <= calendar.monthrange(year, day)[1]
    ):
        raise _fail(
            text, f"{_UK_ORDER}there is no month {month} (did you mean {month}/{day}/{year}?)"
        )
    return _day_month(text, day, month, year, today, _UK_ORDER)


def _relative(s: str, today: date) -> date | None:
    if s == "today":
        return today
    if s == "tomorrow":
        return today + timedelta(days=1)
    if s in ("end of month", "end of the month"):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if (m := _WEEKDAY.fullmatch(s)) and m[1] in _WEEKDAYS:
        # "next friday" is ambiguous in UK usage (this coming one, or the one after);
        # we take the coming one, the same as plain "friday": always strictly after today.
        return today + timedelta(days=(_WEEKDAYS[m[1]] - today.weekday() - 1) % 7 + 1)
    if m := _IN_N.fullmatch(s):
        return today + relativedelta(**{f"{m[2]}s": int(m[1])})
    return None


def _parse(text: str, s: str, today: date) -> date:
    if m := _ISO.fullmatch(s):
        prefix = "ISO dates are read year-month-day, and "
        return _day_month(text, int(m[3]), int(m[2]), int(m[1]), today, prefix)
    if m := _NUMERIC.fullmatch(s):
        return _numeric(text, m, today)
    if (m := _DAY_MONTH.fullmatch(s)) and m[2] in _MONTHS:
        return _day_month(text, int(m[1]), _MONTHS[m[2]], _year(m[3]), today)
    if (m := _MONTH_DAY.fullmatch(s)) and m[1] in _MONTHS:
        return _day_month(text, int(m[2]), _MONTHS[m[1]], _year(m[3]), today)
    try:
        relative = _relative(s, today)
    except (OverflowError, ValueError):
        raise _fail(text, f"dates must be between {MIN_YEAR} and {MAX_YEAR}") from None
    if relative is not None:
        return relative
    raise _fail(text)


def parse_user_date(text: str, *, today: date) -> date:
    """Parse a date typed by a UK user (day first), resolving relative forms against `today`."""
    s = _normalise(text)
    said = None
    # "Sun 31 Jan 2027" (our own reply format) is fine, but only if the weekday is right.
    # No weekday abbreviation is also a month name, so stripping it is never ambiguous.
    if (m := _WEEKDAY_PREFIX.fullmatch(s)) and m[1] in _WEEKDAYS:
        said, s = _WEEKDAYS[m[1]], m[2]
    d = _parse(text, s, today)
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise _fail(text, f"dates must be between {MIN_YEAR} and {MAX_YEAR}")
    if said is not None and d.weekday() != said:
        actual = f"{d.day} {_MONTH_NAMES[d.month - 1][:3]} {d.year}"
        raise _fail(text, f"{actual} is a {_DAY_NAMES[d.weekday()]}, not a {_DAY_NAMES[said]}")
    return d


def _wall_time(text: str, hour: int, minute: int, ampm: str | None) -> time:
    problem = ""
    if ampm and not 1 <= hour <= 12:
        problem = f"{hour}{ampm} isn't a time"
    elif not ampm and hour > 23:
        problem = f"there is no hour {hour}"
    elif minute > 59:
        problem = f"there is no minute {minute}"
    if problem:
        raise DateParseError(
            f'Couldn\'t read the time in "{_shown(text)}": {problem}. '
            "Use e.g. 14:30, 2:30pm or 9am."
        )
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    return time(hour, minute)


def parse_user_datetime(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """Parse a UK user's date plus local wall time in `tz`; return an aware UTC datetime."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    s = _ISO_T.sub(r"\1 ", _normalise(text))
    m = _WITH_TIME.fullmatch(s)
    if m is None or (m["minute"] is None and m["ampm"] is None):
        # No time on the end (a bare number like "9" is too ambiguous to be one).
        try:
            parse_user_date(text, today=today)
        except DateParseError as err:
            raise DateParseError(f"{err} Then add a time, e.g. {_TIME_EXAMPLE}.") from None
        raise DateParseError(f'"{_shown(text)}" needs a time too: add one, e.g. {_TIME_EXAMPLE}.')
    wall = datetime.combine(
        parse_user_date(m["date"], today=today),
        _wall_time(text, int(m["hour"]), int(m["minute"] or 0), m["ampm"]),
    )
    # fold=0: in the repeated hour when the clocks go back, take the first occurrence.
    utc = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != wall:
        raise DateParseError(
            f"{wall:%H:%M} doesn't exist on {format_uk_date(wall.date())} in {tz}: "
            "the clocks go forward an hour that night, so pick another time."
        )
    return utc


def format_uk_date(d: date) -> str:
    """Format a date as 'Sun 31 Jan 2027' for plain-text replies (locale-independent)."""
    return f"{_DAY_NAMES[d.weekday()][:3]} {d.day} {_MONTH_NAMES[d.month - 1][:3]} {d.year}"


def format_uk_moment(moment: datetime, tz: ZoneInfo) -> str:
    """A moment as 'Tue 9 Feb 2027 10:00' in the zone `tz`."""
    local = moment.astimezone(tz)
    return f"{format_uk_date(local.date())} {local:%H:%M}"
