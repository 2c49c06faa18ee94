"""The `/soc` command table, the dispatcher and the help text built from the table."""

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from handlers.boards import commands as board_commands
from handlers.boards import history as board_history
from handlers.context import CONSOLE, Context, Surface
from handlers.errors import CommandError
from handlers.help import short_help, topic_help
from handlers.meetings import commands as meetings
from handlers.permissions import ADMIN_ROLES, PARTNER_ROLES
from handlers.priorities import commands as priorities
from handlers.priorities import controls as priority_controls
from handlers.register import actions, admin, summary
from handlers.replies import Reply, error_reply
from handlers.reports import commands as report_commands
from handlers.text.parsing import Args, split_args, tokenize
from models.tables import Member, Role


@dataclass(frozen=True)
class Who:
    """Who may use a command: the README's words for it and the roles it admits.

    A role is admitted if it may use the command at all (a member may see the reminder times but
    not set them); the handlers refuse the rest, with the same rules from handlers/permissions.py.
    """

    label: str
    roles: frozenset[Role]
    members_only: bool = True

    def admits(self, member: Member | None) -> bool:
        """Whether this person may use the command (non-members only for `help`)."""
        if member is None:
            return not self.members_only
        return Role(member.role) in self.roles


ANYONE = Who("anyone", frozenset(Role), members_only=False)
EVERYONE = Who("members", frozenset(Role))
PARTNERS = Who("lead partners, chair, secretariat", frozenset(PARTNER_ROLES | ADMIN_ROLES))
ADMINS = Who("chair, deputy, secretariat", frozenset(ADMIN_ROLES))
SEE_OR_SET = Who("members see; chair, deputy, secretariat set", frozenset(Role))
ANSWERERS = Who(
    "partner members; chair, deputy, secretariat for any partner",
    frozenset(PARTNER_ROLES | ADMIN_ROLES),
)
CHOOSERS = Who("chair, secretariat", frozenset(priorities.CHOOSERS))
SECRETARIAT = Who("secretariat", frozenset({Role.SECRETARIAT}))


class UnknownCommand(CommandError):
    """Text that names no command: answered with the short help."""


@dataclass(frozen=True)
class Command:
    """One `/soc` command: its words, usage, who may use it and the handler that runs it."""

    words: tuple[str, ...]
    usage: str
    summary: str
    who: Who
    run: Callable[..., Reply]
    options: frozenset[str] = frozenset()
    raw: bool = False  # the handler takes the rest of the text exactly as typed
    group: str = ""  # where the short help lists it (handlers/help.py GROUPS); "" for `help`
    brief: str = ""  # its line in the short help

    @property
    def name(self) -> str:
        """The command's words, e.g. `action status`."""
        return " ".join(self.words)


def _help(session: Session, ctx: Context, args: Args) -> Reply:
    return help_reply(session, ctx, args.text())


