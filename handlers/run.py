"""Running one command as one transaction, with the caller resolved to a Board member."""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from handlers.commands import dispatch
from handlers.context import Context
from handlers.replies import Reply, error_reply
from models.boards import get_board
from models.people import get_member

log = logging.getLogger(__name__)

TRY_AGAIN = "The register is busy or unavailable right now; nothing was changed."


def run_command(
    *,
    engine: Engine,
    board_slug: str,
    user_id: str,
    text: str,
    now: datetime,
    tz: ZoneInfo,
    surface: str = "console",
) -> Reply:
    """Dispatch `/soc` text for a user in one transaction: all of it is saved, or none."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            board = get_board(session=session, slug=board_slug)
            if board is None:
                return error_reply(
                    "This Board has not been set up yet.",
                    "Run `soc-bot db upgrade` and `soc-bot import`.",
                )
            member = get_member(session=session, board_id=board.id, slack_user_id=user_id)
            ctx = Context(
                board=board, user_id=user_id, member=member, now=now, tz=tz, surface=surface
            )
            reply = dispatch(session=session, ctx=ctx, text=text)
            if reply.error:
                session.rollback()
            else:
                session.commit()
            return reply
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
    except (OperationalError, DBAPIError):
        log.error("database unavailable running a command", exc_info=True)
        return error_reply(
            TRY_AGAIN, "Try again in a minute; if it persists, tell the secretariat."
        )
