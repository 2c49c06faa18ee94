"""Summaries and counts are reused while the register is unchanged, never across databases."""

from sqlmodel import Session

from handlers.cache import register_key
from models.actions import register_version
from tests.conftest import CHAIR, COLP, SECRETARIAT


def version(engine) -> int:
    with Session(engine) as session:
        return register_version(session=session, board_id=1)


def test_summary_follows_an_update_made_after_it_was_cached(console):
    assert "9 Amber" in console.as_user(CHAIR).ask("rag").text
    assert "9 Amber" in console.ask("rag").text  # served again, unchanged
    assert not console.as_user(COLP).ask('action update A-1 rag=green note="shared"').error
    text = console.as_user(CHAIR).ask("rag").text
    assert "8 Amber" in text and "1 Green" in text


def test_listing_count_follows_a_new_action(console):
    assert console.as_user(CHAIR).ask("action status all").text.startswith("11 actions")
    added = console.as_user(SECRETARIAT).ask('action add area=drugs lead=CoLP title="County lines"')
    assert not added.error, added.title
    assert console.as_user(CHAIR).ask("action status all").text.startswith("12 actions")


def test_register_version_moves_with_register_changes_only(console):
    start = version(console.engine)
    console.as_user(COLP).ask("action note A-1 progress")
    after_note = version(console.engine)
    assert after_note > start
    console.as_user(SECRETARIAT).ask('area add "Drugs supply"')
    after_area = version(console.engine)
    assert after_area > after_note
    console.as_user(SECRETARIAT).ask('member add UNEW name="New Person" role=member')
    assert version(console.engine) == after_area
    console.as_user(COLP).ask("action update A-1 rag=purple")  # refused: nothing written
    assert version(console.engine) == after_area


def test_two_databases_at_the_same_version_do_not_share_answers(tmp_path):
    from datetime import UTC, datetime

    from models.boards import get_or_create_board
    from models.db import make_engine
    from models.migrate import upgrade

    keys = []
    for name in ("a.db", "b.db"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade(engine)
        with Session(engine) as session:
            board = get_or_create_board(session=session, slug="soc", name="Board",
                                        now=datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
            session.commit()
            keys.append(register_key(session, board, "rag"))
        engine.dispose()
    assert keys[0][1:] == keys[1][1:]  # same board id, creation time, version, question
    assert keys[0] != keys[1]