COMMANDS: tuple[Command, ...] = (
    Command(
        ("help",),
        "help [topic]",
        "What you can do, the things you do most first; `help action` for one topic in full.",
        ANYONE,
        _help,
        group="",
        brief="What you can do, and each topic in full.",
    ),
    Command(
        ("action", "status"),
        "action status [all | <ref> | area <name> | partner <name> | overdue] [page N]",
        "Your partner's actions, all of them, one in full, an area's, a partner's, or the "
        "overdue ones.",
        EVERYONE,
        actions.status,
        group="register",
        brief="Your partner's actions, all of them, one, an area's or the overdue.",
    ),
    Command(
        ("action", "add"),
        'action add area=<area> lead=<partner>[,<partner>] title="..." [action="..."] '
        '[barriers="..."] [outcomes="..."] [due=<date>] [strand=pursue,prevent] [rag=<colour>] '
        "[confidential=yes]",
        "Add an action to the register.",
        ADMINS,
        actions.add,
        frozenset(actions.ADD_OPTIONS),
        group="register",
        brief="Add an action to the register.",
    ),
    Command(
        ("action", "update"),
        'action update <ref> [rag=<colour>] [due=<date>] [note="..."] [title=...] [action=...] '
        "[barriers=...] [outcomes=...] [strand=...] [lead=...] [area=...] [confidential=...]",
        "Change an action; every change is kept in its history.",
        PARTNERS,
        actions.update,
        frozenset(actions.UPDATE_OPTIONS),
        group="register",
        brief="Change an action's rating, due date or text.",
    ),
    Command(
        ("action", "edit"),
        "action edit <ref>",
        "Change an action in a form where the chat can show one; elsewhere, shows it and the "
        "update command.",
        PARTNERS,
        actions.edit,
        group="register",
        brief="Change an action in a form, or see how to type the change.",
    ),
    Command(
        ("action", "done"),
        'action done <ref> note="<outcome>"',
        "Mark an action complete (Blue), saying what it achieved.",
        PARTNERS,
        actions.done,
        frozenset({"note", actions.ALLOW_OPTION}),
        group="register",
        brief="Mark an action complete (Blue).",
    ),
    Command(
        ("action", "note"),
        "action note <ref> <text>",
        "Add a progress note (counts as an update).",
        PARTNERS,
        actions.note,
        raw=True,
        group="register",
        brief="Add a progress note.",
    ),
    Command(
        ("action", "history"),
        "action history <ref>",
        "Every change to an action: who, when, old → new.",
        EVERYONE,
        actions.history,
        group="register",
        brief="Every change to an action: who, when, old → new.",
    ),
    Command(
        ("rag",),
        "rag [private]",
        "RAG summary by key crime area and 4P strand, changes since the last meeting and "
        "exceptions; the chair, deputy and secretariat post it in the channel.",
        EVERYONE,
        summary.rag_summary,
        group="register",
        brief="The RAG summary by key crime area and 4P strand.",
    ),
    Command(
        ("rag", "post"),
        "rag post",
        "Post the channel's RAG summary (never a confidential action) to each of the Board's "
        "summary channels on this chat; you are told where it went.",
        ADMINS,
        summary.rag_post,
        group="register",
        brief="Post the RAG summary to the Board's summary channels.",
    ),
    Command(
        ("rag", "chart"),
        "rag chart",
        "The RAG summary in the channel with a chart: a bar per key crime area and the counts "
        "at the last six meetings.",
        ADMINS,
        report_commands.rag_chart,
        group="reports",
        brief="The RAG summary in the channel, with a chart.",
    ),
    Command(
        ("report", "quarter"),
        "report quarter [2027Q1] [public] [format=docx|xlsx|md]",
        "The quarterly activity report for the Safer City Partnership and the Police Committee, "
        "sent to you as a file by DM (default: the last complete quarter; `public` redacts "
        "confidential items and names).",
        ADMINS,
        report_commands.report_quarter,
        report_commands.REPORT_OPTIONS,
        group="reports",
        brief="The quarterly activity report, sent to you as a file.",
    ),
    Command(
        ("area", "list"),
        "area list",
        "The key crime areas, priorities first.",
        EVERYONE,
        admin.area_list,
        group="register",
        brief="The key crime areas, priorities first.",
    ),
    Command(
        ("area", "add"),
        'area add "<name>"',
        "Add a key crime area of the Board's own.",
        ADMINS,
        admin.area_add,
        group="administration",
        brief="Add a key crime area of the Board's own.",
    ),
    Command(
        ("member", "add"),
        'member add <@user> name="..." role=<role> [partner=<partner>] [deputy=<@user>] '
        "[away=yes|no]",
        "Add a member or change their role, partner, deputy or away status (a new member or a "
        "new role is recorded in `board history`).",
        ADMINS,
        admin.member_add,
        frozenset(admin.MEMBER_OPTIONS),
        group="administration",
        brief="Add a member or change their role, partner or deputy.",
    ),
    Command(
        ("member", "list"),
        "member list",
        "Who is on the Board.",
        EVERYONE,
        admin.member_list,
        group="administration",
        brief="Who is on the Board.",
    ),
    Command(
        ("partner", "add"),
        'partner add "<name>" [aliases="A, B"] [collective=yes]',
        "Add a partner organisation.",
        ADMINS,
        admin.partner_add,
        frozenset(admin.PARTNER_OPTIONS),
        group="administration",
        brief="Add a partner organisation.",
    ),
    Command(
        ("partner", "list"),
        "partner list",
        "Partner organisations and their aliases.",
        EVERYONE,
        admin.partner_list,
        group="administration",
        brief="Partner organisations and their aliases.",
    ),
    Command(
        ("meeting", "next"),
        "meeting next",
        "The next Board meeting and when its reminders go out.",
        EVERYONE,
        meetings.next_,
        group="meetings",
        brief="The next Board meeting and when its reminders go out.",
    ),
    Command(
        ("meeting", "list"),
        "meeting list",
        "The coming meetings, with their reminder times.",
        EVERYONE,
        meetings.list_,
        group="meetings",
        brief="The coming meetings, with their reminder times.",
    ),
    Command(
        ("meeting", "schedule"),
        'meeting schedule "<second tuesday 10:00 | RRULE>"',
        "Set when the Board meets, in words or as an RRULE; makes the next 12 months' meetings.",
        ADMINS,
        meetings.schedule,
        raw=True,
        group="meetings",
        brief="Set when the Board meets.",
    ),
    Command(
        ("meeting", "move"),
        "meeting move <date> to <date time>",
        "Move one meeting (its reminders follow it).",
        ADMINS,
        meetings.move,
        group="meetings",
        brief="Move one meeting (its reminders follow it).",
    ),
    Command(
        ("meeting", "cancel"),
        "meeting cancel <date>",
        "Cancel one meeting; no reminders go out for it.",
        ADMINS,
        meetings.cancel,
        group="meetings",
        brief="Cancel one meeting.",
    ),
    Command(
        ("meeting", "add"),
        "meeting add <date time>",
        "Add a meeting outside the rule.",
        ADMINS,
        meetings.add,
        group="meetings",
        brief="Add a meeting outside the rule.",
    ),
    Command(
        ("meeting", "reminders"),
        "meeting reminders [5,1] [at 09:00] [holidays=GB-ENG]",
        "Show or set when lead partners are reminded: working days before each meeting, and "
        "the time.",
        SEE_OR_SET,
        meetings.reminders,
        meetings.REMINDER_OPTIONS,
        group="meetings",
        brief="When lead partners are reminded before each meeting.",
    ),
    Command(
        ("board",),
        "board",
        "The Board's settings: its name, time zone, bank holidays, when reminders go out, the "
        "channels the chair's summary goes to, and the meeting rule.",
        EVERYONE,
        board_commands.show,
        group="administration",
        brief="The Board's name, time zone, holidays and reminder times.",
    ),
    Command(
        ("board", "settings"),
        'board settings [name="..."] [timezone=Europe/London] [holidays=GB-ENG] '
        "[reminders=5,1] [at=09:00] [summary=<channel>]",
        "Change the Board's settings; only the options given change. summary= takes one or "
        "more channels (commas between), or none.",
        SECRETARIAT,
        board_commands.settings,
        board_commands.SETTINGS_OPTIONS,
        group="administration",
        brief="Change the Board's name, time zone, holidays or reminder times.",
    ),
    Command(
        ("board", "history"),
        "board history [n]",
        "The Board's recent Board-level changes, newest first: settings, the priorities "
        "exercise closed or extended, members added or given another role; who, when, and "
        "old → new (default 20, up to 200).",
        ADMINS,
        board_history.history,
        group="administration",
        brief="Who changed the Board's settings, priorities exercise or roles.",
    ),
    Command(
        ("priorities",),
        "priorities",
        "The Board's priorities, and the priorities exercise: when it closes and your "
        "partner's answer.",
        EVERYONE,
        priorities.status,
        group="priorities",
        brief="The Board's priorities and the priorities exercise.",
    ),
    Command(
        ("priorities", "open"),
        "priorities open [closes=<date>]",
        "Ask every partner which key crime areas matter to its service (by direct message; "
        "default: closes in 10 working days).",
        ADMINS,
        priorities.open_,
        priorities.OPEN_OPTIONS,
        group="priorities",
        brief="Ask every partner which key crime areas matter to it.",
    ),
    Command(
        ("priorities", "answer"),
        'priorities answer <area>=lead|contribute|not-relevant ... [note="..."] '
        "[partner=<partner>]",
        "Your partner's answer; areas you leave out keep their earlier answer (`area=\"Cyber "
        'attack" lead` works too).',
        ANSWERERS,
        priorities.answer,
        raw=True,
        group="priorities",
        brief="Your partner's answer to the priorities exercise.",
    ),
    Command(
        ("priorities", "results"),
        "priorities results [private]",
        "The tally per key crime area, who has not answered, and partners' notes; the chair, "
        "deputy and secretariat post it in the channel with a chart.",
        EVERYONE,
        priorities.results,
        group="priorities",
        brief="The tally per key crime area and who has not answered.",
    ),
    Command(
        ("priorities", "set"),
        "priorities set <area>, <area>, <area>",
        "Record the Board's chosen priorities (three or four); summaries put them first.",
        CHOOSERS,
        priorities.set_,
        raw=True,
        group="priorities",
        brief="Record the Board's chosen priorities.",
    ),
    Command(
        ("priorities", "close"),
        "priorities close",
        "Close the open priorities exercise now: answers are refused from then on and the "
        "reminder still to come is not sent.",
        CHOOSERS,
        priority_controls.close,
        group="priorities",
        brief="Close the priorities exercise early.",
    ),
    Command(
        ("priorities", "extend"),
        "priorities extend closes=<date>",
        "Move the open priorities exercise's closing day later; its reminder moves with it.",
        CHOOSERS,
        priority_controls.extend,
        priority_controls.EXTEND_OPTIONS,
        group="priorities",
        brief="Extend the priorities exercise to a later closing day.",
    ),
)

