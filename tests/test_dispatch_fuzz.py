"""Whatever anyone types, as anyone, the dispatcher answers with a Reply and the register holds."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from handlers.replies import Reply
from handlers.run import run_command
from models.tables import Action
from tests.conftest import (
    COLP,
    NOW,
    SECRETARIAT,
)
from tests.fuzz_fixtures import (
    USERS,
    check_invariants,
    composed,
    fuzz_engine,  # noqa: F401  (fixtures)
    raw_text,
)


def dispatch(engine, user_id: str, text: str) -> Reply:
    """Run text through the same entry point as Slack and the console."""
    reply = run_command(engine=engine, board_slug="soc", user_id=user_id, text=text, now=NOW)
    assert isinstance(reply, Reply)
    assert isinstance(reply.title, str) and reply.title
    return reply


# --- Strategies --------------------------------------------------------------------------------


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(user_id=st.sampled_from(USERS), text=raw_text)
def test_any_text_from_anyone_gets_a_reply_and_keeps_the_register_sound(fuzz_engine, user_id, text):  # noqa: F811
    dispatch(fuzz_engine, user_id, text)
    check_invariants(fuzz_engine)


@FUZZ
@given(user_id=st.sampled_from(USERS), text=composed)
# Inputs that once crashed (random search finds them only now and then).
@example(user_id=COLP, text="action status partner ,")
@example(user_id=COLP, text="action status partner , , page 2")
def test_any_command_words_with_any_arguments_get_a_reply(fuzz_engine, user_id, text):  # noqa: F811
    dispatch(fuzz_engine, user_id, text)
    check_invariants(fuzz_engine)


@pytest.mark.parametrize(
    "text",
    [
        "action status area '; DROP TABLE action; --",
        'action status area "\'; DROP TABLE action; --"',
        "action status partner Robert'); DROP TABLE partner;--",
        "action status A-1; DROP TABLE action",
        'area add "x\'); DELETE FROM action; --"',
        "action note A-1 '); UPDATE action SET rag='red'; --",
        "action status area %",
        "action status area _",
    ],
)
def test_sql_injection_is_just_text(fuzz_engine, text):  # noqa: F811
    with Session(fuzz_engine) as session:
        before = session.exec(select(func.count()).select_from(Action)).one()
        rags = sorted(session.exec(select(Action.rag)))
    dispatch(fuzz_engine, SECRETARIAT, text)
    with Session(fuzz_engine) as session:
        assert session.exec(select(func.count()).select_from(Action)).one() == before
        if "UPDATE" in text:
            assert sorted(session.exec(select(Action.rag))) == rags
    check_invariants(fuzz_engine)


def test_injection_in_an_area_name_finds_no_area(fuzz_engine):  # noqa: F811
    reply = dispatch(fuzz_engine, COLP, "action status area '; DROP TABLE action; --")
    assert reply.error
    assert reply.title.startswith("No key crime area called")
    assert not dispatch(fuzz_engine, COLP, "action status all").error
