"""`/soc priorities ...`: the priorities exercise (report, para 14), and who is asked what, when.

The secretariat opens an exercise over the Government strategy's eight key crime areas plus the
Board's own (and any current priority); one contact per partner (their deputy while they are
away) is asked by direct message whether their service would lead on, contribute to, or has no
interest in each area. A partner's later answer replaces its earlier one, and every version is
kept. The chair sees the tally and records the three or four areas the Board chose, which
summaries and the App Home then put first.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings.commands import reminder_config
from handlers.meetings.rules import local_to_utc
from handlers.permissions import is_admin, require_admin, require_member
from handlers.personal_data import screen
from handlers.priorities.messages import (
    ANSWER_EXAMPLE,
    STANCE_WORDS,
    Tally,
    TallyRow,
    answer_facts,
    chase_reply,
    closing_text,
    invitation_reply,
    possessive,
    results_reply,
    tally_chart,
)
from handlers.replies import Audience, Delivery, Fact, Reply, ReplyFile, Section, error_reply
from handlers.text.dates import DateParseError, format_uk_date, parse_user_date
from handlers.text.parsing import Args, clean, tokenize
from handlers.text.vocab import find_area, find_partners
from handlers.text.workdays import is_working_day, working_days_before
from models.boards import list_areas
from models.ledger import FAILED, REMINDER, SENT, LedgerKey
from models.people import list_members, list_partners
from models.priorities import (
    Answer,
    create_exercise,
    current_answers,
    deliveries_of,
    exercise_areas,
    get_exercise,
    latest_decision,
    latest_exercise,
    lock_board,
    record_decision,
    save_answer,
)
from models.schedule import get_schedule
from models.tables import (
    AreaSource,
    Board,
    CrimeArea,
    Member,
    Partner,
    PriorityDelivery,
    PriorityExercise,
    Role,
    Stance,
)

INVITATION = "invitation"  # the ledger kind of the first message; reminders use REMINDER
OPEN_POINT = "open"  # the ledger point of invitations
DEFAULT_WORKING_DAYS = 10
MAX_AREAS = 40  # each is a question in the answer form (Slack allows 100 blocks in a modal)
NOTE_LIMIT = 3000
OPEN_OPTIONS = frozenset({"closes"})
CHOOSERS = {Role.CHAIR, Role.SECRETARIAT}
_USE = f"Answers can be typed: `{ANSWER_EXAMPLE}`."


# --- who is asked ---------------------------------------------------------------------------------


def exercise_area_choice(session: Session, board_id: int) -> list[CrimeArea]:
    """The Government strategy's eight, the Board's own areas, and any current priority."""
    areas = list_areas(session=session, board_id=board_id)
    asked = [a for a in areas if a.source != AreaSource.NATIONAL_ASSESSMENT or a.priority]
    return sorted(asked, key=lambda a: (a.position, a.id))


@dataclass
class Contacts:
    """The partners that can be asked, each one's contact, and every member by id."""

    partners: list[Partner]
    contact: dict[int, Member]
    members: dict[int, Member]

    def send_to(self, person: Member) -> Member:
        """The person, or their deputy while they are away."""
        deputy = self.members.get(person.deputy_id) if person.away and person.deputy_id else None
        return deputy or person

    def deputised(self, member: Member) -> set[int]:
        """Partners of away members whose deputy is `member`."""
        return {
            m.partner_id
            for m in self.members.values()
            if m.away and m.deputy_id == member.id and m.partner_id is not None
        }


def board_contacts(session: Session, board_id: int) -> Contacts:
    """One contact per partner: its longest-standing member who is not an observer."""
    partners = [p for p in list_partners(session=session, board_id=board_id) if not p.collective]
    members = sorted(list_members(session=session, board_id=board_id), key=lambda m: m.id)
    contact: dict[int, Member] = {}
    for member in members:
        if member.partner_id is not None and member.role != Role.OBSERVER:
            contact.setdefault(member.partner_id, member)
    return Contacts(partners, contact, {m.id: m for m in members})


