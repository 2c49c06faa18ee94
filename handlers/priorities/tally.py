"""The tally: per key crime area, which partners would lead or contribute, and who is missing."""

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from handlers.priorities.exercise import INVITATION, asked_partners, board_contacts
from handlers.text.dates import format_uk_date
from models.ledger import FAILED
from models.priorities import current_answers, deliveries_of, exercise_areas
from models.tables import Board, PriorityExercise, Stance


@dataclass
class TallyRow:
    """One area's count of partners who would lead, contribute, or say it is not relevant."""

    area: str
    priority: bool
    lead: list[str] = field(default_factory=list)
    contribute: list[str] = field(default_factory=list)
    not_relevant: list[str] = field(default_factory=list)

    @property
    def rank(self) -> tuple[int, int]:
        """Most support first: partners who would lead or contribute, then those who would lead."""
        return (-(len(self.lead) + len(self.contribute)), -len(self.lead))

    def text(self) -> str:
        """`2 lead (CoLP, NCA) · 1 contribute (Trading Standards) · 1 not relevant`."""
        parts = []
        for count_of, names in (("lead", self.lead), ("contribute", self.contribute)):
            if names:
                parts.append(f"{len(names)} {count_of} ({', '.join(names)})")
        if self.not_relevant:
            parts.append(f"{len(self.not_relevant)} not relevant")
        return " · ".join(parts) or "no answers yet"


@dataclass
class Tally:
    """An exercise's results: the rows, who has not answered, the notes."""

    rows: list[TallyRow]
    answered: list[str]
    waiting: list[str]
    not_asked: list[str]
    notes: list[tuple[str, str]]


@dataclass(frozen=True)
class TallyChart:
    """The tally as a chart draws it: a stacked bar per area (lead, contribute)."""

    board: str
    title: str
    as_at_text: str
    rows: tuple[TallyRow, ...]
    answered: int
    asked: int


def board_tally(session: Session, board: Board, exercise: PriorityExercise) -> Tally:
    """Who would lead or contribute per area, who has not answered, and the partners' notes."""
    contacts = board_contacts(session, board.id)
    answers = current_answers(session=session, exercise_id=exercise.id)
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    rows = {area.id: TallyRow(area.name, area.priority) for area in areas}
    asked = asked_partners(session, exercise, contacts)
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


def tally_chart(tally: Tally, *, board: str, as_at: date, is_open: bool) -> TallyChart:
    """The chart's data: the rows in the results' order."""
    asked = len(tally.answered) + len(tally.waiting)
    state = "so far" if is_open else "final"
    return TallyChart(
        board=board,
        title=f"Priorities exercise ({state}): partners who would lead or contribute",
        as_at_text=format_uk_date(as_at),
        rows=tuple(sorted(tally.rows, key=lambda r: r.rank)),
        answered=len(tally.answered),
        asked=asked,
    )
