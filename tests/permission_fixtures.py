"""The authorization matrix: a Board copy per test, who may change what, snapshots."""

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.cli.console import Console
from handlers.replies import Reply
from models.boards import get_board
from models.db import make_engine
from models.meetings import add_meeting
from models.tables import (
    Action,
    ActionChange,
    Board,
    BoardChange,
    CrimeArea,
    Meeting,
    MeetingSchedule,
    Member,
    Partner,
    PriorityAnswer,
    PriorityDecision,
    PriorityExercise,
)
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    DEPUTY,
    NOW,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def board(request, tmp_path: Path, tmp_path_factory):
    """A private copy of the test Board (built once by conftest's `board_engine`, then copied)."""
    if "path" not in _TEMPLATE:
        engine = request.getfixturevalue("board_engine")
        source = engine.url.database
        engine.dispose()
        template = tmp_path_factory.mktemp("template") / "board.db"
        with sqlite3.connect(source) as src, sqlite3.connect(template) as dst:
            src.backup(dst)
        _TEMPLATE["path"] = template
    copy = tmp_path / "board.db"
    with sqlite3.connect(_TEMPLATE["path"]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    engine = make_engine(f"sqlite:///{copy}")
    with Session(engine) as session:  # a coming meeting, for `meeting move` and `meeting cancel`
        board_id = get_board(session=session, slug="soc").id
        add_meeting(session=session, board_id=board_id, starts_at=NOW + timedelta(days=20))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def ask(board, settings):
    """`ask(user_id, text) -> Reply` on the Board copy at NOW."""

    def run(user_id: str, text: str) -> Reply:
        return Console(board, settings, user_id, clock=lambda: NOW).ask(text)

    return run


def snapshot(engine) -> tuple:
    """Everything a command could change, in comparable form."""
    with Session(engine) as session:

        def count(table) -> int:
            return session.exec(select(func.count()).select_from(table)).one()

        actions = session.exec(
            select(Action.number, Action.rag, Action.version, Action.updated_at).order_by(
                Action.number
            )
        ).all()
        meetings = session.exec(
            select(Meeting.starts_at, Meeting.cancelled).order_by(Meeting.id)
        ).all()
        schedules = session.exec(select(MeetingSchedule.rule)).all()
        settings = session.exec(
            select(
                Board.name,
                Board.timezone,
                Board.holiday_region,
                Board.reminder_days,
                Board.reminder_time,
                Board.summary_channels,
            )
        ).all()
        exercises = session.exec(
            select(PriorityExercise.closes_on, PriorityExercise.closes_at).order_by(
                PriorityExercise.id
            )
        ).all()
        return (
            tuple(tuple(e) for e in exercises),
            count(ActionChange),
            count(BoardChange),
            count(Member),
            count(Partner),
            count(CrimeArea),
            count(PriorityExercise),
            count(PriorityAnswer),
            count(PriorityDecision),
            tuple(tuple(a) for a in actions),
            tuple(tuple(m) for m in meetings),
            tuple(tuple(r) for r in schedules),
            tuple(tuple(str(v) for v in r) for r in settings),
        )


@dataclass(frozen=True)
class Case:
    """A person and the action they try to change; may they change it?"""

    name: str
    user_id: str
    ref: str
    may_change: bool
    is_admin: bool = False
    is_member: bool = True


CASES = [
    Case("chair", CHAIR, "A-1", True, is_admin=True),
    Case("deputy", DEPUTY, "A-1", True, is_admin=True),
    Case("secretariat", SECRETARIAT, "A-1", True, is_admin=True),
    Case("colp-member-own-action", COLP, "A-1", True),
    Case("cst-member-colp-action", CST, "A-1", False),
    Case("cst-member-home-visits", CST, "A-7", True),  # CST is one of A-7's four leads
    Case("trading-standards-all-partners", TRADING, "A-2", True),  # "All partners" is collective
    Case("trading-standards-colp-action", TRADING, "A-1", False),
    Case("co-optee", COOPTEE, "A-1", False),
    Case("observer", OBSERVER, "A-1", False),
    Case("observer-all-partners", OBSERVER, "A-2", False),
    Case("non-member", STRANGER, "A-1", False, is_member=False),
]
