"""The `history` fixture: the report tests' Board (a pytest plugin; see tests.report_scenario)."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from models.boards import get_board
from models.meetings import add_meeting
from tests.conftest import COLP, CST, SECRETARIAT
from tests.report_scenario import MARKER, MEETINGS, SECRET_TITLE, run_at

# (month, day) in 2027, who, and what they type.
Q2_CHANGES = (
    ((4, 10), COLP, 'action update A-1 rag=red barriers="Analyst post vacant" '
                    'note="Rob Ellis met Jane Anson: no analyst until June"'),
    ((4, 11), SECRETARIAT, "action update A-11 due=15/05/2027"),
    ((5, 1), COLP, 'action done A-9 note="Assets frozen by the court"'),
    ((5, 2), SECRETARIAT, f'action add area=cyber lead=CoLP title="{SECRET_TITLE}" '
                          f'action="Watch the {MARKER} accounts" barriers="{MARKER} informant" '
                          f'outcomes="{MARKER} disrupted" rag=red due=01/06/2027 '
                          "strand=pursue confidential=yes"),
    ((5, 3), COLP, f"action note A-12 {MARKER} sighting reported by Rob Ellis"),
    ((5, 20), COLP, 'action done A-11 note="Bag campaign launched"'),
    ((6, 1), CST, "action note A-7 Visits booked with the fire brigade"),
)  # fmt: skip


@pytest.fixture
def history(board_engine, settings):
    """The test Board with its 2027 meetings and the Q2 changes (see tests.report_scenario)."""
    with Session(board_engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        for starts_at in MEETINGS:
            add_meeting(session=session, board_id=board.id, starts_at=starts_at)
        session.commit()
    for (month, day), user, text in Q2_CHANGES:
        run_at(board_engine, settings, datetime(2027, month, day, 9, tzinfo=UTC), user, text)
    return board_engine
