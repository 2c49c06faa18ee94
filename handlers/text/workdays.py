"""Working days: weekends and the bank holidays of a region (GB-ENG, GB-SCT, GB-WLS, GB-NIR...)."""

import threading
from datetime import date, timedelta
from functools import lru_cache

import holidays

DEFAULT_REGION = "GB-ENG"
_lock = threading.Lock()


def parse_region(text: str) -> str:
    """A holiday region such as `GB-ENG` (country and subdivision), checked; else ValueError."""
    code = text.strip().upper().replace("_", "-")
    country, _, subdiv = code.partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"“{text}” is not a holiday region: use e.g. GB-ENG, GB-SCT or GB-WLS.")
    if subdiv and subdiv not in supported[country]:
        known = ", ".join(f"{country}-{s}" for s in supported[country][:8])
        raise ValueError(f"“{text}” is not a holiday region of {country}: try {known}.")
    return code


@lru_cache(maxsize=64)
def _holidays(region: str, year: int) -> frozenset[date]:
    country, _, subdiv = region.partition("-")
    # holidays' calendars fill in years lazily and are not thread-safe: build each year once.
    with _lock:
        calendar = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
        return frozenset(calendar.keys())


def is_working_day(day: date, region: str = DEFAULT_REGION) -> bool:
    """Monday to Friday and not a bank holiday (substitute days count as holidays)."""
    return day.weekday() < 5 and day not in _holidays(region, day.year)


def working_days_before(day: date, count: int, region: str = DEFAULT_REGION) -> date:
    """The working day `count` working days before `day` (1 = the previous working day)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    while count:
        current -= timedelta(days=1)
        if is_working_day(current, region):
            count -= 1
    return current


def working_days_after(day: date, count: int, region: str = DEFAULT_REGION) -> date:
    """The working day `count` working days after `day` (1 = the next working day)."""
    current = day
    while count > 0:
        current += timedelta(days=1)
        if is_working_day(current, region):
            count -= 1
    return current
