"""A partner's answer: parsing it as typed, who may give it for which partner, and recording it."""

from dataclasses import dataclass, field

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import is_admin
from handlers.personal_data import screen
from handlers.priorities.exercise import Contacts, is_open, local_day
from handlers.priorities.messages import (
    ANSWER_EXAMPLE,
    STANCE_WORDS,
    answer_facts,
    closing_text,
    possessive,
)
from handlers.replies import Fact, Reply, Section
from handlers.text.dates import format_uk_date
from handlers.text.parsing import clean, tokenize
from handlers.text.vocab import find_area, find_partners
from models.priorities import Answer, latest_exercise, save_answer
from models.tables import CrimeArea, Member, Partner, PriorityExercise, Role

NOTE_LIMIT = 3000


@dataclass
class ParsedAnswer:
    """A typed answer: (area, stance) pairs as typed, the note and the partner, if given."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None
    partner: str = ""


def parse_answer(text: str) -> ParsedAnswer:
    """`cyber=lead "modern slavery"=contribute`, `area="Cyber attack" lead`, `note=...`."""
    parsed = ParsedAnswer()
    pending: list[list] = []  # [area text, [stance words]]
    last: list | None = None
    for token in tokenize(text):
        key, sep, value = token.partition("=")
        name = key.strip().casefold()
        if sep and name in ("note", "partner"):
            if name == "note":
                if parsed.note is not None:
                    raise CommandError("note= is given twice.", "Give one note.")
                parsed.note = clean(value)
            else:
                parsed.partner = clean(value)
            last = None
        elif sep and name:
            last = [clean(value), []] if name == "area" else [key.strip(), [value] if value else []]
            pending.append(last)
        elif last is not None:
            last[1].append(token)
        else:
            raise CommandError(
                f"“{token}” is not an answer.",
                f"Give area=answer pairs, e.g. `{ANSWER_EXAMPLE}` (text with spaces in quotes).",
            )
    for area_text, words in pending:
        if not area_text:
            raise CommandError("Which key crime area?", 'Example: `area="Cyber attack" lead`.')
        parsed.pairs.append((area_text, " ".join(words)))
    return parsed


def parse_stance(text: str, area_name: str) -> str:
    """`lead`, `contribute` or `not relevant` (and their short forms) for one area."""
    stance = STANCE_WORDS.get(" ".join(text.casefold().split()))
    if stance is None:
        said = f"“{text}” is not an answer" if text.strip() else "No answer given"
        raise CommandError(f"{said} for {area_name}.", "Answer lead, contribute or not relevant.")
    return stance.value


def answerable_exercise(session: Session, ctx: Context) -> PriorityExercise:
    """The Board's latest exercise, if it still takes answers."""
    exercise = latest_exercise(session=session, board_id=ctx.board.id)
    if exercise is None:
        raise CommandError(
            "No priorities exercise is open.",
            "The secretariat opens one with `priorities open closes=<date>`.",
        )
    check_open(exercise, ctx)
    return exercise


def check_open(exercise: PriorityExercise, ctx: Context) -> None:
    """Refuse an answer to an exercise that has closed."""
    if not is_open(exercise, ctx.now):
        raise CommandError(
            f"The priorities exercise closed on {format_uk_date(exercise.closes_on)}; "
            "answers are no longer taken.",
            "See `priorities results`; ask the secretariat if your answer must still count.",
        )


def own_partners(member: Member, contacts: Contacts) -> list[int]:
    """The partners a member answers for without naming one: theirs, or one they deputise for."""
    if member.role == Role.OBSERVER:
        return []
    if member.partner_id is not None:
        return [member.partner_id]
    return sorted(contacts.deputised(member))


def may_answer_for(member: Member, partner: Partner, contacts: Contacts) -> bool:
    """Whether `member` may answer for `partner`: their own, one they deputise for, or as admin."""
    return (
        is_admin(member)
        or partner.id == member.partner_id
        or partner.id in contacts.deputised(member)
    )


