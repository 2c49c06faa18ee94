"""SQLModel tables of the register: boards, partners, members, areas, actions, history, meetings."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime

# Enum columns are stored as plain strings (no native PostgreSQL enums to migrate); the str enums
# below compare equal to the stored values.


class Role(enum.StrEnum):
    """A member's role on the Board (Annex A, section 6)."""

    CHAIR = "chair"
    DEPUTY_CHAIR = "deputy"
    SECRETARIAT = "secretariat"
    MEMBER = "member"
    CO_OPTEE = "co-optee"
    OBSERVER = "observer"


class Rag(enum.StrEnum):
    """An action's rating: Red, Amber, Green, Blue (complete) or not yet rated."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    BLUE = "blue"
    NONE = "none"


class Strand(enum.StrEnum):
    """The 4P strands of the Serious and Organised Crime Strategy."""

    PURSUE = "pursue"
    PREVENT = "prevent"
    PROTECT = "protect"
    PREPARE = "prepare"


class AreaSource(enum.StrEnum):
    """Where a key crime area comes from."""

    GOVERNMENT_STRATEGY = "government-strategy"
    NATIONAL_ASSESSMENT = "national-assessment"
    BOARD = "board"


def _utc(**kwargs) -> Column:
    return Column(UTCDateTime(), **kwargs)


class Board(SQLModel, table=True):
    """A partnership board; every other row belongs to one."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    # The Board's settings (set by its secretariat, `/soc board settings`); the environment only
    # gives the defaults for a new Board. Every local date and time of the Board is in `timezone`.
    timezone: str = Field(default="Europe/London", max_length=64)
    holiday_region: str = Field(
        default="GB-ENG", max_length=16, sa_column_kwargs={"server_default": "GB-ENG"}
    )
    # Working days before each meeting that reminders go out, and the local time they go at.
    reminder_days: str = Field(
        default="5,1", max_length=50, sa_column_kwargs={"server_default": "5,1"}
    )
    reminder_time: str = Field(
        default="09:00", max_length=5, sa_column_kwargs={"server_default": "09:00"}
    )
    # Where the chair's summary goes: channel references such as "slack:C0123" or "teams:19:...".
    summary_channels: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    # Bumped in the same transaction as any change to the register (see `_bump_register_version`),
    # so a summary computed at version N can be reused until the register changes.
    register_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    # The hash of the newest history entry: the end of the history's hash chain (models.audit).
    history_head: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )
    # False once its last workspace uninstalled the app (models.workspaces): its data stays.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})


