"""Running one command as one transaction, with the caller resolved to a Board member."""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from handlers.commands import dispatch, is_read_only
from handlers.context import CONSOLE, Context, Surface
from handlers.replies import Reply, error_reply
from models.boards import get_board
from models.db import reader
from models.people import get_member
from models.tables import Member, Role

log = logging.getLogger(__name__)

TRY_AGAIN = "The register is busy or unavailable right now; nothing was changed."
OPERATOR_NAME = "operator (CLI)"
T = TypeVar("T")


def operator_member(board_id: int) -> Member:
    """The person at the command line: a secretariat member that exists only for this command."""
    return Member(
        board_id=board_id,
        slack_user_id="OPERATOR",
        display_name=OPERATOR_NAME,
        role=Role.SECRETARIAT.value,
    )


def run_command(
    *,
    engine: Engine,
    board_slug: str,
    user_id: str,
    text: str,
    now: datetime,
    tz: ZoneInfo,
    surface: Surface = CONSOLE,
    operator: bool = False,
) -> Reply:
    """Dispatch `/soc` text for a user (or the CLI operator) in one transaction: all or nothing."""
    return run_use_case(
        engine=engine,
        board_slug=board_slug,
        user_id=user_id,
        now=now,
        tz=tz,
        surface=surface,
        operator=operator,
        read_only=is_read_only(text),
        use_case=lambda session, ctx: dispatch(session=session, ctx=ctx, text=text),
    )


def run_use_case(
    *,
    engine: Engine,
    board_slug: str,
    user_id: str,
    now: datetime,
    tz: ZoneInfo,
    use_case: Callable[[Session, Context], T],
    read_only: bool = False,
    surface: Surface = CONSOLE,
    operator: bool = False,
) -> T | Reply:
    """Run one use case for a user in one transaction, rolled back if its result has `error` set.

    Buttons and forms come through here: the same handlers, checks and failure replies as typed
    commands.
    """
    try:
        bind = reader(engine) if read_only else engine
        with Session(bind, expire_on_commit=False) as session:
            board = get_board(session=session, slug=board_slug)
            if board is None:
                return error_reply(
                    "This Board has not been set up yet.",
                    "Run `soc-bot db upgrade` and `soc-bot import`.",
                )
            member = (
                operator_member(board.id)
                if operator
                else get_member(session=session, board_id=board.id, slack_user_id=user_id)
            )
            ctx = Context(
                board=board, user_id=user_id, member=member, now=now, tz=tz, surface=surface
            )
            result = use_case(session, ctx)
            if getattr(result, "error", False):
                session.rollback()
            else:
                session.commit()
            return result
    except StaleDataError:
        return error_reply(
            "Someone else changed that action a moment ago, so your change was not saved.",
            "Look at its current state with `action status <ref>` and try again.",
        )
    except IntegrityError:
        log.warning("integrity error running a command", exc_info=True)
        return error_reply(
            "That clashes with a change someone made at the same moment; nothing was saved.",
            "Try again.",
        )
    except OperationalError:
        log.error("database unavailable running a command", exc_info=True)
        return error_reply(
            TRY_AGAIN, "Try again in a minute; if it persists, tell the secretariat."
        )
    except DBAPIError:
        # Data the database refused after the handlers' checks: a bug to fix, not an outage.
        log.error("database refused a command's data", exc_info=True)
        return error_reply(
            "That could not be saved: the database refused one of the values. Nothing changed.",
            "Check the text for unusual characters, and tell the secretariat if it happens again.",
        )
