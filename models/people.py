"""Partners (organisations) and members (people) of a board."""

from sqlmodel import Session, select

from models.tables import Member, Partner


def list_partners(*, session: Session, board_id: int) -> list[Partner]:
    """The board's partners by name."""
    return list(
        session.exec(select(Partner).where(Partner.board_id == board_id).order_by(Partner.name))
    )


def find_partner(*, session: Session, board_id: int, text: str) -> Partner | None:
    """The partner whose name or an alias matches `text`, ignoring case and spacing."""
    wanted = _fold(text)
    for partner in list_partners(session=session, board_id=board_id):
        if wanted in {_fold(partner.name), *map(_fold, partner.alias_list)}:
            return partner
    return None


def create_partner(
    *,
    session: Session,
    board_id: int,
    name: str,
    aliases: list[str] | None = None,
    collective: bool = False,
) -> Partner:
    """Add a partner."""
    partner = Partner(
        board_id=board_id, name=name, aliases="|".join(aliases or []), collective=collective
    )
    session.add(partner)
    session.flush()
    return partner


def collective_partner_ids(*, session: Session, board_id: int) -> set[int]:
    """Ids of collective partners ("All partners"), whose actions every partner shares."""
    query = select(Partner.id).where(Partner.board_id == board_id, Partner.collective)
    return set(session.exec(query))


def get_member(*, session: Session, board_id: int, slack_user_id: str) -> Member | None:
    """The member with this Slack user id, if any."""
    query = select(Member).where(Member.board_id == board_id, Member.slack_user_id == slack_user_id)
    return session.exec(query).first()


def list_members(*, session: Session, board_id: int) -> list[Member]:
    """The board's members by name."""
    query = select(Member).where(Member.board_id == board_id).order_by(Member.display_name)
    return list(session.exec(query))


def save_member(
    *,
    session: Session,
    board_id: int,
    slack_user_id: str,
    display_name: str,
    role: str,
    partner_id: int | None = None,
) -> tuple[Member, bool]:
    """Add the member, or update their name, role and partner; returns (member, created)."""
    member = get_member(session=session, board_id=board_id, slack_user_id=slack_user_id)
    created = member is None
    if member is None:
        member = Member(board_id=board_id, slack_user_id=slack_user_id, display_name=display_name)
    member.display_name = display_name
    member.role = role
    member.partner_id = partner_id
    session.add(member)
    session.flush()
    return member, created


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())