def partner_answering(
    session: Session, ctx: Context, member: Member, contacts: Contacts, partner_text: str
) -> Partner:
    """The partner a typed answer is for: `partner=` if given, else the member's own."""
    if member.role == Role.OBSERVER:
        raise CommandError(
            "Observers don't answer the priorities exercise.",
            "Each partner's member answers for it.",
        )
    own = contacts.partner(member.partner_id)
    if partner_text:
        found = find_partners(session, ctx.board.id, partner_text)
        if len(found) != 1:
            raise CommandError("Answer for one partner at a time.", "Give a single partner=.")
        partner = found[0]
        if partner.collective:
            raise CommandError(
                f"{partner.name} is not one partner: each partner answers for itself.",
                "Give your own partner, e.g. partner=CoLP.",
            )
        if may_answer_for(member, partner, contacts):
            return partner
        raise not_yours(partner, own)
    own_ids = own_partners(member, contacts)
    if len(own_ids) == 1:
        partner = own or contacts.partner(own_ids[0])
        if partner is not None:
            return partner
    if is_admin(member) or len(own_ids) > 1:
        raise CommandError(
            "Which partner are you answering for?", "Add partner=<name>, e.g. partner=CoLP."
        )
    raise CommandError(
        "You don't represent a partner on the Board, so there is no answer to give.",
        "Ask the secretariat to set your partner (`member add <@you> partner=<name>`).",
    )


def not_yours(partner: Partner, own: Partner | None) -> CommandError:
    """The refusal to answer for another partner."""
    mine = f"you represent {own.name}" if own else "you don't represent a partner"
    return CommandError(
        f"You can't answer for {partner.name}: {mine}.",
        "Each partner answers for itself; the secretariat can record an answer sent by email.",
    )


def exercise_area(session: Session, ctx: Context, areas: list[CrimeArea], text: str) -> CrimeArea:
    """The area named by `text`, if the exercise asks about it."""
    area = find_area(session, ctx.board.id, text)
    if area.id not in {a.id for a in areas}:
        raise CommandError(
            f"{area.name} is not one of this exercise's areas.",
            "Its areas: " + "; ".join(a.name for a in areas) + ".",
        )
    return area


def record_answer(
    session: Session,
    ctx: Context,
    member: Member,
    exercise: PriorityExercise,
    partner: Partner,
    areas: list[CrimeArea],
    stances: dict[int, str],
    note: str,
    current: Answer | None,
) -> Reply:
    """Save the partner's whole answer (every version is kept) unless nothing changed."""
    if len(note) > NOTE_LIMIT:
        raise CommandError(
            f"The note is too long ({len(note):,} characters; the limit is {NOTE_LIMIT:,})."
        )
    screen(ctx, {"note": note}, None)  # a partner's priorities never need personal data
    if current is not None and current.stances == stances and current.row.note == note:
        return Reply(
            title=f"That is already {possessive(partner.name)} answer; nothing changed.",
            sections=[Section("The answer", facts=answer_facts(areas, stances))],
        )
    save_answer(
        session=session,
        board_id=ctx.board.id,
        exercise_id=exercise.id,
        partner_id=partner.id,
        answered_at=ctx.now,
        answered_by_member_id=member.id,
        answered_by_name=member.display_name,
        note=note,
        stances=stances,
    )
    section = Section("The answer", facts=answer_facts(areas, stances))
    if note:
        section.facts.append(Fact("Own priorities", note))
    reply = Reply(title=f"Recorded {possessive(partner.name)} answer", sections=[section])
    if current is not None:
        reply.text = (
            f"It replaces the answer {current.row.answered_by_name} gave on "
            f"{format_uk_date(local_day(current.row.answered_at, ctx.tz))}; both are kept."
        )
    missing = [a.name for a in areas if a.id not in stances]
    if missing:
        reply.sections.append(Section("Not answered yet", lines=["; ".join(missing) + "."]))
    reply.hint = (
        f"You can change it until {closing_text(exercise.closes_on)}: answer again (areas you "
        "leave out keep their answer)."
    )
    return reply
