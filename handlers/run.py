"""Running one command as one transaction, with the caller resolved to a Board member."""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import is_dataclass, replace
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
from models.board_seal import seal_to_board
from models.boards import get_board
from models.db import reader
from models.people import find_member_by_identity
from models.tables import Member, Role

log = logging.getLogger(__name__)

TRY_AGAIN = "The register is busy or unavailable right now; nothing was changed."
OPERATOR_NAME = "operator (CLI)"
# A typed command that loses a race is run again, up to this many times in all, waiting a random
# time before each retry: up to CONFLICT_BACKOFF seconds before the first, doubling after that.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF = 0.05
# PostgreSQL's serialization_failure and deadlock_detected: the transaction lost a race.
RACE_STATES = frozenset({"40001", "40P01"})
T = TypeVar("T")


def operator_member(board_id: int) -> Member:
    """The person at the command line: a secretariat member that exists only for this command."""
    return Member(
        board_id=board_id,
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
    surface: Surface = CONSOLE,
    operator: bool = False,
) -> Reply:
    """Dispatch `/soc` text for a user (or the CLI operator) in one transaction: all or nothing.

    Typed text carries no version of what the person saw, so a lost race is retried.
    """
    return run_use_case(
        engine=engine,
        board_slug=board_slug,
        user_id=user_id,
        now=now,
        surface=surface,
        operator=operator,
        read_only=is_read_only(text),
        use_case=lambda session, ctx: dispatch(session=session, ctx=ctx, text=text),
        retry_conflicts=True,
    )


def run_use_case(
    *,
    engine: Engine,
    board_slug: str,
    user_id: str,
    now: datetime,
    use_case: Callable[[Session, Context], T],
    read_only: bool = False,
    surface: Surface = CONSOLE,
    operator: bool = False,
    retry_conflicts: bool = False,
) -> T | Reply:
    """Run one use case for a user in one transaction, rolled back if its result has `error` set.

    Buttons and forms come through here: the same handlers, checks and failure replies as typed
    commands. With `retry_conflicts` (typed commands: they say nothing about which version of
    an action the person saw), a transaction that lost a race with another writer is run again
    from the start, a few times, so the change applies to whatever the other writer left.
    Controls and forms carry the version they were drawn at and are refused as stale instead.
    """
    attempts = CONFLICT_ATTEMPTS if retry_conflicts else 1
    attempt = 1
    while True:
        try:
            return _transaction(
                engine=engine,
                board_slug=board_slug,
                user_id=user_id,
                now=now,
                use_case=use_case,
                read_only=read_only,
                surface=surface,
                operator=operator,
            )
        except (StaleDataError, DBAPIError) as err:
            if attempt >= attempts or not lost_race(err):
                return failure_reply(err)
            log.info("a command lost a race with another writer (attempt %d of %d): %s",
                     attempt, attempts, type(err).__name__)  # fmt: skip
        # Random, growing waits, so writers that collided do not collide again in step.
        time.sleep(random.uniform(0, CONFLICT_BACKOFF * 2 ** (attempt - 1)))
        attempt += 1


def lost_race(err: Exception) -> bool:
    """Whether a failure means another transaction got there first (worth running again)."""
    if isinstance(err, StaleDataError):
        return True
    return getattr(getattr(err, "orig", None), "sqlstate", None) in RACE_STATES


def _transaction(
    *,
    engine: Engine,
    board_slug: str,
    user_id: str,
    now: datetime,
    use_case: Callable[[Session, Context], T],
    read_only: bool,
    surface: Surface,
    operator: bool,
) -> T | Reply:
    bind = reader(engine) if read_only else engine
    with Session(bind, expire_on_commit=False) as session:
        board = get_board(session=session, slug=board_slug)
        if board is None:
            return error_reply(
                "This Board has not been set up yet.",
                "Run `soc-bot db upgrade` and `soc-bot import`.",
            )
        # From here on, even a query that forgot its Board filter sees only this Board.
        seal_to_board(session, board.id)
        member = (
            operator_member(board.id)
            if operator
            else find_member_by_identity(
                session=session,
                board_id=board.id,
                channel=surface.identity_channel,
                external_id=user_id,
            )
        )
        ctx = Context(board=board, user_id=user_id, member=member, now=now, surface=surface)
        result = in_board_zone(use_case(session, ctx), ctx.tz)
        if getattr(result, "error", False):
            session.rollback()
        else:
            session.commit()
        return result


def in_board_zone(result: T, tz: ZoneInfo) -> T:
    """A reply, or a result carrying one (a form's outcome), shown in the Board's zone.

    The zone as it is after the command; a copy, as replies may be shared through the cache.
    """
    if isinstance(result, Reply):
        return replace(result, tz=tz) if result.tz is None else result
    reply = getattr(result, "reply", None)
    if is_dataclass(result) and isinstance(reply, Reply) and reply.tz is None:
        return replace(result, reply=replace(reply, tz=tz))
    return result


def failure_reply(err: Exception) -> Reply:
    """What the person is told when the database refused or lost their change."""
    if isinstance(err, StaleDataError):
        ref = getattr(err, "ref", None)
        look = f"`action status {ref}`" if ref else "`action status` and its reference"
        return error_reply(
            f"Someone else changed {ref or 'that action'} a moment ago, so your change was not "
            "saved.",
            f"Look at its current state with {look} and try again.",
        )
    if isinstance(err, IntegrityError):
        log.warning("integrity error running a command", exc_info=err)
        return error_reply(
            "That clashes with a change someone made at the same moment; nothing was saved.",
            "Try again.",
        )
    if isinstance(err, OperationalError):
        log.error("database unavailable running a command", exc_info=err)
        return error_reply(
            TRY_AGAIN, "Try again in a minute; if it persists, tell the secretariat."
        )
    # Data the database refused after the handlers' checks: a bug to fix, not an outage.
    log.error("database refused a command's data", exc_info=err)
    return error_reply(
        "That could not be saved: the database refused one of the values. Nothing changed.",
        "Check the text for unusual characters, and tell the secretariat if it happens again.",
    )
