"""Help for the person asking: what they do most, with their own examples, then the rest.

The command table (handlers/commands.py) is passed in, so this module never imports it; who may
use a command comes from the table's `who` and from handlers/permissions.py, never a list here.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from handlers.context import Context, Surface
from handlers.permissions import (
    NOT_A_MEMBER,
    PARTNER_ROLES,
    can_update,
    is_admin,
    own_partner_ids,
    visibility_for,
)
from handlers.replies import Fact, Reply, Section, error_reply
from models.actions import ActionFilter, list_actions
from models.tables import Member, Role

if TYPE_CHECKING:
    from handlers.commands import Command

TITLE = "soc-bot: the Board's action register"
BASICS = (
    "References look like A-12 (typing 12 works). Dates are UK style: 31/01/2027, 31 Jan, "
    "next friday. RAG: red, amber (orange), green, blue (complete)."
)
# The short help's groups, in the order shown, with their headings.
GROUPS = {
    "register": "The register",
    "meetings": "Meetings",
    "reports": "Reports",
    "priorities": "Priorities",
    "administration": "Administration",
}
PLACEHOLDER_REF = "<ref>"
# How the roles that can do more are named, in this order.
MORE_ROLE_NAMES = (
    (frozenset(PARTNER_ROLES), "lead partners"),
    (frozenset({Role.CHAIR}), "the chair"),
    (frozenset({Role.DEPUTY_CHAIR}), "the deputy chair"),
    (frozenset({Role.SECRETARIAT}), "the secretariat"),
)


@dataclass(frozen=True)
class Task:
    """One of the things people do most: the command it uses, what it does, an example."""

    command: str
    what: str
    example: str  # `{ref}` is one of the asker's own actions
    changes: bool = False  # changes an action, so only for those who may change one


TASKS = (
    Task("action update", "Update an action", 'action update {ref} rag=green note="..."', True),
    Task("action note", "Add a progress note", "action note {ref} ...", True),
    Task(
        "action done",
        "Mark one done, saying what it achieved",
        'action done {ref} note="..."',
        True,
    ),
    Task("rag", "The RAG summary by key crime area and 4P strand", "rag"),
)
OWN_ACTIONS = Task("action status", "See your partner's actions", "action status")
ALL_ACTIONS = Task("action status", "See the Board's actions", "action status all")
ONE_ACTION = Task("action status", "See one action in full", "action status {ref}")


def short_help(session: Session, ctx: Context, commands: Sequence["Command"]) -> Reply:
    """What this person may do: their most used commands with examples, then the rest by group."""
    member = ctx.member
    topics = ", ".join(sorted({c.words[0] for c in commands if c.group}))
    more_line = f"{ctx.surface.typed('help <topic>')} shows one topic in full: {topics}."
    if member is None:
        title, hint = NOT_A_MEMBER
        return Reply(title=TITLE, text=BASICS, sections=[Section(title, lines=[hint])])
    allowed = {c.name: c for c in commands if c.who.admits(member)}
    own_ids = own_partner_ids(session, member)
    may_change = can_update(member, set(own_ids), own_ids)
    ref, own = _example_ref(session, member, own_ids, may_change)
    tasks = _tasks(allowed, bool(own_ids), may_change)
    shown_most = {task.command for task in tasks}
    heading = "What you'll do most"
    if own and any("{ref}" in task.example for task in tasks):
        heading += f" ({ref} is one of your partner's actions)"
    sections = [
        Section(
            heading,
            facts=[
                Fact(ctx.surface.typed(task.example.format(ref=ref)), task.what) for task in tasks
            ],
        )
    ]
    if ctx.surface.buttons and may_change:
        sections[0].lines.append("Each action listed carries buttons for these too.")
    for group, group_heading in GROUPS.items():
        rest = [c for c in allowed.values() if c.group == group and c.name not in shown_most]
        if rest:
            facts = [Fact(ctx.surface.typed(required_usage(c)), c.brief) for c in rest]
            sections.append(Section(group_heading, facts=facts))
    lines = [more_line]
    hidden = [c for c in commands if c.name not in allowed]
    if hidden:
        lines.append(_who_can_do_more(hidden))
    sections.append(Section("More", lines=lines))
    return Reply(title=TITLE, text=BASICS, sections=sections)


def topic_help(surface: Surface, topic: str, commands: Sequence["Command"]) -> Reply:
    """Every command of one topic with its full usage and who may use it."""
    topics = sorted({c.words[0] for c in commands})
    if topic not in topics:
        return error_reply(f"There is no help topic “{topic}”.", "Topics: " + ", ".join(topics))
    facts = [
        Fact(surface.typed(c.usage), f"{c.summary} ({c.who.label})")
        for c in commands
        if c.words[0] == topic
    ]
    return Reply(title=TITLE, text=BASICS, sections=[Section(f"`{topic}` commands", facts=facts)])


def required_usage(command: "Command") -> str:
    """The usage up to its first optional part: `action update <ref>`, `meeting reminders`."""
    return command.usage.split(" [", 1)[0]


def _tasks(allowed: dict[str, "Command"], has_partner: bool, may_change: bool) -> list[Task]:
    first = OWN_ACTIONS if has_partner else ALL_ACTIONS
    tasks = [first] if first.command in allowed else []
    for task in TASKS:
        if task.command in allowed and (may_change or not task.changes):
            tasks.append(task)
    if not may_change and ONE_ACTION.command in allowed:
        tasks.insert(1, ONE_ACTION)
    return tasks


def _example_ref(
    session: Session, member: Member, own_ids: frozenset[int], may_change: bool
) -> tuple[str, bool]:
    """An action to use in the examples, and whether it is one of the asker's partner's own.

    Their partner's first open action (one led by "All partners" if none); for others, the first
    open action they may see.
    """
    visibility = visibility_for(session, member)
    searches: list[tuple[frozenset[int] | None, bool]] = []
    if member.partner_id is not None and own_ids:
        searches += [(frozenset({member.partner_id}), True), (own_ids, True)]
    if is_admin(member) or not searches:
        searches.append((None, False))
    for partner_ids, own in searches:
        where = ActionFilter(partner_ids=partner_ids, open_only=may_change)
        found, _ = list_actions(
            session=session, board_id=member.board_id, visibility=visibility, where=where, limit=1
        )
        if found:
            return found[0].ref, own
    return PLACEHOLDER_REF, False


def _who_can_do_more(hidden: Sequence["Command"]) -> str:
    roles = frozenset().union(*(c.who.roles for c in hidden))
    names = [name for group, name in MORE_ROLE_NAMES if group & roles]
    if not names:
        return "Ask the secretariat if something you need is not here."
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed[0].upper()}{listed[1:]} can do more; ask the secretariat if you need it."
