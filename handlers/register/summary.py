"""`/soc rag`: RAG counts by key crime area and 4P strand, and change since the last meeting.

`/soc rag post` is the same in-channel summary, for the Board's summary channels.
"""

from sqlmodel import Session

from handlers.cache import REGISTER_CACHE, register_key
from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import is_admin, require_admin, require_member, visibility_for
from handlers.register.present import action_title
from handlers.replies import Audience, Fact, Reply, Section
from handlers.text.parsing import Args
from handlers.text.vocab import RAG_LABELS
from models.actions import (
    MOVED,
    PUBLIC,
    ActionFilter,
    ActionHead,
    ActionList,
    RagTally,
    Visibility,
    action_lists,
    rag_tally,
)
from models.boards import list_areas
from models.meetings import last_meeting
from models.tables import AreaSource, Meeting, Rag, Strand

RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.NONE)
EXCEPTION_LIMIT = 10
NEW, NOT_UPDATED = "New actions", "Not updated since the last meeting"
SHORT_LABELS = {**RAG_LABELS, Rag.BLUE: "Blue"}


def rag_breakdown(counts: dict[str, int]) -> str:
    """`2 Red · 5 Amber · 1 Blue`, skipping zeros."""
    parts = [f"{counts[r]} {SHORT_LABELS[r]}" for r in RAG_ORDER if counts.get(r)]
    return " · ".join(parts) or "no actions"


def rag_summary(session: Session, ctx: Context, args: Args) -> Reply:
    """The Board's RAG summary; posted in the channel when the chair, deputy or secretariat asks."""
    member = require_member(ctx)
    in_channel = is_admin(member) and "private" not in [w.casefold() for w in args.words]
    visibility = PUBLIC if in_channel else visibility_for(session, member)
    meeting = last_meeting(session=session, board_id=ctx.board.id, now=ctx.now)
    # The summary depends only on these, so it is computed once per register version.
    key = register_key(
        session, ctx.board, "rag", ctx.today, meeting and (meeting.id, meeting.starts_at),
        in_channel, is_admin(member), visibility,
    )  # fmt: skip
    return REGISTER_CACHE.get_or_compute(
        key, lambda: _summary(session, ctx, in_channel, visibility, meeting)
    )


def rag_post(session: Session, ctx: Context, args: Args) -> Reply:
    """The in-channel RAG summary, to be posted to each of the Board's summary channels."""
    require_admin(ctx, "post the RAG summary to the Board's summary channels")
    args.expect_no_words("rag post", f"Type `{ctx.surface.typed('rag post')}`.")
    channels = tuple(ctx.board.summary_channels or ())
    if not channels:
        raise CommandError(
            "This Board has no summary channels to post the RAG summary to.",
            f"The secretariat sets them with "
            f"`{ctx.surface.typed('board settings summary=#channel')}`; "
            f"`{ctx.surface.typed('rag')}` posts it in the channel you type it in.",
        )
    # The chair's in-channel summary (never a confidential action), shared with `rag` through
    # the cache: the channels are added to this copy only, never to what the cache keeps.
    reply = rag_summary(session, ctx, Args())
    reply.post_to = channels
    return reply


def _summary(
    session: Session,
    ctx: Context,
    in_channel: bool,
    visibility: Visibility,
    meeting: Meeting | None,
) -> Reply:
    member = ctx.member
    board_id = ctx.board.id
    tally = rag_tally(session=session, board_id=board_id, visibility=visibility)
    totals = tally.totals
    total = sum(totals.values())
    reply = Reply(
        title="RAG summary",
        text=f"{total} action{'s' if total != 1 else ''}: {rag_breakdown(totals)}.",
        audience=Audience.IN_CHANNEL if in_channel else Audience.EPHEMERAL,
        rag_legend=True,
    )
    if not in_channel:
        reply.notice = "Only you can see this." + (
            "" if is_admin(member) else " The chair, deputy or secretariat can post it."
        )
    hidden = tally.hidden
    if hidden:
        reply.text += (
            f" {hidden} confidential action{'s are' if hidden != 1 else ' is'} not shown: "
            "details available to authorised members."
        )
    reply.sections.append(_by_area(session, board_id, tally))
    reply.sections.append(_by_strand(tally, total))
    reply.sections.extend(_since_last_meeting(session, ctx, visibility, meeting))
    return reply


