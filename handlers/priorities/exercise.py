"""Who and what an exercise asks: its areas, each partner's contact, who was asked, if open."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.boards import list_areas
from models.people import list_members, list_partners
from models.priorities import deliveries_of
from models.tables import AreaSource, CrimeArea, Member, Partner, PriorityExercise, Role

INVITATION = "invitation"  # the ledger kind of an exercise's first message to a partner
# Each area is a question in the answer form; a form holds at most 100 blocks in a chat channel.
MAX_AREAS = 40


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

    def partner(self, partner_id: int | None) -> Partner | None:
        """The partner with this id, if it can be asked."""
        return next((p for p in self.partners if p.id == partner_id), None)


def board_contacts(session: Session, board_id: int) -> Contacts:
    """One contact per partner: its longest-standing member who is not an observer."""
    partners = [p for p in list_partners(session=session, board_id=board_id) if not p.collective]
    members = sorted(list_members(session=session, board_id=board_id), key=lambda m: m.id)
    contact: dict[int, Member] = {}
    for member in members:
        if member.partner_id is not None and member.role != Role.OBSERVER:
            contact.setdefault(member.partner_id, member)
    return Contacts(partners, contact, {m.id: m for m in members})


def asked_partners(session: Session, exercise: PriorityExercise, contacts: Contacts) -> set[int]:
    """Partners asked: those with a contact now, or sent an invitation earlier."""
    invited = {
        row.partner_id
        for row in deliveries_of(session=session, exercise_id=exercise.id)
        if row.kind == INVITATION
    }
    return invited | set(contacts.contact)


def is_open(exercise: PriorityExercise, now: datetime) -> bool:
    """Whether answers are still taken at `now`."""
    return now < exercise.closes_at


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The Board's local date at `moment`."""
    return moment.astimezone(tz).date()
