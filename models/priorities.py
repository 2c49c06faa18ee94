"""Priorities exercises: who was asked about which areas, their answers, the Board's decisions."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models.tables import (
    Board,
    CrimeArea,
    PriorityAnswer,
    PriorityDecision,
    PriorityDelivery,
    PriorityExercise,
    PriorityExerciseArea,
    PriorityStance,
)


@dataclass
class Answer:
    """A partner's current answer: the row and what it says per area id."""

    row: PriorityAnswer
    stances: dict[int, str] = field(default_factory=dict)


def lock_board(*, session: Session, board_id: int) -> None:
    """Serialise writers on the board row (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    session.exec(select(Board.id).where(Board.id == board_id).with_for_update()).first()


def latest_exercise(*, session: Session, board_id: int) -> PriorityExercise | None:
    """The most recently opened exercise, open or closed."""
    query = (
        select(PriorityExercise)
        .where(PriorityExercise.board_id == board_id)
        .order_by(PriorityExercise.opened_at.desc(), PriorityExercise.id.desc())
    )
    return session.exec(query).first()


def get_exercise(*, session: Session, board_id: int, exercise_id: int) -> PriorityExercise | None:
    """One of the board's exercises by id."""
    exercise = session.get(PriorityExercise, exercise_id)
    return exercise if exercise is not None and exercise.board_id == board_id else None


def create_exercise(
    *,
    session: Session,
    board_id: int,
    opened_at: datetime,
    opened_by_member_id: int | None,
    opened_by_name: str,
    closes_on: date,
    closes_at: datetime,
    reminder_at: datetime | None,
    area_ids: list[int],
) -> PriorityExercise:
    """Open an exercise over these areas, in this order."""
    exercise = PriorityExercise(
        board_id=board_id,
        opened_at=opened_at,
        opened_by_member_id=opened_by_member_id,
        opened_by_name=opened_by_name[:200],
        closes_on=closes_on,
        closes_at=closes_at,
        reminder_at=reminder_at,
    )
    session.add(exercise)
    session.flush()
    for position, area_id in enumerate(area_ids):
        row = PriorityExerciseArea(exercise_id=exercise.id, area_id=area_id, position=position)
        session.add(row)
    session.flush()
    return exercise


def exercise_areas(*, session: Session, exercise_id: int) -> list[CrimeArea]:
    """The areas an exercise asks about, in its order."""
    query = (
        select(CrimeArea)
        .join(PriorityExerciseArea, PriorityExerciseArea.area_id == CrimeArea.id)
        .where(PriorityExerciseArea.exercise_id == exercise_id)
        .order_by(PriorityExerciseArea.position)
    )
    return list(session.exec(query))


def current_answers(*, session: Session, exercise_id: int) -> dict[int, Answer]:
    """Each partner's latest answer to an exercise, by partner id."""
    latest = (
        select(PriorityAnswer.partner_id, func.max(PriorityAnswer.version).label("version"))
        .where(PriorityAnswer.exercise_id == exercise_id)
        .group_by(PriorityAnswer.partner_id)
        .subquery()
    )
    query = select(PriorityAnswer).join(
        latest,
        (PriorityAnswer.partner_id == latest.c.partner_id)
        & (PriorityAnswer.version == latest.c.version),
    )
    answers = {
        row.partner_id: Answer(row)
        for row in session.exec(query.where(PriorityAnswer.exercise_id == exercise_id))
    }
    by_id = {answer.row.id: answer for answer in answers.values()}
    if by_id:
        stances = select(PriorityStance).where(PriorityStance.answer_id.in_(list(by_id)))
        for stance in session.exec(stances):
            by_id[stance.answer_id].stances[stance.area_id] = stance.stance
    return answers


def answer_count(*, session: Session, exercise_id: int, partner_id: int) -> int:
    """How many answers a partner has given (the current one and those it replaced)."""
    query = select(func.count()).where(
        PriorityAnswer.exercise_id == exercise_id, PriorityAnswer.partner_id == partner_id
    )
    return session.exec(query).one()


def save_answer(
    *,
    session: Session,
    board_id: int,
    exercise_id: int,
    partner_id: int,
    answered_at: datetime,
    answered_by_member_id: int | None,
    answered_by_name: str,
    note: str,
    stances: dict[int, str],
) -> PriorityAnswer:
    """Add a partner's answer as its newest version; earlier ones are kept as its history."""
    version = answer_count(session=session, exercise_id=exercise_id, partner_id=partner_id) + 1
    # Two answers at the same moment get the same version: the unique key refuses the second.
    answer = PriorityAnswer(
        board_id=board_id,
        exercise_id=exercise_id,
        partner_id=partner_id,
        version=version,
        answered_at=answered_at,
        answered_by_member_id=answered_by_member_id,
        answered_by_name=answered_by_name[:200],
        note=note,
    )
    session.add(answer)
    session.flush()
    for area_id, stance in stances.items():
        session.add(PriorityStance(answer_id=answer.id, area_id=area_id, stance=stance))
    session.flush()
    return answer


def record_decision(
    *,
    session: Session,
    board_id: int,
    exercise_id: int | None,
    decided_at: datetime,
    decided_by_member_id: int | None,
    decided_by_name: str,
    areas: Iterable[CrimeArea],
) -> PriorityDecision:
    """Record the Board's chosen priorities and flag exactly those areas as priorities."""
    chosen = list(areas)
    chosen_ids = {area.id for area in chosen}
    for area in session.exec(select(CrimeArea).where(CrimeArea.board_id == board_id)):
        if area.priority != (area.id in chosen_ids):
            area.priority = area.id in chosen_ids
            session.add(area)
    decision = PriorityDecision(
        board_id=board_id,
        exercise_id=exercise_id,
        decided_at=decided_at,
        decided_by_member_id=decided_by_member_id,
        decided_by_name=decided_by_name[:200],
        area_names="|".join(area.name for area in chosen),
    )
    session.add(decision)
    session.flush()
    return decision


def latest_decision(*, session: Session, board_id: int) -> PriorityDecision | None:
    """The most recent record of the Board's priorities."""
    query = (
        select(PriorityDecision)
        .where(PriorityDecision.board_id == board_id)
        .order_by(PriorityDecision.decided_at.desc(), PriorityDecision.id.desc())
    )
    return session.exec(query).first()


def deliveries_of(*, session: Session, exercise_id: int) -> list[PriorityDelivery]:
    """Every ledger row (invitations and reminders) of an exercise."""
    query = select(PriorityDelivery).where(PriorityDelivery.exercise_id == exercise_id)
    return list(session.exec(query.order_by(PriorityDelivery.id)))


def reschedule_exercise(
    *,
    session: Session,
    exercise: PriorityExercise,
    closes_on: date,
    closes_at: datetime,
    reminder_at: datetime | None,
) -> PriorityExercise:
    """Move an exercise's close (earlier to close it, later to extend it) and its reminder."""
    exercise.closes_on, exercise.closes_at, exercise.reminder_at = closes_on, closes_at, reminder_at
    session.add(exercise)
    session.flush()
    return exercise
