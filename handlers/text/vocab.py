"""The words people type for references, ratings, strands, roles, areas and partners."""

import difflib
import re

from sqlmodel import Session

from handlers.errors import CommandError
from models.boards import list_areas
from models.people import find_partner, list_partners
from models.tables import AreaSource, CrimeArea, Partner, Rag, Role, Strand

RAG_WORDS = {
    "red": Rag.RED,
    "r": Rag.RED,
    "amber": Rag.AMBER,
    "orange": Rag.AMBER,
    "a": Rag.AMBER,
    "yellow": Rag.AMBER,
    "green": Rag.GREEN,
    "g": Rag.GREEN,
    "blue": Rag.BLUE,
    "b": Rag.BLUE,
    "complete": Rag.BLUE,
    "completed": Rag.BLUE,
    "done": Rag.BLUE,
    "none": Rag.NONE,
    "unrated": Rag.NONE,
    "not rated": Rag.NONE,
    "": Rag.NONE,
}

RAG_LABELS = {
    Rag.RED: "Red",
    Rag.AMBER: "Amber",
    Rag.GREEN: "Green",
    Rag.BLUE: "Blue (complete)",
    Rag.NONE: "Not rated",
}

ROLE_WORDS = {
    "chair": Role.CHAIR,
    "chairman": Role.CHAIR,
    "chairwoman": Role.CHAIR,
    "deputy": Role.DEPUTY_CHAIR,
    "deputy chair": Role.DEPUTY_CHAIR,
    "deputy-chair": Role.DEPUTY_CHAIR,
    "vice-chair": Role.DEPUTY_CHAIR,
    "secretariat": Role.SECRETARIAT,
    "secretary": Role.SECRETARIAT,
    "member": Role.MEMBER,
    "co-optee": Role.CO_OPTEE,
    "cooptee": Role.CO_OPTEE,
    "co-opted": Role.CO_OPTEE,
    "observer": Role.OBSERVER,
}

YES = {"yes", "y", "true", "on", "1"}
NO = {"no", "n", "false", "off", "0"}

_REF = re.compile(r"^(?:a-?|#)?0*(\d{1,9})$", re.IGNORECASE)
_USER = re.compile(r"^<?@?([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>?$")


def parse_ref(text: str) -> int:
    """The action number in `A-12`, `a12`, `#12` or `12`."""
    match = _REF.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise CommandError(
            f"“{text}” is not an action reference.", "References look like A-12 (or just 12)."
        )
    return int(match.group(1))


def parse_rag(text: str) -> Rag:
    """A RAG rating from its colour or a synonym ("orange" is amber, "done" is blue)."""
    rag = RAG_WORDS.get(" ".join(text.casefold().split()))
    if rag is None:
        raise CommandError(
            f"“{text}” is not a RAG rating.",
            "Use red, amber (or orange), green, blue (complete, done) or none.",
        )
    return rag


def parse_strands(text: str) -> list[str]:
    """4P strands from a comma-separated list (`pursue,prevent`); `none` clears them."""
    words = [w.strip().casefold() for w in text.split(",") if w.strip()]
    if words in ([], ["none"]):
        return []
    strands = []
    for word in words:
        matches = [s for s in Strand if s.value.startswith(word)] if len(word) >= 3 else []
        if len(matches) != 1:
            raise CommandError(
                f"“{word}” is not a 4P strand.", "Strands are pursue, prevent, protect, prepare."
            )
        strands.append(matches[0].value)
    return strands


def parse_yes_no(text: str, name: str) -> bool:
    """A yes/no option value."""
    word = text.strip().casefold()
    if word in YES:
        return True
    if word in NO:
        return False
    raise CommandError(f"{name}= takes yes or no, not “{text}”.")


def parse_role(text: str) -> Role:
    """A Board role from its name or a synonym."""
    role = ROLE_WORDS.get(" ".join(text.casefold().split()))
    if role is None:
        raise CommandError(
            f"“{text}” is not a Board role.",
            "Roles: chair, deputy, secretariat, member, co-optee, observer.",
        )
    return role


def parse_user_id(text: str) -> str:
    """A chat user id from `U123ABC` or a mention `<@U123ABC|name>`."""
    match = _USER.match(text.strip())
    if not match:
        raise CommandError(
            f"“{text}” is not a user id or a mention.",
            "Mention them (@name) or give their user id (U…).",
        )
    return match.group(1)


def find_area(session: Session, board_id: int, text: str) -> CrimeArea:
    """The key crime area named (exactly, by unique prefix or unique word match), or suggestions."""
    areas = list_areas(session=session, board_id=board_id)
    wanted = " ".join(text.casefold().split())
    if not wanted:
        raise CommandError("Which key crime area?", "See `area list` for the names.")
    for test in (
        lambda name: name == wanted,
        lambda name: name.startswith(wanted),
        lambda name: wanted in name,
    ):
        found = [a for a in areas if test(a.name.casefold())]
        if len(found) > 1:
            # The National Strategic Assessment list is background ("cyber" is a prefix of its
            # "Cyber crime" too): a match among the Board's own areas wins.
            own = [a for a in found if a.priority or a.source != AreaSource.NATIONAL_ASSESSMENT]
            found = own if len(own) == 1 else found
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(a.name for a in found[:5])
            raise CommandError(
                f"“{text}” matches several areas: {names}.", "Type more of the name."
            )
    raise CommandError(
        f"No key crime area called “{text}”.", _suggest(text, [a.name for a in areas])
    )


def find_partners(session: Session, board_id: int, text: str) -> list[Partner]:
    """The partners named in a comma-separated list, by name or alias, or suggestions."""
    partners = []
    for name in (n.strip() for n in text.split(",")):
        if not name:
            continue
        partner = find_partner(session=session, board_id=board_id, text=name)
        if partner is None:
            known = [
                n
                for p in list_partners(session=session, board_id=board_id)
                for n in (p.name, *p.alias_list)
            ]
            raise CommandError(f"No partner called “{name}”.", _suggest(name, known))
        partners.append(partner)
    return partners


def _suggest(text: str, names: list[str]) -> str:
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.4)
    if not close:
        lowered = {n.casefold(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(text.casefold(), lowered, n=3)]
    if close:
        return "Did you mean " + " or ".join(f"“{c}”" for c in close) + "?"
    return "See `area list` and `partner list` for the names."
