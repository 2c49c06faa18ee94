"""Reporting periods: calendar quarters (Q1 = January to March) in the Board's time zone."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from handlers.errors import CommandError
from handlers.text.dates import MAX_YEAR, MIN_YEAR, format_uk_date

_QUARTER = re.compile(r"^(?:(\d{4})\s*-?\s*q([1-4])|q([1-4])\s*-?\s*(\d{4}))$", re.IGNORECASE)
_MONTHS = ("January", "April", "July", "October")
_END_MONTHS = ("March", "June", "September", "December")
QUARTER_HINT = "Quarters look like 2027Q1 (January to March 2027)."


@dataclass(frozen=True)
class Period:
    """A reporting period: from `start` to `end` (aware UTC; the end is the next period's start)."""

    label: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date

    @property
    def code(self) -> str:
        """The label as typed, e.g. `2027Q1`."""
        return self.label.replace(" ", "")

    @property
    def span(self) -> str:
        """The months it covers, e.g. `January to March 2027`."""
        quarter = (self.first_day.month - 1) // 3
        return f"{_MONTHS[quarter]} to {_END_MONTHS[quarter]} {self.first_day.year}"

    def as_at(self, now: datetime) -> datetime:
        """The moment the period's figures are taken: its end, or now while it is running."""
        return min(self.end, now)

    def describe_as_at(self, now: datetime, tz: ZoneInfo) -> str:
        """`the end of the quarter` or `Wed 20 Jan 2027` while it is still running."""
        if now >= self.end:
            return f"the end of the quarter ({format_uk_date(self.last_day)})"
        return format_uk_date(now.astimezone(tz).date()) + " (the quarter is still running)"


def quarter(year: int, number: int, tz: ZoneInfo) -> Period:
    """Calendar quarter `number` (1-4) of `year`, its bounds at local midnight."""
    first = date(year, 3 * number - 2, 1)
    following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(
        label=f"{year} Q{number}",
        start=_midnight(first, tz),
        end=_midnight(following, tz),
        first_day=first,
        last_day=date.fromordinal(following.toordinal() - 1),
    )


def quarter_of(day: date, tz: ZoneInfo) -> Period:
    """The quarter containing `day`."""
    return quarter(day.year, (day.month - 1) // 3 + 1, tz)


def previous_quarter(period: Period, tz: ZoneInfo) -> Period:
    """The quarter before `period`."""
    return quarter_of(date.fromordinal(period.first_day.toordinal() - 1), tz)


def parse_quarter(text: str, *, today: date, tz: ZoneInfo) -> Period:
    """`2027Q1`, `2027-Q1` or `Q1 2027`; empty means the last complete quarter."""
    text = " ".join(text.split())
    if not text:
        return previous_quarter(quarter_of(today, tz), tz)
    match = _QUARTER.match(text)
    if not match:
        raise CommandError(f"“{text}” is not a quarter.", QUARTER_HINT)
    year = int(match.group(1) or match.group(4))
    number = int(match.group(2) or match.group(3))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CommandError(f"{year} is out of range.", f"Years run from {MIN_YEAR} to {MAX_YEAR}.")
    period = quarter(year, number, tz)
    if period.first_day > today:
        raise CommandError(
            f"{period.label} has not started yet (today is {format_uk_date(today)}).",
            "Ask for the current or an earlier quarter.",
        )
    return period


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)
