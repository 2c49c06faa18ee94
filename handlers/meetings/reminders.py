"""Who is reminded of what before each meeting: pure selection from the register at `now`.

For each coming meeting, the latest reminder point that has passed is due (a worker that was down
through several points sends only the latest; the earlier ones are recorded as superseded). Each
lead partner's contact gets one message per point listing their partner's open actions that are
overdue, due by the meeting, or not updated since the last meeting; the chair, deputy and
secretariat get a digest at the last point. The register is read in a fixed number of queries,
however many actions or contacts there are.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, partial
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, select

from handlers.context import DIRECT_MESSAGE, Context, Surface
from handlers.meetings.commands import ReminderConfig, reminder_config
from handlers.meetings.reminder_messages import (
    DUE,
    OVERDUE,
    STALE,
    UNDATED,
    Listed,
    OpenAction,
    digest_reply,
    meeting_day,
    reminder_reply,
)
from handlers.meetings.rules import ReminderPoint
from handlers.permissions import ADMIN_ROLES, PARTNER_ROLES
from handlers.register.summary import rag_summary
from handlers.replies import Reply
from handlers.text.parsing import Args
from models.ledger import DIGEST, FINAL, REMINDER, LedgerKey, rows_for_meetings
from models.meetings import last_meeting
from models.people import list_members, list_partners
from models.schedule import meetings_between
from models.tables import (
    Action,
    ActionLead,
    Board,
    Meeting,
    Member,
    Rag,
    ReminderDelivery,
    Role,
)

# Reminder points are at most 20 working days ahead of a meeting: about four weeks.
LOOKAHEAD = timedelta(days=40)
TEXT_PREFIX = 300


@dataclass(eq=False)
class Delivery:
    """One message of a pass (or, with `reply` None, a contact with nothing to report).

    The actions are chosen and the message written only when first asked for, so a pass to
    hundreds of contacts starts sending before it has looked at everyone's actions.
    """

    key: LedgerKey
    meeting: Meeting
    point: ReminderPoint
    recipient: Member
    send_to: Member
    choose: Callable[[], list[Listed]] = field(default=list, repr=False)
    write: Callable[..., Reply] | None = field(default=None, repr=False)  # (listed, *, surface)
    fixed: Reply | None = field(default=None, repr=False)

    @cached_property
    def listed(self) -> list[Listed]:
        """The actions this message lists."""
        return self.choose()

    @property
    def action_count(self) -> int:
        """How many actions it lists (a digest counts as one)."""
        return 1 if self.fixed else len(self.listed)

    @property
    def has_message(self) -> bool:
        """Whether there is anything to send."""
        return self.fixed is not None or (self.write is not None and bool(self.listed))

    @cached_property
    def reply(self) -> Reply | None:
        """The message as written for `DIRECT_MESSAGE` (None: nothing to report, nothing sent)."""
        return self.reply_for(DIRECT_MESSAGE)

    def reply_for(self, surface: Surface) -> Reply | None:
        """The message written for the recipient's surface (None: nothing to report)."""
        if self.fixed is not None:
            return self.fixed
        return self.write(self.listed, surface=surface) if self.has_message else None

    @property
    def on_behalf_of(self) -> str:
        """The away member's name when a deputy receives their reminder."""
        return self.recipient.display_name if self.send_to.id != self.recipient.id else ""


@dataclass
class ReminderPlan:
    """What a pass at `now` should do, and what the ledger already says about it."""

    now: datetime
    config: ReminderConfig
    deliveries: list[Delivery] = field(default_factory=list)
    superseded: list[Delivery] = field(default_factory=list)
    ledger: dict[LedgerKey, ReminderDelivery] = field(default_factory=dict)
    due: dict[int, ReminderPoint] = field(default_factory=dict)

    def by_key(self) -> dict[LedgerKey, Delivery]:
        """The deliveries by ledger key."""
        return {d.key: d for d in self.deliveries}