TOPICS = sorted({c.words[0] for c in COMMANDS})
# Matched longest first, so `rag post` is not taken for `rag`.
_LONGEST_FIRST = sorted(COMMANDS, key=lambda c: -len(c.words))

# Commands that only read: they may run in a shared (deferred) SQLite transaction, so they
# don't queue behind writers. Anything not listed takes the write lock up front.
READ_ONLY_COMMANDS = frozenset({
    "help", "action status", "action history", "action edit", "rag", "rag post", "area list",
    "member list", "partner list", "meeting next", "meeting list", "rag chart", "report quarter",
    "priorities", "priorities results", "board", "board history",
})  # fmt: skip


def is_read_only(text: str) -> bool:
    """Whether this `/soc` text can only read the register (unparseable text writes nothing)."""
    try:
        words = tokenize(text)
        return not words or _match(words)[0].name in READ_ONLY_COMMANDS
    except CommandError:
        return True


def dispatch(*, session: Session, ctx: Context, text: str) -> Reply:
    """Run one line of `/soc` text; every mistake becomes an explanatory error reply."""
    try:
        words = tokenize(text)
        if not words:
            return short_help(session, ctx, COMMANDS)
        command, used = _match(words, ctx.surface)
        if command.raw:
            return command.run(session, ctx, _remainder(text, used))
        args = split_args(words[used:], set(command.options))
        return command.run(session, ctx, args)
    except UnknownCommand as err:
        reply = short_help(session, ctx, COMMANDS)
        reply.title, reply.text, reply.error = err.message, err.hint, True
        return reply
    except CommandError as err:
        return error_reply(err.message, err.hint)


