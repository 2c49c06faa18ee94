"""Who may do what: chair, deputy and secretariat everything; partners their own actions."""

from sqlmodel import Session

from handlers.cache import REGISTER_CACHE, register_key
from handlers.context import Context
from handlers.errors import CommandError
from models.actions import EVERYTHING, PUBLIC, Visibility
from models.people import collective_partner_ids
from models.tables import Board, Member, Role

ADMIN_ROLES = {Role.CHAIR, Role.DEPUTY_CHAIR, Role.SECRETARIAT}
PARTNER_ROLES = {Role.MEMBER, Role.CO_OPTEE}

NOT_A_MEMBER = (
    "You're not on this Board's member list yet.",
    "Ask the secretariat to add you (`member add`); until then the register is closed to you.",
)


def require_member(ctx: Context) -> Member:
    """The caller's membership, or a polite refusal."""
    if ctx.member is None:
        raise CommandError(*NOT_A_MEMBER)
    return ctx.member


def is_admin(member: Member | None) -> bool:
    """Chair, deputy chair or secretariat."""
    return member is not None and member.role in ADMIN_ROLES


def require_admin(ctx: Context, doing: str) -> Member:
    """The caller, if they are chair, deputy or secretariat; otherwise a refusal naming the task."""
    member = require_member(ctx)
    if not is_admin(member):
        raise CommandError(
            f"Only the chair, deputy chair or secretariat can {doing}.",
            "Ask the secretariat if this needs doing.",
        )
    return member


def require_secretariat(ctx: Context, doing: str) -> Member:
    """The caller, if they are the secretariat; otherwise a refusal naming the task."""
    member = require_member(ctx)
    if member.role != Role.SECRETARIAT:
        raise CommandError(
            f"Only the secretariat can {doing}.",
            "Ask the secretariat if this needs doing.",
        )
    return member


def own_partner_ids(session: Session, member: Member) -> frozenset[int]:
    """The partners whose actions count as this member's: theirs and any collective lead."""
    if member.partner_id is None:
        return frozenset()
    board = session.get(Board, member.board_id)  # the command's own Board: no query
    collective = REGISTER_CACHE.get_or_compute(
        register_key(session, board, "collective-partners") if board is not None else None,
        lambda: collective_partner_ids(session=session, board_id=member.board_id),
    )
    return frozenset({member.partner_id, *collective})


def visibility_for(session: Session, member: Member | None) -> Visibility:
    """Which confidential actions this person may read."""
    if member is None or member.role == Role.OBSERVER:
        return PUBLIC
    if is_admin(member):
        return EVERYTHING
    return Visibility(partner_ids=own_partner_ids(session, member))


def may_update(session: Session, member: Member | None, lead_ids: set[int]) -> bool:
    """Whether this person may change an action with these lead partners."""
    if is_admin(member) or member is None or member.role not in PARTNER_ROLES:
        return is_admin(member)
    return can_update(member, lead_ids, own_partner_ids(session, member))


def can_update(member: Member | None, lead_ids: set[int], own_ids: frozenset[int]) -> bool:
    """`may_update` with the member's own partner ids already known (no query per action)."""
    if is_admin(member):
        return True
    return member is not None and member.role in PARTNER_ROLES and bool(own_ids & lead_ids)