class Partner(SQLModel, table=True):
    """An organisation or team that can lead actions."""

    __table_args__ = (UniqueConstraint("board_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    name: str = Field(max_length=200)
    # Other names people type for this partner ("CoLP"), separated by "|".
    aliases: str = Field(default="", max_length=1000)
    # A collective lead ("All partners"): its actions belong to every partner.
    collective: bool = Field(default=False)

    @property
    def alias_list(self) -> list[str]:
        """The aliases as a list."""
        return [a for a in self.aliases.split("|") if a]


class Member(SQLModel, table=True):
    """A person on the Board; how to reach them is in their `Identity` rows, one per channel."""

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    display_name: str = Field(max_length=200)
    role: str = Field(default=Role.MEMBER.value, max_length=16)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    deputy_id: int | None = Field(default=None, foreign_key="member.id")
    away: bool = Field(default=False)
    # The channel their direct messages go to when they have identities on several.
    channel: str = Field(
        default="slack", sa_column=Column(String(16), nullable=False, server_default="slack")
    )


class Identity(SQLModel, table=True):
    """How a member is known on one channel: their id there and, where needed, the tenant.

    One member may have several (a Teams user who also joined the Slack workspace). `conversation`
    is the channel's own JSON for reaching them directly (Teams: the 1:1 conversation reference).
    """

    __table_args__ = (
        UniqueConstraint("board_id", "channel", "tenant", "external_id"),
        Index("ix_identity_member", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    member_id: int = Field(foreign_key="member.id")
    # "slack", "teams", later "email".
    channel: str = Field(max_length=16)
    # Slack user id, Entra object id (GUID), e-mail address...
    external_id: str = Field(max_length=255)
    # Slack workspace or Microsoft tenant id; "" where the channel needs none.
    tenant: str = Field(
        default="", sa_column=Column(String(255), nullable=False, server_default="")
    )
    conversation: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    last_seen_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Deployment(SQLModel, table=True):
    """One row: this database's random id, made once, marking the messages this deployment sends."""

    # Always 1: a second process making the row at the same moment conflicts and keeps the first.
    id: int = Field(default=1, primary_key=True)
    random_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class CrimeArea(SQLModel, table=True):
    """A key crime area the Board tracks; `priority` marks the Board's current priorities."""

    __table_args__ = (UniqueConstraint("board_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    name: str = Field(max_length=200)
    source: str = Field(default=AreaSource.BOARD.value, max_length=32)
    priority: bool = Field(default=False)
    position: int = Field(default=0)


_ACTION_VERSION = Column("version", Integer, nullable=False)


class Action(SQLModel, table=True):
    """One row of the action table."""

    __table_args__ = (
        UniqueConstraint("board_id", "number"),
        Index("ix_action_board_rag", "board_id", "rag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    number: int
    area_id: int = Field(foreign_key="crimearea.id", index=True)
    issue: str = Field(default="", max_length=2000)
    action_text: str = Field(default="", max_length=8000)
    barriers: str = Field(default="", max_length=4000)
    outcomes: str = Field(default="", max_length=4000)
    rag: str = Field(default=Rag.NONE.value, max_length=8)
    due_date: date | None = None
    confidential: bool = Field(default=False)
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    updated_at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    version: int = Field(default=1, sa_column=_ACTION_VERSION)

    # Optimistic locking: every UPDATE checks and bumps the version, so a stale write fails.
    __mapper_args__ = {"version_id_col": _ACTION_VERSION}

    @property
    def ref(self) -> str:
        """The short reference people see and type, e.g. A-12."""
        return f"A-{self.number}"


class ActionLead(SQLModel, table=True):
    """A lead partner of an action (an action may have several)."""

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True, index=True)


class ActionStrand(SQLModel, table=True):
    """A 4P strand an action serves."""

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    strand: str = Field(primary_key=True, max_length=8)


class ActionChange(SQLModel, table=True):
    """One append-only history entry: who changed which field of an action, when, and why."""

    __table_args__ = (Index("ix_actionchange_action_at", "action_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    action_id: int = Field(foreign_key="action.id")
    at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    actor_name: str = Field(default="", max_length=200)
    field: str = Field(max_length=32)
    old_value: str | None = Field(default=None, max_length=8000)
    new_value: str | None = Field(default=None, max_length=8000)
    note: str = Field(default="", max_length=4000)
    # sha256 of the previous entry's hash and this entry's fields (models.audit); never updated.
    chain_hash: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )


class BoardChange(SQLModel, table=True):
    """One append-only entry of a Board's own history: who changed a setting, the priorities
    exercise's closing day or a member's role, when, and from what to what."""

    __table_args__ = (Index("ix_boardchange_board_id_id", "board_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    at: datetime = Field(sa_column=_utc(nullable=False))
    by_member_id: int | None = Field(default=None, foreign_key="member.id")
    by_name: str = Field(default="", max_length=200)
    # The kind of change: "settings", "priorities close", "priorities extend", "member role", ...
    what: str = Field(max_length=32)
    # What changed, old → new, as the history shows it.
    details: str = Field(default="", sa_type=Text, nullable=False)


class Meeting(SQLModel, table=True):
    """A Board meeting (scheduled or cancelled)."""

    __table_args__ = (
        Index("ix_meeting_board_starts", "board_id", "starts_at"),
        UniqueConstraint("board_id", "occurrence", name="uq_meeting_board_occurrence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    starts_at: datetime = Field(sa_column=_utc(nullable=False))
    cancelled: bool = Field(default=False)
    note: str = Field(default="", max_length=500)
    # "rule" (made from the Board's schedule) or "manual" (added by hand).
    origin: str = Field(default="manual", max_length=8)
    # A rule meeting's occurrence of the rule, kept when it is moved or cancelled so the rule
    # never brings it back; unique, so two processes topping up cannot both add it.
    occurrence: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class MeetingSchedule(SQLModel, table=True):
    """A board's meeting rule (an RRULE in the Board's time zone)."""

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", unique=True)
    # RRULE without BYHOUR/BYMINUTE (e.g. FREQ=MONTHLY;BYDAY=+2TU); "" when meetings are by hand.
    rule: str = Field(default="", max_length=500)
    meeting_time: str = Field(default="10:00", max_length=5)
    # DTSTART's date: the phase of INTERVAL=2 and the like.
    anchor: date | None = None
    updated_at: datetime = Field(sa_column=_utc(nullable=False))


class DeliveryColumns(SQLModel):
    """The columns both exactly-once ledgers share (see models.ledger): claim, send, outcome."""

    # Whose message it is; a deputy may receive it (at `address`) while they are away.
    recipient_member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    days_before: int | None = None
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # Where it went: `bot.senders.courier.Address.text()`, e.g. "slack::U0123".
    address: str = Field(default="", sa_type=Text, nullable=False)
    on_behalf_of: str = Field(default="", max_length=200)
    action_count: int = Field(default=0)
    claim_token: str = Field(default="", max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # The channel's own reference to the message sent (Slack: "<channel>:<ts>").
    message_ref: str = Field(default="", sa_type=Text, nullable=False)
    error: str = Field(default="", max_length=500)
    # For a failed delivery: the failure notice that told the secretariat ("failures:<id>").
    report_key: str = Field(default="", max_length=40)


class ReminderDelivery(DeliveryColumns, table=True):
    """One message of a reminder pass, claimed before it is sent: the exactly-once ledger."""

    __table_args__ = (
        UniqueConstraint("meeting_id", "point", "recipient_member_id", "kind"),
        Index("ix_reminderdelivery_board_status", "board_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    meeting_id: int = Field(foreign_key="meeting.id")
    # The reminder point's local date (ISO), or "failures:<id>" for a failure notice.
    point: str = Field(max_length=40)


# Rows whose changes alter what summaries and listings show.
_REGISTER_ROWS = (Action, ActionChange, CrimeArea, Partner)


@event.listens_for(Session, "after_flush")
def _bump_register_version(session: Session, _context) -> None:
    """Bump the version of every board whose register rows this flush wrote."""
    changed = [*session.new, *session.dirty, *session.deleted]
    boards = {row.board_id for row in changed if isinstance(row, _REGISTER_ROWS)}
    if boards:
        # An UPDATE, not a read-modify-write: concurrent writers serialise on the board row,
        # so versions are bumped in commit order.
        statement = (
            update(Board)
            .where(Board.id.in_(boards))
            .values(register_version=Board.register_version + 1)
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(statement)


# --- The priorities exercise (report, para 14) ----------------------------------------------------


class Stance(enum.StrEnum):
    """What a partner says about a key crime area in a priorities exercise."""

    LEAD = "lead"
    CONTRIBUTE = "contribute"
    NOT_RELEVANT = "not-relevant"


class PriorityExercise(SQLModel, table=True):
    """A round asking each partner which key crime areas matter to its service."""

    __table_args__ = (Index("ix_priorityexercise_board_opened", "board_id", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    opened_at: datetime = Field(sa_column=_utc(nullable=False))
    opened_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    opened_by_name: str = Field(default="", max_length=200)
    # The last day answers are taken (Board time); the exercise closes at the midnight after it.
    closes_on: date
    closes_at: datetime = Field(sa_column=_utc(nullable=False))
    # When partners who have not answered are reminded; None if that moment had passed at opening.
    reminder_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class PriorityExerciseArea(SQLModel, table=True):
    """A key crime area asked about in an exercise (fixed when it opens)."""

    exercise_id: int = Field(foreign_key="priorityexercise.id", primary_key=True)
    area_id: int = Field(foreign_key="crimearea.id", primary_key=True)
    position: int = Field(default=0)


class PriorityAnswer(SQLModel, table=True):
    """One partner's answer; a later one supersedes it (the highest version is current)."""

    __table_args__ = (UniqueConstraint("exercise_id", "partner_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    exercise_id: int = Field(foreign_key="priorityexercise.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    version: int = Field(default=1)
    answered_at: datetime = Field(sa_column=_utc(nullable=False))
    answered_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    answered_by_name: str = Field(default="", max_length=200)
    # The partner's own current priorities, in its words.
    note: str = Field(default="", max_length=3000)


class PriorityStance(SQLModel, table=True):
    """What one answer says about one area (areas left unanswered have no row)."""

    answer_id: int = Field(foreign_key="priorityanswer.id", primary_key=True)
    area_id: int = Field(foreign_key="crimearea.id", primary_key=True)
    stance: str = Field(max_length=16)


class PriorityDecision(SQLModel, table=True):
    """The Board's chosen priorities as recorded (the areas' `priority` flags follow the latest)."""

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    exercise_id: int | None = Field(default=None, foreign_key="priorityexercise.id")
    decided_at: datetime = Field(sa_column=_utc(nullable=False))
    decided_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    decided_by_name: str = Field(default="", max_length=200)
    # The chosen areas' names, separated by "|", as they were called when chosen.
    area_names: str = Field(default="", max_length=4000)


class PriorityDelivery(DeliveryColumns, table=True):
    """An exercise's direct message (invitation or reminder) in the exactly-once ledger.

    The same columns and protocol as `ReminderDelivery` (see models.ledger), scoped to an exercise
    rather than a meeting, and naming the partner the message asks.
    """

    __table_args__ = (
        UniqueConstraint("exercise_id", "point", "recipient_member_id", "kind"),
        Index("ix_prioritydelivery_board_status", "board_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    exercise_id: int = Field(foreign_key="priorityexercise.id")
    partner_id: int = Field(foreign_key="partner.id")
    # "open" for the invitation, the reminder's local date (ISO) for the reminder.
    point: str = Field(max_length=40)


# --- Requests already served (not part of the register) -----------------------------------------


class SeenRequest(SQLModel, table=True):
    """A request's fingerprint, kept until it expires: a second insert of it is a repeat."""

    fingerprint: str = Field(sa_column=Column(String(64), primary_key=True))
    expires_at: datetime = Field(sa_column=_utc(nullable=False, index=True))


# Tables declared in their own modules, on the same metadata (migrations, the schema check).
import models.slack_store  # noqa: E402, F401
import models.workspaces  # noqa: E402, F401