def is_open(exercise: PriorityExercise, now: datetime) -> bool:
    """Whether answers are still taken at `now`."""
    return now < exercise.closes_at


# --- /soc priorities ------------------------------------------------------------------------------


def status(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities`: the Board's priorities, and the exercise with your partner's answer."""
    member = require_member(ctx)
    if args.words:
        raise CommandError(
            f"`priorities` takes nothing more (“{args.text()}”).",
            "See `help priorities` for `priorities open`, `answer`, `results` and `set`.",
        )
    board_id = ctx.board.id
    chosen = [a for a in list_areas(session=session, board_id=board_id) if a.priority]
    current = Section("Current priorities", lines=[f"★ {a.name}" for a in chosen])
    if not chosen:
        current.lines.append("None recorded yet.")
    decision = latest_decision(session=session, board_id=board_id)
    if decision is not None:
        current.facts.append(Fact("Recorded by", decision.decided_by_name, at=decision.decided_at))
    reply = Reply(title="The Board's priorities", sections=[current])
    exercise = latest_exercise(session=session, board_id=board_id)
    if exercise is None:
        reply.hint = "No priorities exercise has been run yet; the secretariat opens one with " + (
            "`priorities open closes=<date>`."
        )
        return reply
    contacts = board_contacts(session, board_id)
    answers = current_answers(session=session, exercise_id=exercise.id)
    open_now = is_open(exercise, ctx.now)
    section = Section(
        "Priorities exercise",
        facts=[
            Fact(
                "Opened",
                f"{format_uk_date(_local_day(exercise.opened_at, ctx.tz))} by "
                f"{exercise.opened_by_name}",
            ),
            Fact("Closes" if open_now else "Closed", closing_text(exercise.closes_on)),
            Fact(
                "Answered",
                f"{len(answers)} of {len(_asked(session, exercise, contacts) | set(answers))} "
                "partners asked",
            ),
        ],
    )
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    for partner_id in _own_partners(member, contacts):
        partner = next((p for p in contacts.partners if p.id == partner_id), None)
        if partner is None:
            continue
        answer = answers.get(partner.id)
        if answer is None:
            section.lines.append(f"{partner.name} has not answered yet.")
            continue
        heading = f"{possessive(partner.name)} answer, given by {answer.row.answered_by_name}"
        mine = Section(heading, facts=answer_facts(areas, answer.stances))
        if answer.row.note:
            mine.facts.append(Fact("Own priorities", answer.row.note))
        reply.sections.append(mine)
    reply.sections.insert(1, section)
    reply.hint = (
        f"Answer with `{ANSWER_EXAMPLE}`; see the tally with `priorities results`."
        if open_now
        else "See the tally with `priorities results`."
    )
    return reply


def open_(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities open [closes=<date>]`: ask every partner which key crime areas matter to it."""
    member = require_admin(ctx, "open a priorities exercise")
    if args.words:
        raise CommandError(
            f"`priorities open` takes only closes=<date> (“{args.text()}”).",
            "Example: `priorities open closes=26/02/2027`.",
        )
    lock_board(session=session, board_id=ctx.board.id)
    current = latest_exercise(session=session, board_id=ctx.board.id)
    if current is not None and is_open(current, ctx.now):
        raise CommandError(
            f"A priorities exercise is already open, until {closing_text(current.closes_on)}.",
            "See `priorities results`; a new one can be opened once it has closed.",
        )
    config = reminder_config(get_schedule(session=session, board_id=ctx.board.id), ctx.tz)
    default = _working_days_after(ctx.today, DEFAULT_WORKING_DAYS, config.region)
    closes_on = _parse_closing(args.options.get("closes"), ctx, default)
    areas = exercise_area_choice(session, ctx.board.id)
    if not areas or len(areas) > MAX_AREAS:
        raise CommandError(
            f"The exercise would ask about {len(areas)} key crime areas; it can ask about 1 to "
            f"{MAX_AREAS}.",
            "See `area list`.",
        )
    closes_at = local_to_utc(datetime.combine(closes_on + timedelta(days=1), time(0)), ctx.tz)
    reminder_day = working_days_before(closes_on, 1, config.region)
    reminder_at = local_to_utc(datetime.combine(reminder_day, config.at), config.tz)
    exercise = create_exercise(
        session=session,
        board_id=ctx.board.id,
        opened_at=ctx.now,
        opened_by_member_id=member.id,
        opened_by_name=member.display_name,
        closes_on=closes_on,
        closes_at=closes_at,
        reminder_at=reminder_at if reminder_at > ctx.now else None,
        area_ids=[a.id for a in areas],
    )
    contacts = board_contacts(session, ctx.board.id)
    asked = [p for p in contacts.partners if p.id in contacts.contact]
    reply = Reply(
        title=f"Priorities exercise open until {closing_text(closes_on)}",
        text=(
            f"Asking {len(asked)} partners about {len(areas)} key crime areas: the Government "
            "strategy's eight and the Board's own. One answer per partner; a later one replaces it."
        ),
    )
    lines = []
    for partner in asked:
        person = contacts.contact[partner.id]
        send_to = contacts.send_to(person)
        via = f", via their deputy {send_to.display_name}" if send_to.id != person.id else ""
        lines.append(f"{partner.name}: {person.display_name}{via}")
    reply.sections.append(Section("Asked", lines=lines or ["No partner has a member to ask."]))
    reply.sections.append(Section("Areas", lines=[a.name for a in areas]))
    missing = [p.name for p in contacts.partners if p.id not in contacts.contact]
    if missing:
        reply.sections.append(
            Section("Not asked: no member represents them", lines=["; ".join(missing) + "."])
        )
    reply.sections.append(
        Section(
            "Reminder",
            lines=[
                f"Partners who have not answered are reminded {_when(reminder_at, ctx.tz)}."
                if exercise.reminder_at
                else "None: it closes too soon for a reminder the working day before."
            ],
        )
    )
    reply.notice = (
        "Each partner's contact gets a direct message within a minute."
        if ctx.surface.buttons
        else "The worker (`soc-bot worker`) sends each partner's contact a direct message."
    )
    reply.hint = f"Add a partner's member with `member add`; they are asked at once. {_USE}"
    return reply


def answer(session: Session, ctx: Context, text: str) -> Reply:
    """`priorities answer cyber=lead fraud=contribute note="..."`: your partner's answer."""
    member = require_member(ctx)
    exercise = _answerable_exercise(session, ctx)
    parsed = parse_answer(text)
    if not parsed.pairs and parsed.note is None:
        raise CommandError(
            "Say what your partner thinks of at least one key crime area.",
            f'Example: `{ANSWER_EXAMPLE}`, or `priorities answer area="Cyber attack" lead`.',
        )
    contacts = board_contacts(session, ctx.board.id)
    partner = _partner_answering(session, ctx, member, contacts, parsed.partner)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    stances: dict[int, str] = {}
    for area_text, stance_text in parsed.pairs:
        area = _exercise_area(session, ctx, areas, area_text)
        stance = parse_stance(stance_text, area.name)
        if stances.get(area.id, stance) != stance:
            raise CommandError(f"{area.name} is given twice.", "Give each area once.")
        stances[area.id] = stance
    current = current_answers(session=session, exercise_id=exercise.id).get(partner.id)
    merged = {**(current.stances if current else {}), **stances}
    note = parsed.note if parsed.note is not None else (current.row.note if current else "")
    return _record(session, ctx, member, exercise, partner, areas, merged, note, current)


def results(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities results [private]`: the tally per area, who has not answered, the notes."""
    member = require_member(ctx)
    words = [w.casefold() for w in args.words]
    if any(w != "private" for w in words):
        raise CommandError(
            f"`priorities results` takes only `private` (“{args.text()}”).",
            "Type `/soc priorities results`.",
        )
    exercise = latest_exercise(session=session, board_id=ctx.board.id)
    if exercise is None:
        return Reply(
            title="No priorities exercise has been run yet.",
            hint="The secretariat opens one with `priorities open closes=<date>`.",
        )
    in_channel = is_admin(member) and "private" not in words
    tally = board_tally(session, ctx.board, exercise)
    open_now = is_open(exercise, ctx.now)
    opened = f"Opened {format_uk_date(_local_day(exercise.opened_at, ctx.tz))}."
    reply = results_reply(
        tally=tally,
        closes_on=exercise.closes_on,
        is_open=open_now,
        opened_text=opened,
        in_channel=in_channel,
        admin=is_admin(member),
    )
    if in_channel and ctx.surface.files:
        chart = tally_chart(tally, board=ctx.board.name, as_at=ctx.today, is_open=open_now)
        day = ctx.today.isoformat()
        reply.files.append(
            ReplyFile(
                f"Priorities tally, {day}",
                f"priorities-tally-{day}.png",
                "png",
                chart,
                Delivery.CHANNEL,
            )
        )
        reply.text += " The chart follows as an image."
    return reply


def set_(session: Session, ctx: Context, text: str) -> Reply:
    """`priorities set <area>, <area>, <area>`: record the Board's chosen priorities."""
    member = require_member(ctx)
    if member.role not in CHOOSERS:
        raise CommandError(
            "Only the chair or the secretariat can record the Board's priorities.",
            "The Board decides them; ask the chair to record the decision.",
        )
    names = [n.strip() for n in clean(text).translate(_NO_QUOTES).split(",") if n.strip()]
    if not names:
        raise CommandError(
            "Name the key crime areas the Board chose, separated by commas.",
            'Example: `priorities set "Cyber attack", Fraud, "Modern slavery"` '
            "(`priorities set none` clears them).",
        )
    areas: list[CrimeArea] = []
    if [n.casefold() for n in names] != ["none"]:
        for name in names:
            area = find_area(session, ctx.board.id, name)
            if area.id not in {a.id for a in areas}:
                areas.append(area)
    exercise = latest_exercise(session=session, board_id=ctx.board.id)
    record_decision(
        session=session,
        board_id=ctx.board.id,
        exercise_id=exercise.id if exercise else None,
        decided_at=ctx.now,
        decided_by_member_id=member.id,
        decided_by_name=member.display_name,
        areas=areas,
    )
    reply = Reply(
        title="The Board's priorities are now: " + "; ".join(a.name for a in areas)
        if areas
        else "The Board's priorities are cleared",
        text=f"Recorded by {member.display_name}. Summaries, `area list` and the App Home put "
        "the priorities first.",
        audience=Audience.IN_CHANNEL,
    )
    notes = []
    if areas and len(areas) not in (3, 4):
        notes.append(f"That is {len(areas)}; the Board aims for three or four (report, para 14).")
    if exercise is not None and is_open(exercise, ctx.now):
        notes.append(
            f"The priorities exercise is still open until {closing_text(exercise.closes_on)}."
        )
    reply.notice = " ".join(notes)
    return reply


_NO_QUOTES = str.maketrans({'"': None, "“": None, "”": None})


# --- answers --------------------------------------------------------------------------------------


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


def _answerable_exercise(session: Session, ctx: Context) -> PriorityExercise:
    exercise = latest_exercise(session=session, board_id=ctx.board.id)
    if exercise is None:
        raise CommandError(
            "No priorities exercise is open.",
            "The secretariat opens one with `priorities open closes=<date>`.",
        )
    _check_open(exercise, ctx)
    return exercise


def _check_open(exercise: PriorityExercise, ctx: Context) -> None:
    if not is_open(exercise, ctx.now):
        raise CommandError(
            f"The priorities exercise closed on {format_uk_date(exercise.closes_on)}; "
            "answers are no longer taken.",
            "See `priorities results`; ask the secretariat if your answer must still count.",
        )


def _own_partners(member: Member, contacts: Contacts) -> list[int]:
    """The partners a member answers for without naming one: theirs, or one they deputise for."""
    if member.role == Role.OBSERVER:
        return []
    if member.partner_id is not None:
        return [member.partner_id]
    return sorted(contacts.deputised(member))


def _partner_answering(
    session: Session, ctx: Context, member: Member, contacts: Contacts, partner_text: str
) -> Partner:
    if member.role == Role.OBSERVER:
        raise CommandError(
            "Observers don't answer the priorities exercise.",
            "Each partner's member answers for it.",
        )
    own = next((p for p in contacts.partners if p.id == member.partner_id), None)
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
        if (
            is_admin(member)
            or partner.id == member.partner_id
            or partner.id in (contacts.deputised(member))
        ):
            return partner
        raise _not_yours(partner, own)
    own_ids = _own_partners(member, contacts)
    if len(own_ids) == 1:
        partner = own or next((p for p in contacts.partners if p.id == own_ids[0]), None)
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


def _not_yours(partner: Partner, own: Partner | None) -> CommandError:
    mine = f"you represent {own.name}" if own else "you don't represent a partner"
    return CommandError(
        f"You can't answer for {partner.name}: {mine}.",
        "Each partner answers for itself; the secretariat can record an answer sent by email.",
    )


def _exercise_area(session: Session, ctx: Context, areas: list[CrimeArea], text: str) -> CrimeArea:
    area = find_area(session, ctx.board.id, text)
    if area.id not in {a.id for a in areas}:
        raise CommandError(
            f"{area.name} is not one of this exercise's areas.",
            "Its areas: " + "; ".join(a.name for a in areas) + ".",
        )
    return area


def _record(
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
            f"{format_uk_date(_local_day(current.row.answered_at, ctx.tz))}; both are kept."
        )
    missing = [a.name for a in areas if a.id not in stances]
    if missing:
        reply.sections.append(Section("Not answered yet", lines=["; ".join(missing) + "."]))
    reply.hint = (
        f"You can change it until {closing_text(exercise.closes_on)}: answer again (areas you "
        "leave out keep their answer)."
    )
    return reply


# --- the tally ------------------------------------------------------------------------------------


def board_tally(session: Session, board: Board, exercise: PriorityExercise) -> Tally:
    """Who would lead or contribute per area, who has not answered, and the partners' notes."""
    contacts = board_contacts(session, board.id)
    answers = current_answers(session=session, exercise_id=exercise.id)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    rows = {area.id: TallyRow(area.name, area.priority) for area in areas}
    asked = _asked(session, exercise, contacts)
    failed = {
        row.partner_id: row.error
        for row in deliveries_of(session=session, exercise_id=exercise.id)
        if row.kind == INVITATION and row.status == FAILED
    }
    tally = Tally(rows=list(rows.values()), answered=[], waiting=[], not_asked=[], notes=[])
    for partner in contacts.partners:
        answer = answers.get(partner.id)
        if answer is not None:
            tally.answered.append(partner.name)
            for area_id, stance in answer.stances.items():
                row = rows.get(area_id)
                if row is not None:
                    {
                        Stance.LEAD: row.lead,
                        Stance.CONTRIBUTE: row.contribute,
                        Stance.NOT_RELEVANT: row.not_relevant,
                    }[Stance(stance)].append(partner.name)
            if answer.row.note:
                tally.notes.append((partner.name, answer.row.note))
        elif partner.id in asked:
            person = contacts.contact.get(partner.id)
            who = f" ({person.display_name})" if person else ""
            error = failed.get(partner.id)
            why = f": the direct message failed ({error})" if error else ""
            tally.waiting.append(f"{partner.name}{who}{why}")
        else:
            tally.not_asked.append(partner.name)
    return tally


def _asked(session: Session, exercise: PriorityExercise, contacts: Contacts) -> set[int]:
    """Partners asked: those with a contact now, or sent an invitation earlier."""
    invited = {
        row.partner_id
        for row in deliveries_of(session=session, exercise_id=exercise.id)
        if row.kind == INVITATION
    }
    return invited | set(contacts.contact)


# --- Slack's answer form ----------------------------------------------------------------------


@dataclass
class AnswerForm:
    """What the answer form shows: the areas, the partner's current answer and note."""

    exercise_id: int
    partner_id: int
    partner_name: str
    closes_on: date
    areas: list[tuple[int, str]]
    stances: dict[int, str]
    note: str


def answer_form(
    session: Session, ctx: Context, exercise_id: int, partner_id: int
) -> AnswerForm | Reply:
    """The form a partner's Answer button opens, or why it cannot be answered."""
    try:
        exercise, partner = _form_target(session, ctx, exercise_id, partner_id)
    except CommandError as err:
        return error_reply(err.message, err.hint)
    current = current_answers(session=session, exercise_id=exercise.id).get(partner.id)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    return AnswerForm(
        exercise_id=exercise.id,
        partner_id=partner.id,
        partner_name=partner.name,
        closes_on=exercise.closes_on,
        areas=[(a.id, a.name) for a in areas],
        stances=dict(current.stances) if current else {},
        note=current.row.note if current else "",
    )


def submit_answer(
    session: Session,
    ctx: Context,
    exercise_id: int,
    partner_id: int,
    stances: dict[int, str],
    note: str,
) -> Reply:
    """Record a submitted answer form: the whole answer, replacing the partner's last one."""
    try:
        exercise, partner = _form_target(session, ctx, exercise_id, partner_id)
        areas = exercise_areas(session=session, exercise_id=exercise.id)
        known = {a.id for a in areas}
        valid = {s.value for s in Stance}
        if not set(stances) <= known or not set(stances.values()) <= valid:
            raise CommandError(
                "That form is out of date, so nothing was saved.",
                "Open it again from the Answer button, or type `/soc priorities answer ...`.",
            )
        if not stances and not note.strip():
            raise CommandError(
                "Nothing was chosen, so nothing was saved.",
                "Choose lead, contribute or not relevant for at least one area.",
            )
        current = current_answers(session=session, exercise_id=exercise.id).get(partner.id)
        return _record(
            session, ctx, ctx.member, exercise, partner, areas, stances, clean(note), current
        )
    except CommandError as err:
        return error_reply(err.message, err.hint)


def _form_target(
    session: Session, ctx: Context, exercise_id: int, partner_id: int
) -> tuple[PriorityExercise, Partner]:
    member = require_member(ctx)
    exercise = get_exercise(session=session, board_id=ctx.board.id, exercise_id=exercise_id)
    latest = latest_exercise(session=session, board_id=ctx.board.id)
    if exercise is None or latest is None or latest.id != exercise.id:
        raise CommandError(
            "That priorities exercise has been replaced by a newer one.",
            "Answer the newest one: `/soc priorities` shows it.",
        )
    _check_open(exercise, ctx)
    contacts = board_contacts(session, ctx.board.id)
    partner = next((p for p in contacts.partners if p.id == partner_id), None)
    if partner is None:
        raise CommandError("That partner is no longer on the Board.", "Ask the secretariat.")
    if member.role == Role.OBSERVER:
        raise CommandError("Observers don't answer the priorities exercise.")
    allowed = {member.partner_id, *contacts.deputised(member)}
    if not is_admin(member) and partner.id not in allowed:
        own = next((p for p in contacts.partners if p.id == member.partner_id), None)
        raise _not_yours(partner, own)
    return exercise, partner


# --- direct messages for the worker ------------------------------------------------------------


@dataclass(eq=False)
class Invitation:
    """One direct message of an exercise: an invitation or a reminder to one partner's contact."""

    key: LedgerKey
    exercise: PriorityExercise
    partner: Partner
    recipient: Member
    send_to: Member
    reply: Reply
    area_count: int

    @property
    def on_behalf_of(self) -> str:
        """The away member's name when their deputy gets the message."""
        return self.recipient.display_name if self.send_to.id != self.recipient.id else ""


def plan_invitations(session: Session, board: Board, now: datetime) -> list[Invitation]:
    """The messages due at `now` that the ledger has no row for yet."""
    exercise = latest_exercise(session=session, board_id=board.id)
    if exercise is None or not is_open(exercise, now):
        return []
    rows = deliveries_of(session=session, exercise_id=exercise.id)
    contacts = board_contacts(session, board.id)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    invitations = [r for r in rows if r.kind == INVITATION]
    # A failed invitation is retried only when the partner has a new contact.
    done = {r.partner_id for r in invitations if r.status != FAILED}
    tried = {(r.partner_id, r.recipient_member_id) for r in invitations}
    planned = []
    for partner in contacts.partners:
        person = contacts.contact.get(partner.id)
        if person is None or partner.id in done or (partner.id, person.id) in tried:
            continue
        planned.append(_message(board, exercise, partner, person, INVITATION, areas, contacts))
    if exercise.reminder_at is not None and now >= exercise.reminder_at:
        answered = current_answers(session=session, exercise_id=exercise.id)
        chased = {r.partner_id for r in rows if r.kind == REMINDER}
        by_id = {p.id: p for p in contacts.partners}
        for row in invitations:
            partner = by_id.get(row.partner_id)
            person = contacts.members.get(row.recipient_member_id)
            sent_before = row.sent_at is not None and row.sent_at < exercise.reminder_at
            if (
                partner is None
                or person is None
                or row.status != SENT
                or not sent_before
                or partner.id in answered
                or partner.id in chased
            ):
                continue
            chased.add(partner.id)
            planned.append(_message(board, exercise, partner, person, REMINDER, areas, contacts))
    return planned


def redo_invitation(
    session: Session, board: Board, row: PriorityDelivery, now: datetime
) -> Invitation | str:
    """An unfinished ledger row's message as things stand now, or why it should not go out."""
    exercise = get_exercise(session=session, board_id=board.id, exercise_id=row.exercise_id)
    if exercise is None or not is_open(exercise, now):
        return "the exercise closed before it could be sent"
    contacts = board_contacts(session, board.id)
    partner = next((p for p in contacts.partners if p.id == row.partner_id), None)
    person = contacts.members.get(row.recipient_member_id)
    if partner is None or person is None:
        return "the partner or its contact left the Board before it could be sent"
    if partner.id in current_answers(session=session, exercise_id=exercise.id):
        return "the partner answered before it could be sent"
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    return _message(board, exercise, partner, person, row.kind, areas, contacts)


def _message(
    board: Board,
    exercise: PriorityExercise,
    partner: Partner,
    person: Member,
    kind: str,
    areas: list[CrimeArea],
    contacts: Contacts,
) -> Invitation:
    send_to = contacts.send_to(person)
    on_behalf = person.display_name if send_to.id != person.id else ""
    if kind == INVITATION:
        point = OPEN_POINT
        reply = invitation_reply(
            board_name=board.name,
            partner_name=partner.name,
            areas=areas,
            closes_on=exercise.closes_on,
            on_behalf_of=on_behalf,
        )
    else:
        point = (exercise.reminder_at or exercise.closes_at).astimezone(ZoneInfo(board.timezone))
        point = point.date().isoformat()
        reply = chase_reply(
            partner_name=partner.name,
            areas=areas,
            closes_on=exercise.closes_on,
            on_behalf_of=on_behalf,
        )
    key = LedgerKey(exercise.id, point, person.id, kind)
    return Invitation(key, exercise, partner, person, send_to, reply, len(areas))


# --- dates ----------------------------------------------------------------------------------------


def _parse_closing(text: str | None, ctx: Context, default: date) -> date:
    if text is None:
        return default
    try:
        closes_on = parse_user_date(text, today=ctx.today)
    except DateParseError as err:
        raise CommandError(str(err), f"Example: closes={default:%d/%m/%Y}.") from None
    if closes_on < ctx.today:
        raise CommandError(
            f"The closing date, {format_uk_date(closes_on)}, is in the past.",
            f"Give today or a later date, e.g. closes={default:%d/%m/%Y}.",
        )
    return closes_on


def _working_days_after(day: date, count: int, region: str) -> date:
    current = day
    while count:
        current += timedelta(days=1)
        if is_working_day(current, region):
            count -= 1
    return current


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{format_uk_date(local.date())} {local:%H:%M}"