def plan_reminders(session: Session, board: Board, now: datetime) -> ReminderPlan:
    """The reminders due at `now` (in the Board's zone and holidays), less those settled."""
    config = reminder_config(board)
    plan = ReminderPlan(now=now, config=config)
    due = _due_points(session, board, now, config)
    if not due:
        return plan
    plan.due = {meeting.id: point for meeting, point, _ in due}
    plan.ledger = rows_for_meetings(session=session, meeting_ids=plan.due)
    members = list_members(session=session, board_id=board.id)
    contacts = [m for m in members if m.partner_id is not None and m.role != Role.OBSERVER]
    admins = [m for m in members if m.role in ADMIN_ROLES]

    def open_(key: LedgerKey) -> bool:
        row = plan.ledger.get(key)
        return row is None or row.status not in FINAL

    for meeting, _, earlier in due:
        for contact in contacts:
            for missed in earlier:
                key = LedgerKey(meeting.id, missed.key, contact.id, REMINDER)
                if key not in plan.ledger:
                    plan.superseded.append(Delivery(key, meeting, missed, contact, contact))
    work = [
        (meeting, point, person, kind)
        for meeting, point, _ in due
        for kind, people in ((REMINDER, contacts), (DIGEST, admins if point.last else []))
        for person in people
        if open_(LedgerKey(meeting.id, point.key, person.id, kind))
    ]
    if work:
        register = _Register.load(session, board, now, config.tz, [m for m, _, _ in due], members)
        for meeting, point, person, kind in work:
            plan.deliveries.append(register.delivery(session, board, meeting, point, person, kind))
    return plan


def _due_points(
    session: Session, board: Board, now: datetime, config: ReminderConfig
) -> list[tuple[Meeting, ReminderPoint, list[ReminderPoint]]]:
    meetings = meetings_between(
        session=session,
        board_id=board.id,
        start=now + timedelta(microseconds=1),
        end=now + LOOKAHEAD,
        include_cancelled=False,
    )
    due = []
    for meeting in meetings:
        passed = [p for p in config.points(meeting) if p.at <= now]
        if passed:
            due.append((meeting, passed[-1], passed[:-1]))
    return due


@dataclass(frozen=True, slots=True)
class Reader:
    """One person's rights over actions by lead partner, worked out once per message."""

    own: frozenset[int]
    admin: bool
    reads_own: bool
    changes_own: bool

    def may_read_confidential(self, lead_ids: set[int]) -> bool:
        """As permissions.visibility_for: admins all, observers none, partners their own."""
        return self.admin or (self.reads_own and not self.own.isdisjoint(lead_ids))

    def may_update(self, lead_ids: set[int]) -> bool:
        """As permissions.may_update, without a query per action."""
        return self.admin or (self.changes_own and not self.own.isdisjoint(lead_ids))


