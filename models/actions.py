"""Actions, their lead partners and strands, and the append-only change history."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, event, false, func, literal, or_, true
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from models.audit import chain
from models.tables import (
    Action,
    ActionChange,
    ActionLead,
    ActionStrand,
    Board,
    CrimeArea,
    Member,
    Partner,
    Rag,
)

# Fields whose changes are recorded in the history, in display order.
TRACKED_FIELDS = (
    "area_id",
    "issue",
    "action_text",
    "barriers",
    "outcomes",
    "rag",
    "due_date",
    "confidential",
)


class StaleActionError(StaleDataError):
    """A change written over a version of the action that another transaction had replaced."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref} was changed by another transaction")
        self.ref = ref


@dataclass(frozen=True)
class Visibility:
    """Which confidential actions a reader may see: all, none, or those led by some partners."""

    all_confidential: bool = False
    partner_ids: frozenset[int] = frozenset()

    def clause(self) -> ColumnElement[bool]:
        """SQL condition selecting the actions this reader may see."""
        if self.all_confidential:
            return Action.confidential.is_not(None)
        if not self.partner_ids:
            return Action.confidential == false()
        led = select(ActionLead.action_id).where(ActionLead.partner_id.in_(self.partner_ids))
        return or_(Action.confidential == false(), Action.id.in_(led))


PUBLIC = Visibility()
EVERYTHING = Visibility(all_confidential=True)


@dataclass(frozen=True)
class ActionFilter:
    """Which actions a listing asks for (all given conditions must hold)."""

    area_id: int | None = None
    partner_ids: frozenset[int] | None = None
    overdue_on: date | None = None
    open_only: bool = False
    not_updated_since: datetime | None = None
    rag: str | None = None
    created_after: datetime | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        """SQL conditions for this filter."""
        clauses: list[ColumnElement[bool]] = []
        if self.area_id is not None:
            clauses.append(Action.area_id == self.area_id)
        if self.partner_ids is not None:
            led = select(ActionLead.action_id).where(ActionLead.partner_id.in_(self.partner_ids))
            clauses.append(Action.id.in_(led))
        if self.overdue_on is not None:
            clauses.append(and_(Action.due_date < self.overdue_on, Action.rag != Rag.BLUE.value))
        if self.open_only:
            clauses.append(Action.rag != Rag.BLUE.value)
        if self.not_updated_since is not None:
            clauses.append(Action.updated_at < self.not_updated_since)
        if self.rag is not None:
            clauses.append(Action.rag == self.rag)
        if self.created_after is not None:
            clauses.append(Action.created_at > self.created_after)
        return clauses


def register_version(*, session: Session, board_id: int) -> int:
    """The board's register version: it changes whenever any action, area or partner does."""
    query = select(Board.register_version).where(Board.id == board_id)
    return session.exec(query).one()


# Set in `session.info` while the session's transaction holds changes it has not committed.
_WRITING = "soc_writing"


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WRITING] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_writes(session: Session) -> None:
    session.info.pop(_WRITING, None)


def has_uncommitted_writes(session: Session) -> bool:
    """Whether this session's transaction has written something not yet committed: what it reads
    may never be committed, and a Board it loaded may show a version its writes have bumped."""
    return bool(session.info.get(_WRITING))


def count_actions(
    *, session: Session, board_id: int, visibility: Visibility, where: ActionFilter = ActionFilter()
) -> int:
    """How many actions match."""
    conditions = [Action.board_id == board_id, visibility.clause(), *where.clauses()]
    return session.exec(select(func.count()).select_from(Action).where(*conditions)).one()


def list_actions(
    *,
    session: Session,
    board_id: int,
    visibility: Visibility,
    where: ActionFilter = ActionFilter(),
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Action], int]:
    """One page of matching actions in reference order, and the number matching in all."""
    conditions = [Action.board_id == board_id, visibility.clause(), *where.clauses()]
    # The count comes with the page (a window over every match), saving a query.
    query = select(Action, func.count().over()).where(*conditions).order_by(Action.number)
    rows = session.exec(query.offset(offset).limit(limit)).all()
    if rows:
        return [action for action, _ in rows], rows[0][1]
    if offset:  # past the last page: the window had no rows to count
        return [], count_actions(
            session=session, board_id=board_id, visibility=visibility, where=where
        )
    return [], 0


def get_action(*, session: Session, board_id: int, number: int) -> Action | None:
    """The action with this reference number on this board."""
    query = select(Action).where(Action.board_id == board_id, Action.number == number)
    return session.exec(query).first()


