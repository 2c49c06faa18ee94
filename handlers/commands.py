"""The `/soc` command table, the dispatcher and the help text built from the table."""

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings import commands as meetings
from handlers.priorities import commands as priorities
from handlers.register import actions, admin, summary
from handlers.replies import Fact, Reply, Section, error_reply
from handlers.reports import commands as report_commands
from handlers.text.parsing import Args, split_args, tokenize


@dataclass(frozen=True)
class Command:
    """One `/soc` command: its words, usage, who may use it and the handler that runs it."""

    words: tuple[str, ...]
    usage: str
    summary: str
    who: str
    run: Callable[..., Reply]
    options: frozenset[str] = frozenset()
    raw: bool = False  # the handler takes the rest of the text exactly as typed

    @property
    def name(self) -> str:
        """The command's words, e.g. `action status`."""
        return " ".join(self.words)


EVERYONE, PARTNERS, ADMINS = (
    "members",
    "lead partners, chair, secretariat",
    "chair, deputy, secretariat",
)


def _help(session: Session, ctx: Context, args: Args) -> Reply:
    return help_reply(args.text())


COMMANDS: tuple[Command, ...] = (
    Command(
        ("help",),
        "help [topic]",
        "What you can type; `help action` for one topic.",
        "anyone",
        _help,
    ),
    Command(
        ("action", "status"),
        "action status [all | <ref> | area <name> | partner <name> | overdue] [page N]",
        "Your partner's actions, all of them, one in full, an area's, a partner's, or the "
        "overdue ones.",
        EVERYONE,
        actions.status,
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
    ),
    Command(
        ("action", "update"),
        'action update <ref> [rag=<colour>] [due=<date>] [note="..."] [title=...] [action=...] '
        "[barriers=...] [outcomes=...] [strand=...] [lead=...] [area=...] [confidential=...]",
        "Change an action; every change is kept in its history.",
        PARTNERS,
        actions.update,
        frozenset(actions.UPDATE_OPTIONS),
    ),
    Command(
        ("action", "edit"),
        "action edit <ref>",
        "Change an action in a form (in Slack); elsewhere, shows it and the update command.",
        PARTNERS,
        actions.edit,
    ),
    Command(
        ("action", "done"),
        'action done <ref> note="<outcome>"',
        "Mark an action complete (Blue), saying what it achieved.",
        PARTNERS,
        actions.done,
        frozenset({"note", actions.ALLOW_OPTION}),
    ),
    Command(
        ("action", "note"),
        "action note <ref> <text>",
        "Add a progress note (counts as an update).",
        PARTNERS,
        actions.note,
        raw=True,
    ),
    Command(
        ("action", "history"),
        "action history <ref>",
        "Every change to an action: who, when, old → new.",
        EVERYONE,
        actions.history,
    ),
    Command(
        ("rag",),
        "rag [private]",
        "RAG summary by key crime area and 4P strand, changes since the last meeting and "
        "exceptions; the chair, deputy and secretariat post it in the channel.",
        EVERYONE,
        summary.rag_summary,
    ),
    Command(
        ("rag", "chart"),
        "rag chart",
        "The RAG summary in the channel with a chart: a bar per key crime area and the counts "
        "at the last six meetings.",
        ADMINS,
        report_commands.rag_chart,
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
    ),
    Command(
        ("area", "list"),
        "area list",
        "The key crime areas, priorities first.",
        EVERYONE,
        admin.area_list,
    ),
    Command(
        ("area", "add"),
        'area add "<name>"',
        "Add a key crime area of the Board's own.",
        ADMINS,
        admin.area_add,
    ),
    Command(
        ("member", "add"),
        'member add <@user> name="..." role=<role> [partner=<partner>] [deputy=<@user>] '
        "[away=yes|no]",
        "Add a member or change their role, partner, deputy or away status.",
        ADMINS,
        admin.member_add,
        frozenset(admin.MEMBER_OPTIONS),
    ),
    Command(("member", "list"), "member list", "Who is on the Board.", EVERYONE, admin.member_list),
    Command(
        ("partner", "add"),
        'partner add "<name>" [aliases="A, B"] [collective=yes]',
        "Add a partner organisation.",
        ADMINS,
        admin.partner_add,
        frozenset(admin.PARTNER_OPTIONS),
    ),
    Command(
        ("partner", "list"),
        "partner list",
        "Partner organisations and their aliases.",
        EVERYONE,
        admin.partner_list,
    ),
    Command(
        ("meeting", "next"),
        "meeting next",
        "The next Board meeting and when its reminders go out.",
        EVERYONE,
        meetings.next_,
    ),
    Command(
        ("meeting", "list"),
        "meeting list",
        "The coming meetings, with their reminder times.",
        EVERYONE,
        meetings.list_,
    ),
    Command(
        ("meeting", "schedule"),
        'meeting schedule "<second tuesday 10:00 | RRULE>"',
        "Set when the Board meets, in words or as an RRULE; makes the next 12 months' meetings.",
        ADMINS,
        meetings.schedule,
        raw=True,
    ),
    Command(
        ("meeting", "move"),
        "meeting move <date> to <date time>",
        "Move one meeting (its reminders follow it).",
        ADMINS,
        meetings.move,
    ),
    Command(
        ("meeting", "cancel"),
        "meeting cancel <date>",
        "Cancel one meeting; no reminders go out for it.",
        ADMINS,
        meetings.cancel,
    ),
    Command(
        ("meeting", "add"),
        "meeting add <date time>",
        "Add a meeting outside the rule.",
        ADMINS,
        meetings.add,
    ),
    Command(
        ("meeting", "reminders"),
        "meeting reminders [5,1] [at 09:00] [holidays=GB-ENG]",
        "Show or set when lead partners are reminded: working days before each meeting, and "
        "the time.",
        "members see; chair, deputy, secretariat set",
        meetings.reminders,
        meetings.REMINDER_OPTIONS,
    ),
    Command(
        ("priorities",),
        "priorities",
        "The Board's priorities, and the priorities exercise: when it closes and your "
        "partner's answer.",
        EVERYONE,
        priorities.status,
    ),
    Command(
        ("priorities", "open"),
        "priorities open [closes=<date>]",
        "Ask every partner which key crime areas matter to its service (by direct message; "
        "default: closes in 10 working days).",
        ADMINS,
        priorities.open_,
        priorities.OPEN_OPTIONS,
    ),
    Command(
        ("priorities", "answer"),
        'priorities answer <area>=lead|contribute|not-relevant ... [note="..."] '
        "[partner=<partner>]",
        "Your partner's answer; areas you leave out keep their earlier answer (`area=\"Cyber "
        'attack" lead` works too).',
        "partner members; chair, deputy, secretariat for any partner",
        priorities.answer,
        raw=True,
    ),
    Command(
        ("priorities", "results"),
        "priorities results [private]",
        "The tally per key crime area, who has not answered, and partners' notes; the chair, "
        "deputy and secretariat post it in the channel with a chart.",
        EVERYONE,
        priorities.results,
    ),
    Command(
        ("priorities", "set"),
        "priorities set <area>, <area>, <area>",
        "Record the Board's chosen priorities (three or four); summaries put them first.",
        "chair, secretariat",
        priorities.set_,
        raw=True,
    ),
)

