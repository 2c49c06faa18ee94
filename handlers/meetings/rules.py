"""Meeting rules: "second tuesday 10:00" or an RRULE, their occurrences, and reminder points.

Occurrences are computed on naive local datetimes (what the Board means by "10:00") and only then
given the zone, so a 10:00 meeting is 10:00 London time in both GMT and BST.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from handlers.errors import CommandError
from handlers.text.workdays import working_days_before

ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
WEEKDAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}
DAY_NAMES = {code: name.title() for name, code in WEEKDAYS.items()}
FREQUENCIES = {"MONTHLY", "WEEKLY", "YEARLY"}
ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
TIME_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
NUMBER_RANGES = (("INTERVAL", 1, 12), ("BYMONTH", 1, 12), ("BYMONTHDAY", 1, 31), ("BYSETPOS", 1, 5))
EXAMPLES = (
    '`meeting schedule "second tuesday 10:00"`, `meeting schedule "last thursday 2:30pm"` or '
    "`meeting schedule FREQ=MONTHLY;BYDAY=+2TU;BYHOUR=10`"
)

_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.ASCII)
_WORDS = re.compile(
    r"^(?:the\s+|every\s+)?(?P<ord>[a-z0-9]+)\s+(?P<day>[a-z]+?)s?"
    r"(?:\s+(?:of\s+)?(?:the|every|each)?\s*month|\s+monthly)?"
    r"(?:\s+at)?\s+(?P<time>[0-9:.]+\s*(?:am|pm)?)$",
    re.ASCII,
)
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


@dataclass(frozen=True)
class MeetingRule:
    """A recurrence without time of day (`rule`) and the local time the meeting starts (`at`)."""

    rule: str
    at: time

    def describe(self) -> str:
        """Plain words for the rule, e.g. `the second Tuesday of every month at 10:00`."""
        parts = dict(p.split("=", 1) for p in self.rule.split(";"))
        words = _describe_simple(parts)
        return f"{words or self.rule} at {self.at:%H:%M}"


def parse_time(text: str) -> time:
    """A local time such as `10:00`, `9am`, `2:30pm` or `14.30`."""
    match = _TIME.match(text.strip().casefold())
    if not match:
        raise CommandError(f"“{text}” is not a time.", "Use e.g. 10:00, 14:30, 9am or 2:30pm.")
    hour, minute, ampm = int(match[1]), int(match[2] or 0), match[3]
    if (ampm and not 1 <= hour <= 12) or hour > 23 or minute > 59 or (not ampm and not match[2]):
        raise CommandError(f"“{text}” is not a time.", "Use e.g. 10:00, 14:30, 9am or 2:30pm.")
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    return time(hour, minute)


def parse_meeting_rule(text: str, *, today: date) -> MeetingRule:
    """Words ("second tuesday 10:00") or an RRULE (with BYHOUR or a time after it), checked."""
    cleaned = " ".join(text.strip().strip("\"'“”").split())
    if not cleaned:
        raise CommandError("Say when the Board meets.", f"For example {EXAMPLES}.")
    upper = cleaned.upper()
    if upper.startswith(("FREQ=", "RRULE:")):
        rule_text, _, time_text = cleaned.partition(" ")
        rule = _parse_rrule(rule_text.upper().removeprefix("RRULE:"), time_text)
    else:
        rule = _parse_words(cleaned.casefold())
    try:
        found = occurrences(rule, ZoneInfo("UTC"), today, _utc(today), _utc(today + timedelta(731)))
    except (ValueError, TypeError, OverflowError) as err:
        raise _bad_rrule(cleaned, str(err) or "dateutil could not read it") from None
    if not found:
        raise CommandError(
            f"“{cleaned}” never happens in the next two years.", f"For example {EXAMPLES}."
        )
    return rule


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _parse_words(text: str) -> MeetingRule:
    match = _WORDS.match(text)
    if not match or match["ord"] not in ORDINALS or match["day"] not in WEEKDAYS:
        raise CommandError(
            f"I can't read “{text}” as a meeting rule.",
            f"Say the week, the day and the time, e.g. {EXAMPLES}.",
        )
    nth = ORDINALS[match["ord"]]
    return MeetingRule(
        f"FREQ=MONTHLY;BYDAY={nth:+d}{WEEKDAYS[match['day']]}", parse_time(match["time"])
    )


def _parse_rrule(text: str, time_text: str) -> MeetingRule:
    parts: dict[str, str] = {}
    for part in filter(None, text.split(";")):
        key, sep, value = part.partition("=")
        if not sep or not value:
            raise _bad_rrule(text, f"“{part}” is not NAME=VALUE")
        if key in parts:
            raise _bad_rrule(text, f"{key} is given twice")
        if key not in ALLOWED_PARTS | TIME_PARTS:
            raise _bad_rrule(
                text,
                f"{key} is not supported here (no COUNT, UNTIL or DTSTART: the Board's "
                "meetings go on, and the start is today)",
            )
        parts[key] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise _bad_rrule(text, "FREQ must be MONTHLY, WEEKLY or YEARLY")
    for key, low, high in NUMBER_RANGES:
        for value in parts.get(key, "1").split(","):
            # dateutil loops for ever on INTERVAL=0 and accepts impossible values silently.
            if not re.fullmatch(r"[+-]?\d{1,3}", value) or not (low <= abs(int(value)) <= high):
                raise _bad_rrule(text, f"{key} values must be whole numbers from {low} to {high}")
        if key in ("INTERVAL", "BYMONTH") and parts.get(key, "1").startswith(("-", "+")):
            raise _bad_rrule(text, f"{key} cannot be negative")
    _require_day(text, parts)
    at = _rrule_time(text, parts, time_text)
    rule = ";".join(f"{k}={v}" for k, v in parts.items() if k not in TIME_PARTS)
    try:
        rrulestr(rule, dtstart=datetime(2027, 1, 1))
    except (ValueError, TypeError, KeyError) as err:
        raise _bad_rrule(text, str(err) or "dateutil could not read it") from None
    return MeetingRule(rule, at)


def _require_day(text: str, parts: dict[str, str]) -> None:
    # Without these, dateutil silently takes the day from DTSTART (today): it would invent one.
    freq = parts["FREQ"]
    if "BYDAY" in parts:
        for day in parts["BYDAY"].split(","):
            match = _BYDAY.match(day)
            if not match or (match[1] and not 1 <= abs(int(match[1])) <= 5):
                raise _bad_rrule(text, f"BYDAY value “{day}” is not like +2TU, -1TH or WE")
            if match[1] and freq == "WEEKLY":
                raise _bad_rrule(text, f"a weekly rule takes plain days (TU), not “{day}”")
    if parts.get("WKST", "MO") not in DAY_NAMES:
        raise _bad_rrule(text, "WKST must be a day code such as MO")
    if freq == "MONTHLY" and not ({"BYDAY", "BYMONTHDAY"} & parts.keys()):
        raise _bad_rrule(text, "a monthly rule needs BYDAY (e.g. +2TU) or BYMONTHDAY")
    if freq == "WEEKLY" and "BYDAY" not in parts:
        raise _bad_rrule(text, "a weekly rule needs BYDAY (e.g. TU)")
    if freq == "YEARLY" and not ("BYMONTH" in parts and {"BYDAY", "BYMONTHDAY"} & parts.keys()):
        raise _bad_rrule(text, "a yearly rule needs BYMONTH and BYDAY or BYMONTHDAY")


def _rrule_time(text: str, parts: dict[str, str], time_text: str) -> time:
    if time_text:
        if TIME_PARTS & parts.keys():
            raise _bad_rrule(text, "give the time once: BYHOUR or a time after the rule")
        return parse_time(time_text)
    if "BYHOUR" not in parts:
        raise _bad_rrule(text, "say the meeting time: add BYHOUR=10 (and BYMINUTE) or “10:00”")
    values = []
    for key, top in (("BYHOUR", 23), ("BYMINUTE", 59), ("BYSECOND", 0)):
        value = parts.get(key, "0")
        if not value.isdigit() or int(value) > top:
            raise _bad_rrule(text, f"{key} must be one number from 0 to {top}")
        values.append(int(value))
    return time(values[0], values[1])


def _bad_rrule(text: str, reason: str) -> CommandError:
    return CommandError(f"That RRULE can't be used: {reason}.", f"For example {EXAMPLES}.")


def _describe_simple(parts: dict[str, str]) -> str:
    if parts.keys() != {"FREQ", "BYDAY"} or parts["FREQ"] != "MONTHLY":
        return ""
    match = _BYDAY.match(parts["BYDAY"])
    if not match or not match[1] or int(match[1]) not in ORDINAL_WORDS:
        return ""
    return f"the {ORDINAL_WORDS[int(match[1])]} {DAY_NAMES[match[2]]} of every month"


def occurrences(
    rule: MeetingRule, tz: ZoneInfo, anchor: date, start: datetime, end: datetime
) -> list[datetime]:
    """Meeting starts (aware UTC) in [start, end], from the rule anchored at `anchor`."""
    dtstart = datetime.combine(anchor, rule.at)
    recurrence = rrulestr(rule.rule, dtstart=dtstart)
    # Widen by a day each side: the window is UTC, the rule runs on local wall time.
    first = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    last = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found = (local_to_utc(local, tz) for local in recurrence.between(first, last, inc=True))
    return [moment for moment in found if start <= moment <= end]


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall time in `tz` as aware UTC: a time the clocks skip moves an hour on."""
    moment = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != local:
        moment = (local + timedelta(hours=1)).replace(tzinfo=tz, fold=0).astimezone(UTC)
    return moment


