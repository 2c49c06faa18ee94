"""`priorities ...`: the Board's priorities, opening an exercise, answering it, its results.

What the exercise is and who is asked: the package's docstring and `invitations`.
"""

from datetime import date

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings.commands import reminder_config
from handlers.permissions import is_admin, require_admin, require_member
from handlers.priorities.answers import (
    answerable_exercise,
    exercise_area,
    own_partners,
    parse_answer,
    parse_stance,
    partner_answering,
    record_answer,
)
from handlers.priorities.controls import CHOOSERS, closed_early, closing_moments
from handlers.priorities.exercise import (
    MAX_AREAS,
    asked_partners,
    board_contacts,
    exercise_area_choice,
    is_open,
    local_day,
)
from handlers.priorities.messages import (
    ANSWER_EXAMPLE,
    answer_facts,
    closing_text,
    possessive,
    results_reply,
)
from handlers.priorities.tally import board_tally, tally_chart
from handlers.replies import Audience, Delivery, Fact, Reply, ReplyFile, Section
from handlers.text.dates import DateParseError, format_uk_date, format_uk_moment, parse_user_date
from handlers.text.parsing import Args, clean
from handlers.text.vocab import find_area
from handlers.text.workdays import working_days_after
from models.boards import list_areas
from models.priorities import (
    create_exercise,
    current_answers,
    exercise_areas,
    latest_decision,
    latest_exercise,
    lock_board,
    record_decision,
)
from models.tables import CrimeArea, PriorityExercise

DEFAULT_WORKING_DAYS = 10
OPEN_OPTIONS = frozenset({"closes"})
_USE = f"Answers can be typed: `{ANSWER_EXAMPLE}`."


def status(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities`: the Board's priorities, and the exercise with your partner's answer."""
    member = require_member(ctx)
    args.expect_no_words(
        "priorities", "See `help priorities` for `priorities open`, `answer`, `results` and `set`."
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
    asked = asked_partners(session, exercise, contacts)
    section = Section(
        "Priorities exercise",
        facts=[
            Fact(
                "Opened",
                f"{format_uk_date(local_day(exercise.opened_at, ctx.tz))} by "
                f"{exercise.opened_by_name}",
            ),
            _closing_fact(exercise, open_now, ctx),
            Fact("Answered", f"{len(answers)} of {len(asked | set(answers))} partners asked"),
        ],
    )
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    for partner_id in own_partners(member, contacts):
        partner = contacts.partner(partner_id)
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
    config = reminder_config(ctx.board)
    default = working_days_after(ctx.today, DEFAULT_WORKING_DAYS, config.region)
    closes_on = _parse_closing(args.options.get("closes"), ctx, default)
    areas = exercise_area_choice(session, ctx.board.id)
    if not areas or len(areas) > MAX_AREAS:
        raise CommandError(
            f"The exercise would ask about {len(areas)} key crime areas; it can ask about 1 to "
            f"{MAX_AREAS}.",
            "See `area list`.",
        )
    moments = closing_moments(closes_on, config, ctx.tz)
    closes_at, reminder_at = moments.closes_at, moments.reminder_at
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
                "Partners who have not answered are reminded "
                f"{format_uk_moment(reminder_at, ctx.tz)}."
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
    exercise = answerable_exercise(session, ctx)
    parsed = parse_answer(text)
    if not parsed.pairs and parsed.note is None:
        raise CommandError(
            "Say what your partner thinks of at least one key crime area.",
            f'Example: `{ANSWER_EXAMPLE}`, or `priorities answer area="Cyber attack" lead`.',
        )
    contacts = board_contacts(session, ctx.board.id)
    partner = partner_answering(session, ctx, member, contacts, parsed.partner)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    stances: dict[int, str] = {}
    for area_text, stance_text in parsed.pairs:
        area = exercise_area(session, ctx, areas, area_text)
        stance = parse_stance(stance_text, area.name)
        if stances.get(area.id, stance) != stance:
            raise CommandError(f"{area.name} is given twice.", "Give each area once.")
        stances[area.id] = stance
    current = current_answers(session=session, exercise_id=exercise.id).get(partner.id)
    merged = {**(current.stances if current else {}), **stances}
    note = parsed.note if parsed.note is not None else (current.row.note if current else "")
    return record_answer(session, ctx, member, exercise, partner, areas, merged, note, current)


def results(session: Session, ctx: Context, args: Args) -> Reply:
    """`priorities results [private]`: the tally per area, who has not answered, the notes."""
    member = require_member(ctx)
    words = [w.casefold() for w in args.words]
    if any(w != "private" for w in words):
        raise CommandError(
            f"`priorities results` takes only `private` (“{args.text()}”).",
            f"Type `{ctx.surface.typed('priorities results')}`.",
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
    opened = f"Opened {format_uk_date(local_day(exercise.opened_at, ctx.tz))}."
    reply = results_reply(
        tally=tally,
        closes_on=exercise.closes_on,
        is_open=open_now,
        opened_text=opened,
        in_channel=in_channel,
        admin=is_admin(member),
        surface=ctx.surface,
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


def _closing_fact(exercise: PriorityExercise, open_now: bool, ctx: Context) -> Fact:
    """When it closes or closed: the closing day, or the moment it was closed early."""
    if open_now:
        return Fact("Closes", closing_text(exercise.closes_on))
    if closed_early(exercise, ctx.tz):
        return Fact("Closed", f"{format_uk_moment(exercise.closes_at, ctx.tz)}, early")
    return Fact("Closed", closing_text(exercise.closes_on))


_NO_QUOTES = str.maketrans({'"': None, "“": None, "”": None})


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