TOPICS = sorted({c.words[0] for c in COMMANDS})

# Commands that only read: they may run in a shared (deferred) SQLite transaction, so they
# don't queue behind writers. Anything not listed takes the write lock up front.
READ_ONLY_COMMANDS = frozenset({
    "help", "action status", "action history", "action edit", "rag", "area list", "member list",
    "partner list", "meeting next", "meeting list", "rag chart", "report quarter",
    "priorities", "priorities results",
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
            return help_reply("")
        command, used = _match(words)
        if command.raw:
            return command.run(session, ctx, _remainder(text, used))
        args = split_args(words[used:], set(command.options))
        return command.run(session, ctx, args)
    except CommandError as err:
        return error_reply(err.message, err.hint)


def _match(words: list[str]) -> tuple[Command, int]:
    """The command the words name, and how many of the words name it."""
    lowered = [w.casefold() for w in words]
    for command in sorted(COMMANDS, key=lambda c: -len(c.words)):
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
        raise CommandError(f"`{lowered[0]}` needs one of: {subs}.", f"See `help {lowered[0]}`.")
    hint = f"Did you mean `{close[0]}`? " if close else ""
    raise CommandError(
        f"I don't know the command “{' '.join(words[:2])}”.", hint + "Type `help` for the list."
    )


def _remainder(text: str, skip_words: int) -> str:
    match = re.match(r"\s*" + r"\S+\s*" * skip_words, text)
    return text[match.end() :] if match else ""


def help_reply(topic: str) -> Reply:
    """The command list, or one topic's commands with full usage."""
    topic = topic.strip().casefold()
    if topic and topic not in TOPICS:
        return error_reply(f"There is no help topic “{topic}”.", "Topics: " + ", ".join(TOPICS))
    shown = [c for c in COMMANDS if not topic or c.words[0] == topic]
    section = Section(
        "Commands" if not topic else f"`{topic}` commands",
        facts=[Fact(f"/soc {c.usage}", f"{c.summary} ({c.who})") for c in shown],
    )
    return Reply(
        title="soc-bot: the Board's action register",
        text="References look like A-12 (typing 12 works). Dates are UK style: 31/01/2027, "
        "31 Jan, next friday. RAG: red, amber (orange), green, blue (complete).",
        sections=[section],
    )
