"""The delivery ledger's rows: claimed by INSERT under a unique key, taken over by compare-and-set
on the claim token, finished with the outcome. The protocol built on them is described in
`bot.senders.exactly_once`.

Two tables keep this ledger with the same columns: `ReminderDelivery` (scoped to a meeting, the
default here) and `PriorityDelivery` (scoped to a priorities exercise); each function takes the
table as `model`.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models.tables import Deployment, PriorityDelivery, ReminderDelivery

CLAIMED, SENT, FAILED, RETRY, SUPERSEDED, NOTHING = (
    "claimed",
    "sent",
    "failed",
    "retry",
    "superseded",
    "nothing",
)
STATUSES = (SENT, CLAIMED, RETRY, FAILED, SUPERSEDED, NOTHING)
FINAL = frozenset({SENT, FAILED, SUPERSEDED, NOTHING})
REMINDER, DIGEST, FAILURES = "reminder", "digest", "failures"
_TABLE = ReminderDelivery.__table__
LedgerRow = ReminderDelivery | PriorityDelivery
Ledger = type[ReminderDelivery] | type[PriorityDelivery]
# The column naming what each ledger's messages are about.
SCOPE_COLUMNS: dict[Ledger, str] = {ReminderDelivery: "meeting_id", PriorityDelivery: "exercise_id"}


@dataclass(frozen=True, order=True)
class LedgerKey:
    """What makes a message unique: its scope (meeting or exercise), point, recipient and kind."""

    scope_id: int
    point: str
    recipient_member_id: int
    kind: str

    @property
    def meeting_id(self) -> int:
        """The meeting a reminder ledger key belongs to."""
        return self.scope_id

    def text(self) -> str:
        """The key within its ledger (`message_key` adds the ledger and the deployment)."""
        return f"{self.scope_id}/{self.point}/{self.recipient_member_id}/{self.kind}"


def message_key(deployment: str, ledger: str, key: LedgerKey) -> str:
    """The key that marks a sent message: unique across ledgers and across deployments (a staging
    copy and production sharing a workspace never take each other's messages for their own)."""
    return f"{deployment}:{ledger}:{key.text()}"


def deployment_id(*, session: Session) -> str:
    """This database's deployment id (made here, at random, if no migration made it)."""
    found = session.exec(select(Deployment.random_id)).first()
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    made = {"id": 1, "random_id": secrets.token_hex(16), "created_at": datetime.now(UTC)}
    session.exec(insert(Deployment.__table__).values(made).on_conflict_do_nothing())
    return session.exec(select(Deployment.random_id)).one()


def key_of(row: LedgerRow) -> LedgerKey:
    """A ledger row's key."""
    scope = getattr(row, SCOPE_COLUMNS[type(row)])
    return LedgerKey(scope, row.point, row.recipient_member_id, row.kind)


def new_row(
    key: LedgerKey,
    *,
    board_id: int,
    status: str,
    now: datetime,
    token: str = "",
    days_before: int | None = None,
    due_at: datetime | None = None,
    address: str = "",
    on_behalf_of: str = "",
    action_count: int = 0,
    error: str = "",
    model: Ledger = ReminderDelivery,
    extra: dict[str, object] | None = None,
) -> dict[str, object]:
    """Column values for one ledger row (every column, for a multi-row INSERT); `extra` adds the
    columns only `model` has."""
    return {
        **(extra or {}),
        "board_id": board_id,
        SCOPE_COLUMNS[model]: key.scope_id,
        "point": key.point,
        "recipient_member_id": key.recipient_member_id,
        "kind": key.kind,
        "status": status,
        "days_before": days_before,
        "due_at": due_at,
        "address": address,
        "on_behalf_of": on_behalf_of[:200],
        "action_count": action_count,
        "claim_token": token,
        "created_at": now,
        "claimed_at": now if status == CLAIMED else None,
        "attempts": 1 if status == CLAIMED else 0,
        "sent_at": None,
        "message_ref": "",
        "error": error[:500],
        "report_key": "",
    }


def insert_new(
    *, session: Session, rows: list[dict[str, object]], model: Ledger = ReminderDelivery
) -> dict[LedgerKey, int]:
    """Insert the rows whose key is free; returns the ids of those inserted (ours), by key."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    columns = table.c
    # One cached statement, executed for many rows ("insertmanyvalues"): a conflicting row is
    # skipped and returns nothing, so what comes back is exactly what we claimed.
    statement = (
        insert(table)
        .on_conflict_do_nothing()
        .returning(
            columns.id,
            columns[SCOPE_COLUMNS[model]],
            columns.point,
            columns.recipient_member_id,
            columns.kind,
        )
    )
    return {
        LedgerKey(scope_id, point, recipient, kind): row_id
        for row_id, scope_id, point, recipient, kind in session.exec(statement, params=rows)
    }


def rows_for_meetings(
    *, session: Session, meeting_ids: Iterable[int]
) -> dict[LedgerKey, ReminderDelivery]:
    """Every ledger row of these meetings, by key."""
    ids = list(meeting_ids)
    if not ids:
        return {}
    query = select(ReminderDelivery).where(ReminderDelivery.meeting_id.in_(ids))
    return {key_of(row): row for row in session.exec(query)}


def open_rows(
    *, session: Session, board_id: int, model: Ledger = ReminderDelivery
) -> list[LedgerRow]:
    """Rows claimed but not finished, or waiting for a retry."""
    query = select(model).where(model.board_id == board_id, model.status.in_((CLAIMED, RETRY)))
    return list(session.exec(query.order_by(model.id)))


def take_over(
    *,
    session: Session,
    row_id: int,
    old_token: str,
    new_token: str,
    now: datetime,
    stale_before: datetime,
    claimant_gone: bool = False,
    model: Ledger = ReminderDelivery,
) -> bool:
    """Atomically claim a retry row, or a claim older than the lease (any claim, if its claimant
    is `claimant_gone`); False if someone else did."""
    table = model.__table__
    abandoned = table.c.status == CLAIMED
    if not claimant_gone:
        abandoned = and_(abandoned, table.c.claimed_at <= stale_before)
    statement = (
        update(table)
        .where(
            table.c.id == row_id,
            table.c.claim_token == old_token,
            or_(table.c.status == RETRY, abandoned),
        )
        .values(
            status=CLAIMED, claim_token=new_token, claimed_at=now, attempts=table.c.attempts + 1
        )
    )
    return session.exec(statement).rowcount == 1


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed message."""

    row_id: int
    status: str
    message_ref: str = ""
    error: str = ""
    address: str = ""


def finish(
    *,
    session: Session,
    token: str,
    now: datetime,
    outcomes: list[Outcome],
    model: Ledger = ReminderDelivery,
) -> int:
    """Record outcomes of our claims in one statement; returns how many claims were still ours."""
    if not outcomes:
        return 0
    table = model.__table__
    columns = table.c
    statement = (
        update(table)
        .where(
            columns.id == bindparam("row_id"),
            columns.claim_token == token,
            columns.status == CLAIMED,
        )
        .values(
            status=bindparam("new_status"),
            error=bindparam("new_error"),
            message_ref=bindparam("new_message_ref"),
            sent_at=bindparam("new_sent_at"),
            address=bindparam("new_address"),
        )
    )
    params = [
        {
            "row_id": o.row_id,
            "new_status": o.status,
            "new_error": o.error[:500],
            "new_message_ref": o.message_ref,
            "new_sent_at": now if o.status == SENT else None,
            "new_address": o.address,
        }
        for o in outcomes
    ]
    return session.exec(statement, params=params).rowcount


def unreported_failures(*, session: Session, board_id: int) -> list[ReminderDelivery]:
    """Failed reminders and digests the secretariat has not been told about."""
    query = select(ReminderDelivery).where(
        ReminderDelivery.board_id == board_id,
        ReminderDelivery.status == FAILED,
        ReminderDelivery.kind != FAILURES,
        ReminderDelivery.report_key == "",
    )
    return list(session.exec(query.order_by(ReminderDelivery.id)))


def assign_report(*, session: Session, row_ids: Iterable[int], report_key: str) -> int:
    """Mark failures as told in notice `report_key`; returns how many were still untold."""
    ids = list(row_ids)
    statement = (
        update(_TABLE)
        .where(_TABLE.c.id.in_(ids), _TABLE.c.report_key == "")
        .values(report_key=report_key)
    )
    return session.exec(statement).rowcount if ids else 0


def reported_in(*, session: Session, report_key: str) -> list[ReminderDelivery]:
    """The failures that notice `report_key` tells about."""
    query = select(ReminderDelivery).where(ReminderDelivery.report_key == report_key)
    return list(session.exec(query.order_by(ReminderDelivery.id)))


def rows_by_id(*, session: Session, row_ids: Iterable[int]) -> list[ReminderDelivery]:
    """Ledger rows by id."""
    ids = list(row_ids)
    if not ids:
        return []
    query = select(ReminderDelivery).where(ReminderDelivery.id.in_(ids))
    return list(session.exec(query.order_by(ReminderDelivery.id)))


def claim_revision(
    *,
    session: Session,
    row_id: int,
    old_token: str,
    shows: datetime | None,
    new_token: str,
    now: datetime,
    stale_before: datetime,
    claimant_gone: bool = False,
    model: Ledger = PriorityDelivery,
) -> bool:
    """Atomically take a sent message to update it: still showing `shows` (its `due_at`), and its
    last claimant gone or older than the lease (as `take_over`); False if someone else did."""
    table = model.__table__
    columns = table.c
    conditions = [
        columns.id == row_id,
        columns.status == SENT,
        columns.claim_token == old_token,
        columns.due_at.is_not_distinct_from(shows),
    ]
    if not claimant_gone:
        conditions.append(or_(columns.claimed_at.is_(None), columns.claimed_at <= stale_before))
    statement = update(table).where(*conditions).values(claim_token=new_token, claimed_at=now)
    return session.exec(statement).rowcount == 1


def record_revision(
    *,
    session: Session,
    row_id: int,
    token: str,
    due_at: datetime,
    error: str = "",
    model: Ledger = PriorityDelivery,
) -> bool:
    """Record that a message taken with `claim_revision` now shows `due_at` (or, with `error`,
    that it could not be updated and is not to be tried again); False if it was not ours."""
    table = model.__table__
    statement = (
        update(table)
        .where(table.c.id == row_id, table.c.claim_token == token, table.c.status == SENT)
        .values(due_at=due_at, error=error[:500])
    )
    return session.exec(statement).rowcount == 1
