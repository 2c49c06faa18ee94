"""Partners (organisations), members (people) of a board, and their identities per channel."""

from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from models.tables import Identity, Member, Partner

# The channel every member was on before identities (and the default for new members).
SLACK = "slack"


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


def find_member_by_identity(
    *,
    session: Session,
    board_id: int,
    channel: str,
    external_id: str,
    tenant: str | None = None,
) -> Member | None:
    """The member known on `channel` by `external_id` (in `tenant`; None: in any tenant)."""
    params = {"board_id": board_id, "channel": channel, "external_id": external_id}
    if tenant is None:
        return session.exec(_MEMBER_BY_IDENTITY, params=params).first()
    return session.exec(_MEMBER_BY_TENANT_IDENTITY, params={**params, "tenant": tenant}).first()


# Built once: every command looks its member up; building the statement cost more than running it.
_MEMBER_BY_IDENTITY = (
    select(Member)
    .join(Identity, Identity.member_id == Member.id)
    .where(
        Identity.board_id == bindparam("board_id"),
        Identity.channel == bindparam("channel"),
        Identity.external_id == bindparam("external_id"),
    )
    .order_by(Identity.id)
    .limit(1)
)
_MEMBER_BY_TENANT_IDENTITY = _MEMBER_BY_IDENTITY.where(Identity.tenant == bindparam("tenant"))


def find_identity(
    *, session: Session, board_id: int, channel: str, external_id: str, tenant: str = ""
) -> Identity | None:
    """The identity with exactly this channel, tenant and id, if any."""
    query = select(Identity).where(
        Identity.board_id == board_id,
        Identity.channel == channel,
        Identity.tenant == tenant,
        Identity.external_id == external_id,
    )
    return session.exec(query).first()


def attach_identity(
    *,
    session: Session,
    member: Member,
    channel: str,
    external_id: str,
    now: datetime | None = None,
    tenant: str = "",
    conversation: str | None = None,
) -> Identity:
    """Give `member` this identity (or update it), storing `conversation` when given.

    Raises `IdentityTaken` if the identity belongs to another member of the Board. `now`
    defaults to the wall clock (it only dates the record).
    """
    now = now or datetime.now(UTC)
    identity = find_identity(
        session=session,
        board_id=member.board_id,
        channel=channel,
        external_id=external_id,
        tenant=tenant,
    )
    # Ids are unique on their channel (Entra object ids are GUIDs): another member holding this
    # one in any tenant is the same person, not a second one.
    holder = find_member_by_identity(
        session=session, board_id=member.board_id, channel=channel, external_id=external_id
    )
    if holder is not None and holder.id != member.id:
        raise IdentityTaken(channel, external_id, holder.id)
    if identity is None:
        identity = Identity(
            board_id=member.board_id,
            member_id=member.id,
            channel=channel,
            external_id=external_id,
            tenant=tenant,
            created_at=now,
        )
    if conversation is not None:
        identity.conversation = conversation
    identity.last_seen_at = now
    session.add(identity)
    session.flush()
    return identity


class IdentityTaken(ValueError):
    """An identity that already belongs to another member."""

    def __init__(self, channel: str, external_id: str, member_id: int) -> None:
        super().__init__(f"{channel} id {external_id} belongs to member {member_id}")
        self.channel, self.external_id, self.member_id = channel, external_id, member_id


def identities_of(*, session: Session, member_id: int) -> list[Identity]:
    """A member's identities, oldest first."""
    query = select(Identity).where(Identity.member_id == member_id).order_by(Identity.id)
    return list(session.exec(query))


def identities_by_member(*, session: Session, board_id: int) -> dict[int, list[Identity]]:
    """Every identity of the Board's members, by member id (oldest first)."""
    query = select(Identity).where(Identity.board_id == board_id).order_by(Identity.id)
    found: dict[int, list[Identity]] = {}
    for identity in session.exec(query):
        found.setdefault(identity.member_id, []).append(identity)
    return found


def reachable_identity(
    member: Member, identities: Iterable[Identity], channels: Collection[str]
) -> Identity | None:
    """The identity a direct message to `member` goes to, among `channels` that can be reached:
    their preferred channel first, then the one they were seen on last."""
    usable = [i for i in identities if i.channel in channels]
    if not usable:
        return None
    preferred = [i for i in usable if i.channel == member.channel]
    pool = preferred or usable
    newest = datetime.min.replace(tzinfo=UTC)
    return max(pool, key=lambda i: (i.last_seen_at or newest, -i.id))


def slack_id_of(*, session: Session, member: Member) -> str:
    """The member's Slack user id ("" if they have none)."""
    return next(
        (i.external_id for i in identities_of(session=session, member_id=member.id)
         if i.channel == SLACK),
        "",
    )  # fmt: skip


def list_members(*, session: Session, board_id: int) -> list[Member]:
    """The board's members by name."""
    query = select(Member).where(Member.board_id == board_id).order_by(Member.display_name)
    return list(session.exec(query))


def save_member(
    *,
    session: Session,
    board_id: int,
    external_id: str,
    display_name: str,
    role: str,
    now: datetime | None = None,
    partner_id: int | None = None,
    channel: str = SLACK,
    tenant: str = "",
) -> tuple[Member, bool]:
    """Add the member known by this identity, or update their name, role and partner; returns
    (member, created). A new member's preferred channel is the identity's."""
    member = find_member_by_identity(
        session=session, board_id=board_id, channel=channel, external_id=external_id
    )
    created = member is None
    if member is None:
        member = Member(board_id=board_id, display_name=display_name, channel=channel)
    member.display_name = display_name
    member.role = role
    member.partner_id = partner_id
    session.add(member)
    session.flush()
    if created:
        attach_identity(
            session=session,
            member=member,
            channel=channel,
            external_id=external_id,
            tenant=tenant,
            now=now,
        )
    return member, created


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())
