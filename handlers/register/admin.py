"""Secretariat commands: members, partners and key crime areas."""

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import require_admin, require_member
from handlers.replies import Fact, Item, Reply, Section
from handlers.text.parsing import Args
from handlers.text.vocab import find_partners, parse_role, parse_user_id, parse_yes_no
from models.board_history import MEMBER_ADD, MEMBER_ROLE, record_board_change
from models.boards import get_or_create_area, list_areas
from models.people import (
    SLACK,
    create_partner,
    find_member_by_identity,
    find_partner,
    list_members,
    list_partners,
    save_member,
)
from models.tables import Board, Member, Role

MEMBER_OPTIONS = {"name", "role", "partner", "deputy", "away"}
PARTNER_OPTIONS = {"aliases", "collective"}
ROLE_TITLES = {
    Role.CHAIR: "Chair",
    Role.DEPUTY_CHAIR: "Deputy chair",
    Role.SECRETARIAT: "Secretariat",
    Role.MEMBER: "Member",
    Role.CO_OPTEE: "Co-optee",
    Role.OBSERVER: "Observer",
}


def set_member(
    session: Session,
    board: Board,
    user_text: str,
    options: dict[str, str],
    *,
    channel: str = SLACK,
    tenant: str = "",
) -> tuple[Member, bool]:
    """Add or update a member from typed values (shared by the `member add` command and the CLI).

    `user_text` (and a deputy's) is their id on `channel`, as typed or mentioned there."""
    user_id = _typed_id(user_text, channel)
    existing = find_member_by_identity(
        session=session, board_id=board.id, channel=channel, external_id=user_id
    )
    name = options.get("name") or (existing.display_name if existing else "")
    if not name:
        raise CommandError(
            "Give the member's name.",
            f'Example: `member add {user_id} name="Jane Anson" role=member`',
        )
    if len(name) > 200:
        raise CommandError("That name is too long (200 characters at most).")
    role = (
        parse_role(options["role"])
        if "role" in options
        else (Role(existing.role) if existing else Role.MEMBER)
    )
    partner_id = existing.partner_id if existing else None
    if "partner" in options:
        partners = find_partners(session, board.id, options["partner"])
        if len(partners) > 1:
            raise CommandError("A member belongs to one partner.", "Give a single partner=.")
        partner_id = partners[0].id if partners else None
    member, created = save_member(
        session=session,
        board_id=board.id,
        external_id=user_id,
        display_name=name,
        role=role.value,
        partner_id=partner_id,
        channel=channel,
        tenant=tenant,
    )
    if "deputy" in options:
        deputy = find_member_by_identity(
            session=session,
            board_id=board.id,
            channel=channel,
            external_id=_typed_id(options["deputy"], channel),
        )
        if deputy is None or deputy.id == member.id:
            raise CommandError(
                "The deputy must be another member of the Board.",
                "Add them first with `member add`.",
            )
        member.deputy_id = deputy.id
    if "away" in options:
        member.away = parse_yes_no(options["away"], "away")
    session.add(member)
    session.flush()
    return member, created


def _typed_id(text: str, channel: str) -> str:
    """A person's id on `channel` from what was typed there (a mention becomes the id)."""
    return parse_user_id(text) if channel == SLACK else text.strip()


def member_add(session: Session, ctx: Context, args: Args) -> Reply:
    """`member add <@user> name="..." role=... [partner=...] [deputy=<@user>] [away=yes|no]`."""
    by = require_admin(ctx, "add or change members")
    if len(args.words) != 1:
        raise CommandError(
            "Say who to add: mention them or give their user id.",
            'Usage: `member add @jane name="Jane Anson" role=member partner=CoLP`',
        )
    channel = ctx.surface.identity_channel
    before = find_member_by_identity(
        session=session,
        board_id=ctx.board.id,
        channel=channel,
        external_id=_typed_id(args.words[0], channel),
    )
    old_role = Role(before.role) if before else None
    member, created = set_member(session, ctx.board, args.words[0], args.options, channel=channel)
    _record_role(session, ctx, by, member, old_role)
    verb = "Added" if created else "Updated"
    return Reply(title=f"{verb} {member.display_name}", items=[_member_item(session, member)])


