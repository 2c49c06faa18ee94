"""CLI subcommands for the Board's people: `member add`, `member link` and `member list`.

A member is one person; each of their ids on a channel (Slack user id, Teams' Entra object id) is
an identity of theirs, and their direct messages go to the channel they prefer.
"""

import argparse
import re

from sqlmodel import Session

from bot.cli.console import in_cli_syntax
from bot.config import Settings
from bot.setup import board_session
from handlers.errors import CommandError
from handlers.register.admin import set_member
from handlers.text.vocab import parse_user_id
from models.people import (
    SLACK,
    IdentityTaken,
    attach_identity,
    find_member_by_identity,
    identities_by_member,
    list_members,
    list_partners,
)
from models.tables import Board, Identity, Member

TEAMS = "teams"
MEMBER_ADD_USAGE = (
    'Usage: soc-bot member add U0123ABC --name "Jane Anson" --role member '
    '[--partner "City of London Police"] (`soc-bot partner list` shows the partners).'
)
TEAMS_ID_HELP = "their Microsoft Entra object id (a GUID), to reach them on Teams"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `member add|link|list` to the `soc-bot` parser."""
    member = sub.add_parser("member", help="add, link or list Board members")
    member_sub = member.add_subparsers(dest="member_action", required=True)
    add = member_sub.add_parser("add", help="add a member or change their role")
    add.add_argument("user", nargs="?", help="Slack user id, e.g. U0123ABC")
    add.add_argument("--teams", metavar="OBJECT_ID", help=TEAMS_ID_HELP)
    add.add_argument("--tenant", default="", help="their Microsoft tenant id (with --teams)")
    add.add_argument("--name", required=True)
    add.add_argument(
        "--role", default="member", help="chair, deputy, secretariat, member, co-optee or observer"
    )
    add.add_argument("--partner", help="the partner they are a contact for")
    link = member_sub.add_parser("link", help="give a member an id on another channel")
    link.add_argument("user", help="an id the member already has (Slack user id, Teams id)")
    link.add_argument("--teams", metavar="OBJECT_ID", help=TEAMS_ID_HELP)
    link.add_argument("--slack", metavar="USER_ID", help="their Slack user id")
    link.add_argument("--tenant", default="", help="their Microsoft tenant id (with --teams)")
    link.add_argument(
        "--prefer", action="store_true", help="send their direct messages on this channel"
    )
    member_sub.add_parser("list", help="list members and their ids on each channel")


def _member(args: argparse.Namespace, settings: Settings) -> int:
    with board_session(settings) as (session, board):
        if args.member_action == "list":
            partners = {p.id: p.name for p in list_partners(session=session, board_id=board.id)}
            identities = identities_by_member(session=session, board_id=board.id)
            for m in list_members(session=session, board_id=board.id):
                ids = identities.get(m.id, [])
                first = next((i.external_id for i in ids if i.channel == SLACK), "")
                print(
                    f"{first or (ids[0].external_id if ids else '-')}\t{m.display_name}\t{m.role}"
                    f"\t{partners.get(m.partner_id, '')}\t{_identities_text(m, ids)}"
                )
            return 0
        if args.member_action == "link":
            return _member_link(args, session, board)
        options = {"name": args.name, "role": args.role}
        if args.partner:
            options["partner"] = args.partner
        channel, user, tenant = _new_identity(args.user, args.teams, args.tenant)
        try:
            member, created = set_member(
                session, board, user, options, channel=channel, tenant=tenant
            )
        except CommandError as refused:
            raise in_cli_syntax(refused, MEMBER_ADD_USAGE) from None
        print(
            f"{'Added' if created else 'Updated'} {member.display_name} ({user}"
            f"{'' if channel == SLACK else ' on ' + channel}) as {member.role}."
        )
    return 0


def _new_identity(slack: str | None, teams: str | None, tenant: str) -> tuple[str, str, str]:
    """(channel, id, tenant) from `member add`'s Slack id or --teams, checked."""
    if bool(slack) == bool(teams):
        raise CommandError(
            "Give the member's Slack user id or --teams <object id> (one of them).",
            'Example: soc-bot member add U0123ABC --name "Jane Anson" --role member',
        )
    if slack:
        return SLACK, parse_user_id(slack), ""
    return TEAMS, _teams_id(teams), _tenant(tenant)


def _teams_id(text: str) -> str:
    if not _GUID.match(text.strip()):
        raise CommandError(
            f"{text!r} is not a Microsoft Entra object id.",
            "It looks like 0b3c7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b (Entra admin centre, Users).",
        )
    return text.strip().lower()


def _tenant(text: str) -> str:
    if text and not _GUID.match(text.strip()):
        raise CommandError(f"{text!r} is not a Microsoft tenant id (a GUID).")
    return text.strip().lower()


def _member_link(args: argparse.Namespace, session: Session, board: Board) -> int:
    """`member link <id they have> --teams <object id>` (or --slack <user id>)."""
    member = next(
        (
            found
            for channel in (SLACK, TEAMS)
            if (found := find_member_by_identity(session=session, board_id=board.id,
                                                 channel=channel, external_id=args.user.strip()))
        ),
        None,
    )  # fmt: skip
    if member is None:
        raise CommandError(
            f"No member has the id {args.user!r}.", "`soc-bot member list` shows everyone's ids."
        )
    if bool(args.teams) == bool(args.slack):
        raise CommandError("Give the new id: --teams <object id> or --slack <user id>.")
    channel, external_id, tenant = (
        (TEAMS, _teams_id(args.teams), _tenant(args.tenant))
        if args.teams
        else (SLACK, parse_user_id(args.slack), "")
    )
    try:
        attach_identity(session=session, member=member, channel=channel,
                        external_id=external_id, tenant=tenant)  # fmt: skip
    except IdentityTaken as taken:
        owner = session.get(Member, taken.member_id)
        raise CommandError(
            f"{external_id} on {channel} already belongs to {owner.display_name if owner else '?'}."
        ) from None
    if args.prefer:
        member.channel = channel
        session.add(member)
    print(
        f"{member.display_name} can now be reached on {channel} as {external_id}"
        + (" (their direct messages go there)." if member.channel == channel else ".")
    )
    return 0


def _identities_text(member: Member, identities: list[Identity]) -> str:
    """ "slack:U0123 teams:0b3c…(preferred)": every id a member has, their channel marked."""
    return " ".join(
        f"{i.channel}:{i.external_id}" + ("*" if i.channel == member.channel else "")
        for i in identities
    )


HANDLERS = {"member": _member}
