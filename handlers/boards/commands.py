"""`/soc board` (the Board's settings, for everyone on it) and `/soc board settings ...`."""

from sqlmodel import Session

from handlers.boards.settings import (
    SETTING_LABELS,
    change_settings,
    parse_board_name,
    parse_channel_refs,
    parse_zone,
)
from handlers.context import Context
from handlers.errors import CommandError
from handlers.meetings.commands import meeting_rule, reminder_config, top_up_meetings
from handlers.meetings.rules import parse_reminder_days, parse_time
from handlers.permissions import require_member, require_secretariat
from handlers.replies import Fact, Reply, Section
from handlers.text.parsing import Args
from handlers.text.workdays import parse_region
from models.schedule import get_schedule

SETTINGS_OPTIONS = frozenset({"name", "timezone", "holidays", "reminders", "at", "summary"})
EXAMPLE = 'board settings name="Kent SOC Board" timezone=Europe/London holidays=GB-ENG'


def show(session: Session, ctx: Context, args: Args) -> Reply:
    """`board`: the Board's name, time zone, holidays, reminder times, summary channels, rule."""
    require_member(ctx)
    if args.words or args.options:
        raise CommandError(
            "`board` takes nothing after it.",
            f"To change a setting: `{ctx.surface.typed(EXAMPLE)}`.",
        )
    return _settings_reply(session, ctx, ctx.board.name)


def settings(session: Session, ctx: Context, args: Args) -> Reply:
    """`board settings name=... timezone=... holidays=... reminders=5,1 at=09:00 summary=...`."""
    require_secretariat(ctx, "change the Board's settings")
    if args.words or not args.options:
        raise CommandError(
            "Say which settings change, as name=value.",
            f"Example: `{ctx.surface.typed(EXAMPLE + ' reminders=5,1 at=09:00')}`; "
            "options: " + ", ".join(f"{o}=" for o in sorted(SETTINGS_OPTIONS)) + ".",
        )
    changes = _parse(args.options, ctx)
    changed = change_settings(session, ctx, changes)
    if "timezone" in changed:
        # The rule's coming meetings are at its local time in the Board's (new) zone.
        top_up_meetings(session, ctx.board, ctx.now, drop_missing=True)
    if not changed:
        reply = _settings_reply(session, ctx, "Nothing changed")
        reply.text = "Those are the settings already."
        return reply
    reply = _settings_reply(session, ctx, "Board settings changed")
    reply.text = "Changed: " + ", ".join(SETTING_LABELS[name] for name in changed) + "."
    return reply


def _parse(options: dict[str, str], ctx: Context) -> dict[str, object]:
    """Every typed setting checked before any is saved (one bad value changes nothing)."""
    changes: dict[str, object] = {}
    if "name" in options:
        changes["name"] = parse_board_name(options["name"])
    if "timezone" in options:
        changes["timezone"] = parse_zone(options["timezone"])
    if "holidays" in options:
        try:
            changes["holiday_region"] = parse_region(options["holidays"])
        except ValueError as err:
            raise CommandError(str(err), "holidays= takes a region such as GB-ENG.") from None
    if "reminders" in options:
        days = parse_reminder_days(options["reminders"])
        changes["reminder_days"] = ",".join(str(d) for d in days)
    if "at" in options:
        changes["reminder_time"] = f"{parse_time(options['at']):%H:%M}"
    if "summary" in options:
        changes["summary_channels"] = parse_channel_refs(
            options["summary"], ctx.surface.identity_channel
        )
    return changes


def _settings_reply(session: Session, ctx: Context, title: str) -> Reply:
    board = ctx.board
    config = reminder_config(board)
    rule = meeting_rule(get_schedule(session=session, board_id=board.id))
    days = " and ".join(str(d) for d in config.days)
    facts = [
        Fact("Name", board.name),
        Fact("Time zone", board.timezone),
        Fact("Bank holidays", config.region),
        Fact(
            "Reminders",
            f"{days} working day{'s' if config.days != [1] else ''} before each meeting, "
            f"at {config.at:%H:%M}",
        ),
        Fact("Summary channels", ", ".join(board.summary_channels) or "none set"),
        Fact("Meetings", f"{rule.describe()}" if rule else "no rule: meetings are added by hand"),
    ]
    reply = Reply(title=title, sections=[Section("Settings", facts=facts)])
    reply.hint = f"The secretariat changes them with `{ctx.surface.typed(EXAMPLE)}`."
    return reply