def _match(words: list[str], surface: Surface = CONSOLE) -> tuple[Command, int]:
    """The command the words name, and how many of the words name it."""
    lowered = [w.casefold() for w in words]
    for command in _LONGEST_FIRST:
        if tuple(lowered[: len(command.words)]) == command.words:
            return command, len(command.words)
    # `action A-3` and `action 3` are common shorthands for `action status A-3`.
    if lowered[0] == "action" and len(lowered) == 2 and re.match(r"^(a-?|#)?\d+$", lowered[1]):
        return next(c for c in COMMANDS if c.words == ("action", "status")), 1
    typed = " ".join(lowered[:2])
    names = [c.name for c in COMMANDS]
    close = difflib.get_close_matches(typed, names, n=1, cutoff=0.6)
    if lowered[0] in TOPICS:
        subs = ", ".join(c.words[1] for c in COMMANDS if c.words[0] == lowered[0])
        raise CommandError(
            f"`{lowered[0]}` needs one of: {subs}.",
            f"See `{surface.typed('help ' + lowered[0])}`.",
        )
    hint = f"Did you mean `{surface.typed(close[0])}`? " if close else ""
    raise UnknownCommand(
        f"I don't know the command “{' '.join(words[:2])}”.", hint + "Here is what you can do."
    )


def _remainder(text: str, skip_words: int) -> str:
    match = re.match(r"\s*" + r"\S+\s*" * skip_words, text)
    return text[match.end() :] if match else ""


def help_reply(session: Session, ctx: Context, topic: str) -> Reply:
    """What this person may do, most used first; or one topic's commands in full."""
    topic = topic.strip().casefold()
    if topic:
        return topic_help(ctx.surface, topic, COMMANDS)
    return short_help(session, ctx, COMMANDS)
