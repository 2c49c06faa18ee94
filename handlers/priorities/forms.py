"""The answer form: the Answer control on a partner's message, what the form shows, submitting it.

A surface with forms draws it (a modal, a card with inputs); it opens with the partner's current
answer filled in, so a submission is the whole answer. Typed answers go through `answers` alone.
"""

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import require_member
from handlers.priorities.answers import check_open, may_answer_for, not_yours, record_answer
from handlers.priorities.exercise import board_contacts
from handlers.replies import Operation, Reply, error_reply
from handlers.text.parsing import clean
from models.priorities import current_answers, exercise_areas, get_exercise, latest_exercise
from models.tables import Partner, PriorityExercise, Role, Stance

ANSWER = "priorities answer"  # the Operation that opens the form
_TARGET = re.compile(r"^(\d{1,12}):(\d{1,12})$")


def answer_operation(exercise_id: int, partner_id: int) -> Operation:
    """The Answer control: opens the form for this exercise and partner."""
    return Operation(ANSWER, "Answer", f"{exercise_id}:{partner_id}")


def parse_answer_target(text: str) -> tuple[int, int] | None:
    """(exercise id, partner id) from an Answer control's target; None if it is not one."""
    match = _TARGET.match(text or "")
    return (int(match[1]), int(match[2])) if match else None


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

    @property
    def target(self) -> str:
        """What the form carries back on submission: the Answer control's target."""
        return answer_operation(self.exercise_id, self.partner_id).target


def answer_form(
    session: Session, ctx: Context, exercise_id: int, partner_id: int
) -> AnswerForm | Reply:
    """The form a partner's Answer control opens, or why it cannot be answered."""
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
                "Open it again from the Answer button, or type "
                f"`{ctx.surface.typed('priorities answer ...')}`.",
            )
        if not stances and not note.strip():
            raise CommandError(
                "Nothing was chosen, so nothing was saved.",
                "Choose lead, contribute or not relevant for at least one area.",
            )
        current = current_answers(session=session, exercise_id=exercise.id).get(partner.id)
        return record_answer(
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
            f"Answer the newest one: `{ctx.surface.typed('priorities')}` shows it.",
        )
    check_open(exercise, ctx)
    contacts = board_contacts(session, ctx.board.id)
    partner = contacts.partner(partner_id)
    if partner is None:
        raise CommandError("That partner is no longer on the Board.", "Ask the secretariat.")
    if member.role == Role.OBSERVER:
        raise CommandError("Observers don't answer the priorities exercise.")
    if not may_answer_for(member, partner, contacts):
        raise not_yours(partner, contacts.partner(member.partner_id))
    return exercise, partner
