"""The App Home dashboard: the reader's own open actions, then the Board at a glance (4Ps)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.cache import REGISTER_CACHE, register_key
from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings.commands import reminder_config
from handlers.permissions import own_partner_ids, require_member, visibility_for
from handlers.register.present import action_items
from handlers.replies import Fact, Item, Reply, error_reply
from handlers.text.dates import format_uk_date
from models.actions import (
    ActionFilter,
    Visibility,
    count_actions,
    list_actions,
    rag_tally,
)
from models.boards import list_areas
from models.people import list_partners
from models.schedule import meetings_between
from models.tables import AreaSource, Rag, Strand

MY_PAGE_SIZE = 10
MAX_AREAS = 40
LOOKAHEAD = timedelta(days=400)


@dataclass(frozen=True)
class AreaCounts:
    """A key crime area and how many of its visible actions have each rating."""

    name: str
    priority: bool
    counts: dict[str, int]


@dataclass
class Overview:
    """The Board at a glance, as this reader may see it."""

    totals: dict[str, int]
    strands: dict[str, dict[str, int]]
    without_strand: int
    areas: list[AreaCounts]
    more_areas: int
    hidden: int


@dataclass
class Dashboard:
    """Everything the Home tab shows one member."""

    name: str
    partner: str
    mine: list[Item]
    mine_total: int
    mine_overdue: int
    page: int
    pages: int
    mine_note: str
    overview: Overview
    next_meeting: datetime | None = None
    next_reminder: datetime | None = None
    days_to_reminder: int | None = None
    # The Board's time zone, which the dates are shown in.
    tz: ZoneInfo | None = None


def dashboard(session: Session, ctx: Context, page: int = 1) -> Dashboard | Reply:
    """The reader's Home: their partner's open actions (a page of them) and the Board overview."""
    try:
        member = require_member(ctx)
    except CommandError as err:
        return error_reply(err.message, err.hint)
    visibility = visibility_for(session, member)
    partner_ids = own_partner_ids(session, member)
    mine: list[Item] = []
    total = overdue = 0
    note = ""
    pages = 1
    if partner_ids:
        where = ActionFilter(partner_ids=partner_ids, open_only=True)
        total = count_actions(
            session=session, board_id=ctx.board.id, visibility=visibility, where=where
        )
        pages = max(1, -(-total // MY_PAGE_SIZE))
        page = min(max(page, 1), pages)
        actions, _ = list_actions(
            session=session,
            board_id=ctx.board.id,
            visibility=visibility,
            where=where,
            offset=(page - 1) * MY_PAGE_SIZE,
            limit=MY_PAGE_SIZE,
        )
        overdue_where = ActionFilter(partner_ids=partner_ids, overdue_on=ctx.today)
        overdue = count_actions(
            session=session, board_id=ctx.board.id, visibility=visibility, where=overdue_where
        )
        mine = action_items(session, ctx, actions)
        for action, item in zip(actions, mine, strict=True):
            if action.due_date and action.due_date < ctx.today and action.rag != Rag.BLUE:
                item.facts.insert(0, Fact("⏰ Overdue", _overdue_by(action.due_date, ctx.today)))
        if not total:
            note = "Your partner has no open actions."
    else:
        page = 1
        note = (
            "You are not a lead partner's contact, so no actions are yours to update; the "
            f"overview below covers the register. `{ctx.surface.typed('action status all')}` "
            "lists every action."
        )
    partners = {p.id: p.name for p in list_partners(session=session, board_id=ctx.board.id)}
    board = Dashboard(
        name=member.display_name,
        partner=partners.get(member.partner_id, ""),
        mine=mine,
        mine_total=total,
        mine_overdue=overdue,
        page=page,
        pages=pages,
        mine_note=note,
        overview=_cached_overview(session, ctx, visibility),
        tz=ctx.tz,
    )
    _next_dates(session, ctx, board)
    return board


def _overdue_by(due: date, today: date) -> str:
    days = (today - due).days
    return f"due {format_uk_date(due)}, {days} day{'s' if days != 1 else ''} ago"


def _cached_overview(session: Session, ctx: Context, visibility: Visibility) -> Overview:
    key = register_key(session, ctx.board, "home-overview", visibility)
    return REGISTER_CACHE.get_or_compute(key, lambda: _overview(session, ctx, visibility))


def _overview(session: Session, ctx: Context, visibility: Visibility) -> Overview:
    board_id = ctx.board.id
    tally = rag_tally(session=session, board_id=board_id, visibility=visibility)
    totals = tally.totals
    by_strand = tally.by_strand
    strands = {
        s.value: {rag: n for (strand, rag), n in by_strand.items() if strand == s.value}
        for s in Strand
    }
    by_area = tally.by_area
    areas = []
    for area in list_areas(session=session, board_id=board_id):
        counts = {rag: n for (area_id, rag), n in by_area.items() if area_id == area.id}
        # The National Strategic Assessment list is background: shown once it has actions.
        if counts or area.priority or area.source != AreaSource.NATIONAL_ASSESSMENT:
            areas.append(AreaCounts(area.name, area.priority, counts))
    with_strand = tally.with_strand
    return Overview(
        totals=totals,
        strands=strands,
        without_strand=sum(totals.values()) - with_strand,
        areas=areas[:MAX_AREAS],
        more_areas=max(0, len(areas) - MAX_AREAS),
        hidden=tally.hidden,
    )


def _next_dates(session: Session, ctx: Context, board: Dashboard) -> None:
    """The next meeting, and the next reminder point (which may belong to a later meeting)."""
    meetings = meetings_between(
        session=session,
        board_id=ctx.board.id,
        start=ctx.now,
        end=ctx.now + LOOKAHEAD,
        include_cancelled=False,
    )
    if not meetings:
        return
    board.next_meeting = meetings[0].starts_at
    config = reminder_config(ctx.board)
    for meeting in meetings[:3]:
        coming = [p.at for p in config.points(meeting) if p.at > ctx.now]
        if coming:
            board.next_reminder = coming[0]
            board.days_to_reminder = (coming[0].astimezone(ctx.tz).date() - ctx.today).days
            return