@dataclass(frozen=True)
class ReminderPoint:
    """When reminders go out for one meeting: `days_before` working days before, at `at` (UTC)."""

    days_before: int
    local_date: date
    at: datetime
    last: bool

    @property
    def key(self) -> str:
        """The ledger's name for this point: its local date."""
        return self.local_date.isoformat()


def parse_reminder_days(text: str) -> list[int]:
    """`5,1` -> [5, 1]: working days before a meeting, each 1 to 20, largest first."""
    try:
        days = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        days = []
    if not days or not all(1 <= d <= 20 for d in days) or len(days) > 5:
        raise CommandError(
            f"“{text}” is not a list of working days before the meeting.",
            "Give up to five numbers from 1 to 20, e.g. `meeting reminders 5,1 at 09:00`.",
        )
    return days


def reminder_points(
    meeting_start: datetime, days: list[int], at: time, tz: ZoneInfo, region: str
) -> list[ReminderPoint]:
    """The meeting's reminder points, earliest first; the last is the chair's digest point."""
    meeting_day = meeting_start.astimezone(tz).date()
    points = []
    for count in sorted(set(days), reverse=True):
        day = working_days_before(meeting_day, count, region)
        moment = local_to_utc(datetime.combine(day, at), tz)
        points.append(ReminderPoint(count, day, moment, last=count == min(days)))
    return points