@dataclass
class _Register:
    """The open actions that any due reminder could list, loaded once and grouped by partner."""

    now: datetime
    tz: ZoneInfo
    today: date
    last: datetime | None
    members: dict[int, Member]
    collective: frozenset[int]
    partner_names: dict[int, str]
    by_partner: dict[int, list[OpenAction]]
    leads: dict[int, set[int]]
    digests: dict[int, Reply] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        board: Board,
        now: datetime,
        tz: ZoneInfo,
        meetings: list[Meeting],
        members: list[Member],
    ) -> "_Register":
        previous = last_meeting(session=session, board_id=board.id, now=now)
        last = previous.starts_at if previous else None
        partners = list_partners(session=session, board_id=board.id)
        latest_day = max(meeting_day(m, tz) for m in meetings)
        # Due by the latest meeting, or stale (or undated when there was no meeting yet).
        wanted = [Action.due_date <= latest_day]
        wanted.append(Action.updated_at < last if last else Action.due_date.is_(None))
        query = (
            select(
                Action.id,
                Action.number,
                # Only the first line is shown (action_title), so a bounded prefix will do.
                func.substr(Action.issue, 1, TEXT_PREFIX),
                func.substr(Action.action_text, 1, TEXT_PREFIX),
                Action.rag,
                Action.due_date,
                Action.confidential,
                Action.updated_at,
                Action.version,
                ActionLead.partner_id,
            )
            .join(ActionLead, ActionLead.action_id == Action.id)
            .where(Action.board_id == board.id, Action.rag != Rag.BLUE.value, or_(*wanted))
            .order_by(Action.number)
        )
        by_partner: dict[int, list[OpenAction]] = defaultdict(list)
        leads: dict[int, set[int]] = defaultdict(set)
        actions: dict[int, OpenAction] = {}
        for *columns, partner_id in session.exec(query):
            action = actions.get(columns[0]) or actions.setdefault(columns[0], OpenAction(*columns))
            by_partner[partner_id].append(action)
            leads[action.id].add(partner_id)
        return cls(
            now=now,
            tz=tz,
            today=now.astimezone(tz).date(),
            last=last,
            members={m.id: m for m in members},
            collective=frozenset(p.id for p in partners if p.collective),
            partner_names={p.id: p.name for p in partners},
            by_partner=by_partner,
            leads=leads,
        )

    def own(self, member: Member) -> frozenset[int]:
        """Partners whose actions are this member's (as permissions.own_partner_ids)."""
        if member.partner_id is None:
            return frozenset()
        return frozenset({member.partner_id, *self.collective})

    def reader(self, member: Member) -> "Reader":
        """What `member` may see and change, as handlers.permissions decides it."""
        own = self.own(member)
        admin = member.role in ADMIN_ROLES
        return Reader(
            own=own,
            admin=admin,
            reads_own=admin or (member.role != Role.OBSERVER and bool(own)),
            changes_own=admin or (member.role in PARTNER_ROLES and bool(own)),
        )

    def reasons(self, action: OpenAction, day: date) -> tuple[str, ...]:
        """Why an open action belongs in a reminder for a meeting on `day` (empty: it doesn't)."""
        found = []
        if action.due_date is not None:
            if action.due_date < self.today:
                found.append(OVERDUE)
            elif action.due_date <= day:
                found.append(DUE)
        elif self.last is None:
            found.append(UNDATED)
        if self.last is not None and action.updated_at < self.last:
            found.append(STALE)
        return tuple(found)

    def delivery(
        self,
        session: Session,
        board: Board,
        meeting: Meeting,
        point: ReminderPoint,
        person: Member,
        kind: str,
    ) -> Delivery:
        """The message for one person at one point (reply None if they have nothing to do)."""
        key = LedgerKey(meeting.id, point.key, person.id, kind)
        if kind == DIGEST:
            digest = self._digest(session, board, meeting)
            return Delivery(key, meeting, point, person, person, fixed=digest)
        deputy = self.members.get(person.deputy_id) if person.away and person.deputy_id else None
        send_to = deputy or person
        delivery = Delivery(key, meeting, point, person, send_to)
        delivery.choose = partial(self.choose, person, send_to, meeting_day(meeting, self.tz))
        delivery.write = partial(
            self.write, meeting=meeting, point=point, on_behalf_of=delivery.on_behalf_of
        )
        return delivery

    def choose(self, person: Member, send_to: Member, day: date) -> list[Listed]:
        """The open actions of `person`'s partner that `send_to` should hear about."""
        reader = self.reader(send_to)
        seen: set[int] = set()
        listed = []
        for partner_id in sorted(self.own(person)):
            for action in self.by_partner.get(partner_id, ()):
                if action.id in seen:
                    continue
                seen.add(action.id)
                reasons = self.reasons(action, day)
                if not reasons:
                    continue
                lead_ids = self.leads[action.id]
                if action.confidential and not reader.may_read_confidential(lead_ids):
                    continue
                listed.append(Listed(action, reasons, reader.may_update(lead_ids)))
        return listed

    def write(
        self,
        listed: list[Listed],
        *,
        meeting: Meeting,
        point: ReminderPoint,
        on_behalf_of: str,
        surface: Surface = DIRECT_MESSAGE,
    ) -> Reply:
        """The reminder listing these actions, written for `surface`."""
        return reminder_reply(
            meeting=meeting,
            point=point,
            tz=self.tz,
            listed=listed,
            lead_names={e.action.id: self._names(self.leads[e.action.id]) for e in listed},
            last_meeting=self.last,
            on_behalf_of=on_behalf_of,
            surface=surface,
        )

    def _names(self, partner_ids: set[int]) -> str:
        return ", ".join(sorted(self.partner_names[p] for p in partner_ids))

    def _digest(self, session: Session, board: Board, meeting: Meeting) -> Reply:
        if meeting.id not in self.digests:
            admin = next(m for m in self.members.values() if m.role in ADMIN_ROLES)
            ctx = Context(
                board=board,
                user_id=str(admin.id),
                member=admin,
                now=self.now,
                surface=DIRECT_MESSAGE,
            )
            summary = rag_summary(session, ctx, Args(words=["private"]))
            stale: dict[str, list[OpenAction]] = defaultdict(list)
            if self.last is not None:
                for partner_id, actions in self.by_partner.items():
                    for action in actions:
                        if action.updated_at < self.last:
                            stale[self.partner_names[partner_id]].append(action)
            self.digests[meeting.id] = digest_reply(
                meeting=meeting,
                tz=self.tz,
                summary=summary,
                stale_by_partner=stale,
                last_meeting=self.last,
            )
        return self.digests[meeting.id]
