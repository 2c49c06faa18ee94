"""`/soc board history [n]`: the Board's recent Board-level changes, newest first."""

from sqlmodel import Session

from handlers.context import Context
from handlers.errors import CommandError
from handlers.permissions import require_admin
from handlers.replies import Fact, Reply, Section
from handlers.text.parsing import Args
from models.board_history import recent_board_changes

DEFAULT_COUNT = 20
MAX_COUNT = 200


def history(session: Session, ctx: Context, args: Args) -> Reply:
    """`board history [n]`: who changed the Board's settings, priorities exercise or roles."""
    require_admin(ctx, "see the Board's history")
    count = _count(args, ctx)
    changes = recent_board_changes(session=session, board_id=ctx.board.id, limit=count)
    if not changes:
        return Reply(
            title="Board history",
            text="No Board-level change is recorded yet: settings, the priorities exercise's "
            "closing day and members' roles are recorded here when they change.",
        )
    facts = [Fact(c.by_name or "(unknown)", f"{c.what}: {c.details}", at=c.at) for c in changes]
    plural = "s" if len(changes) != 1 else ""
    return Reply(
        title="Board history",
        text=f"{len(changes)} most recent Board-level change{plural}, newest first.",
        sections=[Section("Changes", facts=facts)],
    )


def _count(args: Args, ctx: Context) -> int:
    """How many entries to show: the number typed (1 to MAX_COUNT), or DEFAULT_COUNT."""
    if args.options or len(args.words) > 1:
        raise CommandError(
            "`board history` takes at most a number.",
            f"Example: `{ctx.surface.typed('board history 10')}`.",
        )
    if not args.words:
        return DEFAULT_COUNT
    typed = args.words[0]
    if not typed.isdecimal() or not 1 <= int(typed) <= MAX_COUNT:
        raise CommandError(
            f"“{typed}” is not a number of changes from 1 to {MAX_COUNT}.",
            f"Example: `{ctx.surface.typed('board history 10')}`.",
        )
    return int(typed)
