"""The register is not a case system: text that looks like personal data is refused.

Residents' and suspects' details belong in the partners' case systems; the register refers to
them by a case reference. Text is refused when it holds what identifies a person: an email
address, a UK phone number (mobile or geographic; organisations' 03/05/08/09 numbers are fine),
a National Insurance number, a date of birth (a date after "DOB", "date of birth" or "born"), or
a home address (a house number with a street, or with a full postcode; "Flat 3," too). The
secretariat (chair, deputy, secretariat) can let one command through with `allow_personal=yes`;
the history records that they did. SECURITY.md lists the rules with examples.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import is_admin
from handlers.text.vocab import parse_yes_no
from models.actions import record_event
from models.tables import Action, Member

ALLOW_OPTION = "allow_personal"
HISTORY_FIELD = "allow_personal"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digit groups; `_phone_numbers` looks for a personal number starting at each group.
_DIGIT_RUN = re.compile(r"(?<![\w/.:£$€-])\+?\(?\+?\d[\d \t()+-]*\d(?![\w/.:]|-\d)")
_GROUP = re.compile(r"[+(]*\d+\)?")
_NI_NUMBER = re.compile(
    r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{2,4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_BIRTH_DATE = re.compile(
    rf"\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:=-]?\s*\(?{_DATE}",
    re.IGNORECASE,
)
_POSTCODE = re.compile(
    r"\b(?:[A-PR-UWYZ](?:\d[A-HJKPSTUW]?|[A-HK-Y]\d[ABEHMNPRV-Y]?|\d{2}|[A-HK-Y]\d{2})"
    r" ?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
# A house number: not part of a time (10:00), a date (31/03), a decimal or a range (2016-17).
_HOUSE_NUMBER = r"(?<![\d:/.,-])\b\d{1,4}[A-Za-z]?\b(?![:/.]\d|-\d)"
_STREET_WORDS = (
    "(?i:street|road|avenue|lane|close|court|drive|way|place|gardens|terrace|crescent|square|"
    "grove|hill|row|mews|walk|estate|buildings|wharf|yard|parade)|St|Rd|Ave|Ln|Ct|Dr|Pl|Gdns|Sq"
)
_STREET_ADDRESS = re.compile(
    rf"{_HOUSE_NUMBER},?\s+(?:[A-Za-z][A-Za-z'’-]*\s+){{1,3}}(?:{_STREET_WORDS})\b\.?"
)
_FLAT = re.compile(r"\b(?:flat|apartment|apt\.?)\s+\d{1,4}[A-Za-z]?\s*,", re.IGNORECASE)
_NUMBER_BEFORE_POSTCODE = re.compile(rf"{_HOUSE_NUMBER},?\s+[A-Za-z]")


@dataclass(frozen=True)
class Finding:
    """Something that looks like personal data: what kind, in which option, the text itself."""

    kind: str
    option: str
    text: str

    def describe(self) -> str:
        """e.g. `a phone number in note= (“07700 900123”)`."""
        return f"{self.kind} in {self.option} (“{_shorten(self.text)}”)"


def find_personal_data(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for everything in `text` that looks like personal data."""
    found = [("an email address", m.group()) for m in _EMAIL.finditer(text)]
    found += [("a phone number", number) for number in _phone_numbers(text)]
    found += [("a National Insurance number", m.group()) for m in _NI_NUMBER.finditer(text)]
    found += [("a date of birth", m.group()) for m in _BIRTH_DATE.finditer(text)]
    found += [("a home address", m.group()) for m in _STREET_ADDRESS.finditer(text)]
    found += [("a home address", m.group()) for m in _FLAT.finditer(text)]
    for postcode in _POSTCODE.finditer(text):
        line_start = text.rfind("\n", 0, postcode.start()) + 1
        address = text[max(line_start, postcode.start() - 80) : postcode.end()]
        if _NUMBER_BEFORE_POSTCODE.search(address):
            found.append(("a home address", address.strip()))
    return list(dict.fromkeys(found))