def _by_area(session: Session, board_id: int, tally: RagTally) -> Section:
    counts = tally.by_area
    section = Section("By key crime area")
    empty = []
    for area in list_areas(session=session, board_id=board_id):
        area_counts = {rag: n for (area_id, rag), n in counts.items() if area_id == area.id}
        name = ("★ " if area.priority else "") + area.name
        if area_counts:
            section.facts.append(Fact(name, rag_breakdown(area_counts)))
        elif area.priority or area.source != AreaSource.NATIONAL_ASSESSMENT:
            empty.append(name)
    if empty:
        section.lines.append("No actions yet: " + "; ".join(empty) + ".")
    return section


def _by_strand(tally: RagTally, total: int) -> Section:
    counts = tally.by_strand
    section = Section("By 4P strand")
    for strand in Strand:
        strand_counts = {rag: n for (s, rag), n in counts.items() if s == strand}
        section.facts.append(Fact(strand.value.title(), rag_breakdown(strand_counts)))
    unassigned = total - tally.with_strand
    if unassigned:
        section.lines.append(
            f"{unassigned} action{'s have' if unassigned != 1 else ' has'} no strand set "
            "(`action update A-n strand=pursue,protect`)."
        )
    return section


def _since_last_meeting(
    session: Session, ctx: Context, visibility: Visibility, meeting: Meeting | None
) -> list[Section]:
    since = meeting.starts_at if meeting is not None else None
    wanted = {"Red": ActionFilter(rag=Rag.RED.value), "Overdue": ActionFilter(overdue_on=ctx.today)}
    if since is not None:
        wanted[NEW] = ActionFilter(created_after=since)
        wanted[NOT_UPDATED] = ActionFilter(not_updated_since=since, open_only=True)
    # Every list below, from one query.
    lists = action_lists(session=session, board_id=ctx.board.id, visibility=visibility,
                         filters=wanted, rag_at=since, limit=EXCEPTION_LIMIT)  # fmt: skip
    if since is None:
        changes = Section("Since the last meeting")
        changes.lines.append("No previous meeting is recorded, so there is nothing to compare.")
    else:
        changes = Section("Since the last meeting", facts=[Fact("Last meeting", since)])
        moves = lists[MOVED]
        for head in moves.first:
            changes.lines.append(
                f"{head.ref} {_short_title(head)}: {SHORT_LABELS[Rag(head.old_rag)]} → "
                f"{SHORT_LABELS[Rag(head.rag)]}"
            )
        if moves.total > len(moves.first):
            changes.lines.append(f"…and {moves.total - len(moves.first)} more rating changes.")
        if not moves.total:
            changes.lines.append("No RAG ratings changed.")
        _exception(changes, NEW, lists)
    exceptions = Section("Exceptions")
    for label in ("Red", "Overdue", NOT_UPDATED):
        _exception(exceptions, label, lists)
    if not exceptions.lines:
        exceptions.lines.append("None: nothing is red, overdue or left without an update.")
    return [changes, exceptions]


def _exception(section: Section, label: str, lists: dict[str, ActionList]) -> None:
    found = lists.get(label)
    if found is None or not found.total:
        return
    refs = "; ".join(f"{head.ref} {_short_title(head)}" for head in found.first)
    more = f" …and {found.total - len(found.first)} more" if found.total > len(found.first) else ""
    section.lines.append(f"{label} ({found.total}): {refs}{more}")


def _short_title(action: ActionHead) -> str:
    title = action_title(action)
    return title if len(title) <= 40 else title[:39].rstrip() + "…"
