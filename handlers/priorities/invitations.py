"""Who is asked what, when: the direct messages of an exercise due at a moment, for the sender.

Each partner's contact (`exercise.Contacts`) gets one invitation when an exercise opens or when
the partner first gets a member; a failed invitation is retried only for a new contact. Partners
that have not answered get one reminder at the exercise's reminder time. Each message is written
for the recipient's surface (`Invitation.reply_for`) and carries the Answer control.

An invitation already sent shows the closing day it was sent with (its ledger row's `due_at`).
When the exercise is extended or closed early, `outdated_invitations` rewrites each one as the
exercise stands now (the new closing day; or closed, without the Answer control) for the sender
to update the message in place.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import DIRECT_MESSAGE, Surface
from handlers.priorities.controls import closed_early
from handlers.priorities.exercise import INVITATION, Contacts, board_contacts, is_open
from handlers.priorities.forms import answer_operation
from handlers.priorities.messages import chase_reply, invitation_reply
from handlers.replies import Reply
from handlers.text.dates import format_uk_date, format_uk_moment
from models.ledger import FAILED, REMINDER, SENT, LedgerKey
from models.people import list_partners
from models.priorities import (
    current_answers,
    deliveries_of,
    exercise_areas,
    get_exercise,
    latest_exercise,
)
from models.tables import Board, CrimeArea, Member, Partner, PriorityDelivery, PriorityExercise

OPEN_POINT = "open"  # the ledger point of invitations; a reminder's is its local date


@dataclass(eq=False)
class Invitation:
    """One direct message of an exercise: an invitation or a reminder to one partner's contact."""

    key: LedgerKey
    board: Board
    exercise: PriorityExercise
    partner: Partner
    recipient: Member
    send_to: Member
    areas: list[CrimeArea]

    @property
    def area_count(self) -> int:
        """How many key crime areas it asks about."""
        return len(self.areas)

    @property
    def on_behalf_of(self) -> str:
        """The away member's name when their deputy gets the message."""
        return self.recipient.display_name if self.send_to.id != self.recipient.id else ""

    @cached_property
    def reply(self) -> Reply:
        """The message as written for `DIRECT_MESSAGE`."""
        return self.reply_for(DIRECT_MESSAGE)

    def reply_for(self, surface: Surface) -> Reply:
        """The message written for the recipient's surface, with its Answer control."""
        if self.key.kind == INVITATION:
            reply = invitation_reply(
                board_name=self.board.name,
                partner_name=self.partner.name,
                areas=self.areas,
                closes_on=self.exercise.closes_on,
                on_behalf_of=self.on_behalf_of,
                surface=surface,
            )
        else:
            reply = chase_reply(
                partner_name=self.partner.name,
                areas=self.areas,
                closes_on=self.exercise.closes_on,
                on_behalf_of=self.on_behalf_of,
                surface=surface,
            )
        reply.operations.append(answer_operation(self.exercise.id, self.partner.id))
        return reply


@dataclass(eq=False)
class Revision:
    """An invitation already sent, as it should read now: for updating the message in place."""

    row: PriorityDelivery
    board: Board
    exercise: PriorityExercise
    partner_name: str
    areas: list[CrimeArea]
    now: datetime

    @property
    def closes_at(self) -> datetime:
        """The closing moment the updated message shows (the row's `due_at` once updated)."""
        return self.exercise.closes_at

    def reply_for(self, surface: Surface) -> Reply:
        """The invitation with the current closing day and the Answer control, or closed."""
        reply = invitation_reply(
            board_name=self.board.name,
            partner_name=self.partner_name,
            areas=self.areas,
            closes_on=self.exercise.closes_on,
            on_behalf_of=self.row.on_behalf_of,
            surface=surface,
        )
        if is_open(self.exercise, self.now):
            reply.operations.append(answer_operation(self.exercise.id, self.row.partner_id))
            return reply
        tz = ZoneInfo(self.board.timezone)
        if closed_early(self.exercise, tz):
            closed = f"early, {format_uk_moment(self.exercise.closes_at, tz)}"
        else:
            closed = f"at the end of {format_uk_date(self.exercise.closes_on)}"
        reply.hint = f"The exercise closed {closed}: answers are no longer taken."
        return reply


def outdated_invitations(session: Session, board: Board, now: datetime) -> list[Revision]:
    """Invitations of the latest exercise sent showing another closing moment than it has now
    (it was extended, or closed early), each as it should read now."""
    exercise = latest_exercise(session=session, board_id=board.id)
    if exercise is None:
        return []
    if not is_open(exercise, now) and not closed_early(exercise, ZoneInfo(board.timezone)):
        return []  # closed on its day: the invitations were sent, or updated, with that day
    rows = [
        row
        for row in deliveries_of(session=session, exercise_id=exercise.id)
        if row.kind == INVITATION
        and row.status == SENT
        and row.message_ref
        and row.due_at != exercise.closes_at
    ]
    if not rows:
        return []
    areas = exercise_areas(session=session, exercise_id=exercise.id)
    names = {p.id: p.name for p in list_partners(session=session, board_id=board.id)}
    # A partner no longer on the Board is no longer asked: its invitation is left as it is.
    return [
        Revision(row, board, exercise, names[row.partner_id], areas, now)
        for row in rows
        if row.partner_id in names
    ]


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
        # A reminder for an earlier closing day (before an extension) does not count.
        point = reminder_point(board, exercise)
        chased = {r.partner_id for r in rows if r.kind == REMINDER and r.point == point}
        for row in invitations:
            partner = contacts.partner(row.partner_id)
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
    partner = contacts.partner(row.partner_id)
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
    point = OPEN_POINT if kind == INVITATION else reminder_point(board, exercise)
    key = LedgerKey(exercise.id, point, person.id, kind)
    return Invitation(key, board, exercise, partner, person, contacts.send_to(person), areas)


def reminder_point(board: Board, exercise: PriorityExercise) -> str:
    """The ledger point of the exercise's reminder: its local date (ISO)."""
    moment = exercise.reminder_at or exercise.closes_at
    return moment.astimezone(ZoneInfo(board.timezone)).date().isoformat()