def lock_action(*, session: Session, action: Action) -> Action:
    """Lock the action's row until the transaction ends and reload it as last committed.

    A change that reads the action first and writes it later would otherwise be based on
    whatever was committed before the wait (and be refused by the version check); after this,
    concurrent writers to one action take turns, each seeing the one before it.
    """
    query = (
        select(Action)
        .where(Action.id == action.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).one()


def leads_of(*, session: Session, action_ids: Iterable[int]) -> dict[int, list[Partner]]:
    """Lead partners of each action, in one query."""
    ids = list(action_ids)
    result: dict[int, list[Partner]] = defaultdict(list)
    if not ids:
        return result
    query = (
        select(ActionLead.action_id, Partner)
        .join(Partner, Partner.id == ActionLead.partner_id)
        .where(ActionLead.action_id.in_(ids))
        .order_by(Partner.name)
    )
    for action_id, partner in session.exec(query):
        result[action_id].append(partner)
    return result


def strands_of(*, session: Session, action_ids: Iterable[int]) -> dict[int, list[str]]:
    """4P strands of each action, in one query."""
    ids = list(action_ids)
    result: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return result
    query = select(ActionStrand).where(ActionStrand.action_id.in_(ids))
    for row in session.exec(query):
        result[row.action_id].append(row.strand)
    return result


def areas_by_id(*, session: Session, board_id: int) -> dict[int, CrimeArea]:
    """The board's areas keyed by id."""
    query = select(CrimeArea).where(CrimeArea.board_id == board_id)
    return {area.id: area for area in session.exec(query)}


def next_action_number(*, session: Session, board_id: int) -> int:
    """The next unused reference number on this board."""
    query = select(func.max(Action.number)).where(Action.board_id == board_id)
    return (session.exec(query).one() or 0) + 1


def create_action(
    *,
    session: Session,
    board_id: int,
    area_id: int,
    now: datetime,
    actor: Member | None,
    issue: str = "",
    action_text: str = "",
    barriers: str = "",
    outcomes: str = "",
    rag: str = Rag.NONE.value,
    due_date: date | None = None,
    confidential: bool = False,
    lead_ids: Sequence[int] = (),
    strands: Sequence[str] = (),
    number: int | None = None,
    note: str = "",
) -> Action:
    """Add an action with its leads and strands, recording its creation in the history."""
    action = Action(
        board_id=board_id,
        number=number or next_action_number(session=session, board_id=board_id),
        area_id=area_id,
        issue=issue,
        action_text=action_text,
        barriers=barriers,
        outcomes=outcomes,
        rag=rag,
        due_date=due_date,
        confidential=confidential,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()
    _set_leads(session, action.id, lead_ids)
    _set_strands(session, action.id, strands)
    _record(session, action, now, actor, "created", None, action.ref, note)
    for field in TRACKED_FIELDS:
        value = getattr(action, field)
        if value not in (None, "", False) and not (field == "rag" and value == Rag.NONE.value):
            _record(session, action, now, actor, field, None, _text(value), "")
    if lead_ids:
        _record(session, action, now, actor, "leads", None, _ids_text(lead_ids), "")
    if strands:
        _record(session, action, now, actor, "strands", None, ",".join(sorted(strands)), "")
    session.flush()
    return action


def update_action(
    *,
    session: Session,
    action: Action,
    now: datetime,
    actor: Member | None,
    changes: dict[str, object],
    note: str = "",
) -> list[ActionChange]:
    """Apply field changes (and `leads`/`strands` lists), recording each real change.

    Raises `StaleActionError` if another transaction changed the action since it was read.
    """
    ref = action.ref  # read now: after a failed flush the row cannot be loaded again
    try:
        return _update_action(session, action, now, actor, changes, note)
    except StaleDataError as err:
        raise StaleActionError(ref) from err


def _update_action(
    session: Session,
    action: Action,
    now: datetime,
    actor: Member | None,
    changes: dict[str, object],
    note: str,
) -> list[ActionChange]:
    recorded: list[ActionChange] = []
    for field, new in changes.items():
        if field == "leads":
            old_ids = sorted(
                p.id for p in leads_of(session=session, action_ids=[action.id])[action.id]
            )
            new_ids = sorted(set(new))
            if old_ids != new_ids:
                _set_leads(session, action.id, new_ids, replace=True)
                recorded.append(
                    _record(
                        session,
                        action,
                        now,
                        actor,
                        field,
                        _ids_text(old_ids),
                        _ids_text(new_ids),
                        note,
                    )
                )
            continue
        if field == "strands":
            old_strands = sorted(strands_of(session=session, action_ids=[action.id])[action.id])
            new_strands = sorted(set(new))
            if old_strands != new_strands:
                _set_strands(session, action.id, new_strands, replace=True)
                recorded.append(
                    _record(
                        session,
                        action,
                        now,
                        actor,
                        field,
                        ",".join(old_strands),
                        ",".join(new_strands),
                        note,
                    )
                )
            continue
        if field not in TRACKED_FIELDS:
            raise ValueError(f"not an action field: {field}")
        old = getattr(action, field)
        if old != new:
            setattr(action, field, new)
            recorded.append(
                _record(session, action, now, actor, field, _text(old), _text(new), note)
            )
    if note and not recorded:
        recorded.append(_record(session, action, now, actor, "note", None, None, note))
    if recorded:
        action.updated_at = now
        session.add(action)
        session.flush()
    return recorded


def record_event(
    *,
    session: Session,
    action: Action,
    now: datetime,
    actor: Member | None,
    field: str,
    value: str,
    note: str = "",
) -> ActionChange:
    """Append an entry that records something other than a field change (e.g. an override)."""
    change = _record(session, action, now, actor, field, None, value, note)
    session.flush()
    return change


def history_of(*, session: Session, action_id: int, limit: int | None = None) -> list[ActionChange]:
    """The action's history, newest first."""
    query = (
        select(ActionChange)
        .where(ActionChange.action_id == action_id)
        .order_by(ActionChange.at.desc(), ActionChange.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


@dataclass(frozen=True)
class RagTally:
    """A Board's visible actions counted by RAG, by (area, RAG) and by (strand, RAG)."""

    totals: dict[str, int]
    by_area: dict[tuple[int, str], int]
    by_strand: dict[tuple[str, str], int]
    # Visible actions with at least one 4P strand, and actions the reader may not see.
    with_strand: int
    hidden: int


def rag_tally(*, session: Session, board_id: int, visibility: Visibility) -> RagTally:
    """Every RAG count the summaries show, from one grouped query."""
    # Each action's strands are found through the strand table's primary key. A plain join
    # lets PostgreSQL plan a scan of every Board's strands, which grows with the deployment.
    strands = (
        select(func.aggregate_strings(ActionStrand.strand, ","))
        .where(ActionStrand.action_id == Action.id)
        .scalar_subquery()
    )
    actions = select(
        Action.area_id, Action.rag, strands.label("strands"), visibility.clause().label("visible")
    ).where(Action.board_id == board_id)
    rows = actions.subquery()
    query = select(func.count(), rows.c.area_id, rows.c.rag, rows.c.strands, rows.c.visible)
    query = query.group_by(rows.c.area_id, rows.c.rag, rows.c.strands, rows.c.visible)
    totals: dict[str, int] = defaultdict(int)
    by_area: dict[tuple[int, str], int] = defaultdict(int)
    by_strand: dict[tuple[str, str], int] = defaultdict(int)
    with_strand = hidden = 0
    for n, area_id, rag, joined, visible in session.exec(query):
        if not visible:
            hidden += n
            continue
        totals[rag] += n
        by_area[(area_id, rag)] += n
        for strand in joined.split(",") if joined else ():
            by_strand[(strand, rag)] += n
        with_strand += n if joined else 0
    return RagTally(dict(totals), dict(by_area), dict(by_strand), with_strand, hidden)


def rag_as_at(*, session: Session, board_id: int, at: datetime) -> dict[int, str]:
    """Each action's RAG at `at`, rebuilt from the history (absent if not yet created)."""
    created = select(ActionChange.action_id).where(
        ActionChange.board_id == board_id, ActionChange.field == "created", ActionChange.at <= at
    )
    latest = (
        select(func.max(ActionChange.id))
        .where(
            ActionChange.board_id == board_id, ActionChange.field == "rag", ActionChange.at <= at
        )
        .group_by(ActionChange.action_id)
    )
    result = {action_id: Rag.NONE.value for action_id in session.exec(created)}
    query = select(ActionChange.action_id, ActionChange.new_value).where(
        ActionChange.id.in_(latest)
    )
    for action_id, rag in session.exec(query):
        if action_id in result:
            result[action_id] = rag or Rag.NONE.value
    return result


# The list `action_lists` adds, with `rag_at`: actions whose RAG differs from the one they had.
MOVED = "moved"
# How much of an action's issue and text a summary line reads (its title is their first line,
# cut at 90 characters): long texts are not sent from the database only to be cut here.
HEAD_TEXT = 400


@dataclass(frozen=True)
class ActionHead:
    """What a summary line shows of an action: its reference, title texts and RAG."""

    number: int
    issue: str
    action_text: str
    rag: str
    # Its RAG at the moment asked about ("none" if it had none then); "" if none was asked.
    old_rag: str = ""

    @property
    def ref(self) -> str:
        """The short reference people see and type, e.g. A-12."""
        return f"A-{self.number}"


@dataclass
class ActionList:
    """The first actions of one list, in reference order, and how many are on it in all."""

    first: list[ActionHead] = dataclass_field(default_factory=list)
    total: int = 0


def action_lists(
    *,
    session: Session,
    board_id: int,
    visibility: Visibility,
    filters: dict[str, ActionFilter],
    rag_at: datetime | None = None,
    limit: int = 10,
) -> dict[str, ActionList]:
    """The visible actions on each named list (its first `limit` and its size); with `rag_at`,
    also the list `MOVED`: actions that existed then whose RAG has changed since. One query,
    however many lists."""
    flags = {name: and_(true(), *where.clauses()) for name, where in filters.items()}
    old_rag = literal("")
    joined = select(Action)
    if rag_at is not None:
        then = _rag_at(board_id, rag_at)
        old_rag = func.coalesce(then.c.rag, Rag.NONE.value)
        joined = joined.outerjoin(then, then.c.action_id == Action.id)
        flags[MOVED] = and_(Action.created_at <= rag_at, old_rag != Action.rag)
    texts = [func.substr(func.ltrim(column, " \t\r\n"), 1, HEAD_TEXT)
             for column in (Action.issue, Action.action_text)]  # fmt: skip
    marks = [flag.label(f"on_{i}") for i, flag in enumerate(flags.values())]
    query = (
        joined.with_only_columns(Action.number, *texts, Action.rag, old_rag, *marks)
        .where(Action.board_id == board_id, visibility.clause(), or_(false(), *flags.values()))
        .order_by(Action.number)
    )
    lists = {name: ActionList() for name in flags}
    for number, issue, action_text, rag, old, *on in session.execute(query):
        for found, is_on in zip(lists.values(), on, strict=True):
            if is_on:
                found.total += 1
                if found.total <= limit:
                    found.first.append(ActionHead(number, issue, action_text, rag, old))
    return lists


def _rag_at(board_id: int, at: datetime):
    """Each action's RAG as last set at or before `at` (a subquery: action_id, rag)."""
    latest = (
        select(func.max(ActionChange.id).label("change_id"))
        .where(
            ActionChange.board_id == board_id, ActionChange.field == "rag", ActionChange.at <= at
        )
        .group_by(ActionChange.action_id)
        .subquery()
    )
    return (
        select(ActionChange.action_id, ActionChange.new_value.label("rag"))
        .join(latest, ActionChange.id == latest.c.change_id)
        .subquery()
    )


def _set_leads(session: Session, action_id: int, partner_ids: Iterable[int], replace: bool = False):
    if replace:
        for row in session.exec(select(ActionLead).where(ActionLead.action_id == action_id)):
            session.delete(row)
        session.flush()
    for partner_id in dict.fromkeys(partner_ids):
        session.add(ActionLead(action_id=action_id, partner_id=partner_id))


def _set_strands(session: Session, action_id: int, strands: Iterable[str], replace: bool = False):
    if replace:
        for row in session.exec(select(ActionStrand).where(ActionStrand.action_id == action_id)):
            session.delete(row)
        session.flush()
    for strand in dict.fromkeys(strands):
        session.add(ActionStrand(action_id=action_id, strand=strand))


def _record(
    session: Session,
    action: Action,
    now: datetime,
    actor: Member | None,
    field: str,
    old: str | None,
    new: str | None,
    note: str,
) -> ActionChange:
    change = ActionChange(
        board_id=action.board_id,
        action_id=action.id,
        at=now,
        actor_member_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else "import",
        field=field,
        old_value=old,
        new_value=new,
        note=note,
    )
    chain(session, action, change)
    session.add(change)
    return change


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _ids_text(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in sorted(set(ids)))