def screen(ctx: Context, texts: dict[str, str], allow: str | None) -> list[Finding]:
    """Refuse personal data in `texts` (option -> value) unless an admin allows it; what was let in.

    `allow` is the value of `allow_personal=`, or None when it was not given.
    """
    allowed = _allowed(ctx, allow)
    findings = [
        Finding(kind, f"{option}=", matched)
        for option, value in texts.items()
        if value
        for kind, matched in find_personal_data(value)
    ]
    if findings and not allowed:
        first = findings[0]
        raise CommandError(
            f"That looks like personal data — {first.describe()} — and the register must not "
            "hold personal data about residents or suspects.",
            "Keep those details in the case system and refer to its case reference. If this is "
            "not personal data, the chair, deputy or secretariat can add allow_personal=yes.",
        )
    return findings


def take_override(text: str) -> tuple[str, str | None]:
    """A free-text note without a leading or trailing `allow_personal=...`, and that value."""
    match = re.match(rf"^\s*{ALLOW_OPTION}=(\S*)\s+", text, re.IGNORECASE) or re.search(
        rf"\s+{ALLOW_OPTION}=(\S*)\s*$", text, re.IGNORECASE
    )
    if not match:
        return text, None
    return (text[: match.start()] + text[match.end() :]).strip(), match.group(1)


def record_allowed(
    session: Session,
    action: Action,
    findings: list[Finding],
    *,
    now: datetime,
    actor: Member | None,
) -> None:
    """Note in the action's history that the personal-data check was overridden, and for what."""
    if not findings:
        return
    kinds = sorted({f"{f.kind} in {f.option}" for f in findings})
    record_event(session=session, action=action, now=now, actor=actor, field=HISTORY_FIELD,
                 value="; ".join(kinds))  # fmt: skip


def import_screen(row: dict[str, str], allow: bool) -> list[Finding]:
    """The import's check of one row's free text: refused unless the import allows it."""
    findings = [
        Finding(kind, f"“{column}”", matched)
        for column, value in row.items()
        if value
        for kind, matched in find_personal_data(value)
    ]
    if findings and not allow:
        raise CommandError(
            f"looks like personal data — {findings[0].describe()}; the register must not hold it.",
            "Remove it from the file, or import with --allow-personal if it is not personal data.",
        )
    return findings


def _allowed(ctx: Context, allow: str | None) -> bool:
    if allow is None:
        return False
    wanted = parse_yes_no(allow, ALLOW_OPTION)
    if wanted and not is_admin(ctx.member):
        raise CommandError(
            "Only the chair, deputy chair or secretariat can use allow_personal=yes.",
            "Leave out the personal details, or ask the secretariat.",
        )
    return wanted


def _phone_numbers(text: str) -> list[str]:
    found = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [(g.start(), g.end(), len(re.sub(r"\D", "", g.group())))
                  for g in _GROUP.finditer(run.group())]  # fmt: skip
        start = 0
        while start < len(groups):
            digits, end = 0, start
            longest = None
            # A number has at most 14 digits (+44 and 10 more, or 0044 ...): stop there.
            while end < len(groups) and digits + groups[end][2] <= 14:
                digits += groups[end][2]
                candidate = run.group()[groups[start][0] : groups[end][1]]
                if groups[end][2] < 2 and run.group()[groups[end][0] : groups[end][1]] != "(0)":
                    break  # numbers are written in groups of two or more digits: 0 1 2 ... is not
                if _is_personal_phone(candidate):
                    longest = (end, candidate)
                end += 1
            if longest:
                found.append(longest[1])
                start = longest[0] + 1
            else:
                start += 1
    return found


def _is_personal_phone(run: str) -> bool:
    digits = re.sub(r"\D", "", run)
    if run.startswith(("+44", "0044", "(+44")):
        national = digits[2:] if run.startswith(("+", "(+")) else digits[4:]
        national = national.removeprefix("0")  # +44 (0)20 ...
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return False
    # 1 and 2: geographic numbers; 7: mobiles. 3, 5, 8 and 9 are organisations' numbers
    # (0300, 0800 freephone, Crimestoppers' 0800 555 111), not people's.
    return len(national) in (9, 10) and national[0] in "127"


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