def _record_role(
    session: Session, ctx: Context, by: Member, member: Member, old_role: Role | None
) -> None:
    """A new member, or a member's new role, in the Board's history (other details are not)."""
    role = ROLE_TITLES[Role(member.role)]
    if old_role is None:
        what, details = MEMBER_ADD, f"{member.display_name} added as {role}"
    elif old_role != member.role:
        what, details = MEMBER_ROLE, f"{member.display_name}: {ROLE_TITLES[old_role]} → {role}"
    else:
        return
    record_board_change(
        session=session, board_id=ctx.board.id, at=ctx.now, by=by, what=what, details=details
    )


def member_list(session: Session, ctx: Context, args: Args) -> Reply:
    """`member list`: who is on the Board, with roles and partners."""
    require_member(ctx)
    members = list_members(session=session, board_id=ctx.board.id)
    return Reply(
        title="Board members",
        text=f"{len(members)} member{'s' if len(members) != 1 else ''}.",
        items=[_member_item(session, m) for m in members],
    )


def _member_item(session: Session, member: Member) -> Item:
    partners = {p.id: p.name for p in list_partners(session=session, board_id=member.board_id)}
    facts = [
        Fact("Role", ROLE_TITLES[Role(member.role)]),
        Fact("Partner", partners.get(member.partner_id, "none")),
    ]
    if member.away:
        facts.append(Fact("Away", "yes"))
    if member.deputy_id:
        deputy = session.get(Member, member.deputy_id)
        facts.append(Fact("Deputy", deputy.display_name if deputy else "?"))
    return Item(title=member.display_name, facts=facts)


def partner_add(session: Session, ctx: Context, args: Args) -> Reply:
    """`partner add "<name>" [aliases="A, B"] [collective=yes]`."""
    require_admin(ctx, "add partners")
    name = args.text()
    if not name:
        raise CommandError(
            "Give the partner's name.", 'Usage: `partner add "Trading Standards" aliases="TS"`'
        )
    if len(name) > 200:
        raise CommandError("That name is too long (200 characters at most).")
    aliases = [a.strip() for a in args.options.get("aliases", "").split(",") if a.strip()]
    if len("|".join(aliases)) > 1000:  # Partner.aliases
        raise CommandError("Those aliases are too long (1,000 characters at most in all).")
    for text in (name, *aliases):
        clash = find_partner(session=session, board_id=ctx.board.id, text=text)
        if clash is not None:
            raise CommandError(
                f"“{text}” already names the partner {clash.name}.", "Choose another name or alias."
            )
    collective = parse_yes_no(args.options.get("collective", "no"), "collective")
    partner = create_partner(
        session=session, board_id=ctx.board.id, name=name, aliases=aliases, collective=collective
    )
    return Reply(
        title=f"Added partner {partner.name}",
        text=("Also known as " + ", ".join(aliases) + ".") if aliases else "",
    )


def partner_list(session: Session, ctx: Context, args: Args) -> Reply:
    """`partner list`: the organisations that lead actions, with their aliases."""
    require_member(ctx)
    partners = list_partners(session=session, board_id=ctx.board.id)
    items = []
    for partner in partners:
        facts = [Fact("Also known as", ", ".join(partner.alias_list))] if partner.aliases else []
        if partner.collective:
            facts.append(Fact("Collective", "its actions belong to every partner"))
        items.append(Item(title=partner.name, facts=facts))
    return Reply(title="Partners", text=f"{len(partners)} partners.", items=items)


def area_list(session: Session, ctx: Context, args: Args) -> Reply:
    """`area list`: the key crime areas, the Board's priorities first."""
    require_member(ctx)
    areas = list_areas(session=session, board_id=ctx.board.id)
    sources = {
        "government-strategy": "Government SOC Strategy",
        "national-assessment": "National Strategic Assessment",
        "board": "Board",
    }
    section = Section(
        "Key crime areas",
        facts=[
            Fact(("★ " if a.priority else "") + a.name, sources.get(a.source, a.source))
            for a in areas
        ],
    )
    return Reply(
        title="Key crime areas", text="★ marks the Board's current priorities.", sections=[section]
    )


def area_add(session: Session, ctx: Context, args: Args) -> Reply:
    """`area add "<name>"`: a key crime area of the Board's own."""
    require_admin(ctx, "add key crime areas")
    name = args.text()
    if not name or len(name) > 200:
        raise CommandError(
            "Give the area's name (up to 200 characters).", 'Usage: `area add "Drugs supply"`'
        )
    area = get_or_create_area(session=session, board_id=ctx.board.id, name=name)
    return Reply(title=f"Key crime area: {area.name}")
