"""Handlers behind buttons and forms: the commands' checks, versions, field errors, Home data."""

from datetime import date

import pytest
from sqlmodel import Session

from handlers.context import Context
from handlers.register import forms
from handlers.register.forms import Target
from handlers.register.home import Dashboard, dashboard
from handlers.replies import Reply
from models.boards import get_board
from models.people import find_member_by_identity
from tests.conftest import COLP, CST, NOW, OBSERVER, SECRETARIAT


@pytest.fixture
def run(board_engine):
    """`run(user_id, use_case)`: a handler called as that member at NOW, committed."""

    def call(user_id: str, use_case):
        with Session(board_engine, expire_on_commit=False) as session:
            board = get_board(session=session, slug="soc")
            member = find_member_by_identity(
                session=session, board_id=board.id, channel="slack", external_id=user_id
            )
            ctx = Context(board=board, user_id=user_id, member=member, now=NOW)
            result = use_case(session, ctx)
            session.commit()
            return result

    return call


def test_a_target_is_a_ref_and_the_version_it_was_drawn_at():
    assert Target.parse("A-3:7") == Target("A-3", 7)
    assert str(Target("A-3", 7)) == "A-3:7" and str(Target("A-3")) == "A-3"
    assert Target.parse("A-3") == Target("A-3")
    for junk in ("", "<!channel>", "A-3:x", "A-3:7|red", "B-3"):
        assert Target.parse(junk) is None, junk


def test_set_rag_is_the_update_command_with_its_checks(run):
    assert not run(COLP, lambda s, c: forms.set_rag(s, c, Target("A-1", 1), "green")).error
    refused = run(CST, lambda s, c: forms.set_rag(s, c, Target("A-1"), "red"))
    assert refused.error and refused.title.startswith("You can't change A-1")
    closing = run(COLP, lambda s, c: forms.set_rag(s, c, Target("A-1"), "blue"))
    assert closing.error and "achieved" in closing.title


def test_a_stale_version_names_who_changed_it_and_shows_the_current_state(run):
    assert not run(SECRETARIAT, lambda s, c: forms.set_rag(s, c, Target("A-1", 1), "red")).error
    stale = run(COLP, lambda s, c: forms.set_rag(s, c, Target("A-1", 1), "green"))
    assert stale.error
    assert stale.title == (
        "A-1 was changed by David MacKintosh a moment ago, so your change was not saved."
    )
    assert stale.hint.startswith("Here is its current state")
    assert [(i.ref, i.rag, i.version) for i in stale.items] == [("A-1", "red", 2)]
    own = run(SECRETARIAT, lambda s, c: forms.set_rag(s, c, Target("A-1", 1), "green"))
    assert own.title == "You already changed A-1 a moment ago, so this was not applied again."


def test_complete_and_note_report_empty_text_on_their_field(run):
    outcome = run(COLP, lambda s, c: forms.complete(s, c, Target("A-1", 1), "  "))
    assert outcome.errors == {"outcome": "Say what the action achieved."}
    outcome = run(COLP, lambda s, c: forms.add_note(s, c, Target("A-1", 1), "x" * 4001))
    assert outcome.errors["note"].startswith("This is too long (4,001 characters")
    done = run(COLP, lambda s, c: forms.complete(s, c, Target("A-1", 1), "Live"))
    assert not done.error and done.reply.items[0].rag == "blue"


def test_the_action_form_offers_what_the_reader_may_change(run):
    partner = run(COLP, lambda s, c: forms.action_form(s, c, Target("A-1")))
    assert "area" not in partner.editable and "note" in partner.editable
    assert partner.target == Target("A-1", 1) and partner.values["due"] is None
    secretariat = run(SECRETARIAT, lambda s, c: forms.action_form(s, c, None))
    assert secretariat.editable[:2] == ("area", "lead") and secretariat.target is None
    refused = run(OBSERVER, lambda s, c: forms.action_form(s, c, None))
    assert isinstance(refused, Reply) and refused.error


def test_a_form_value_refused_by_the_commands_parser_comes_back_on_its_field(run):
    values = {"title": "", "due": date(1999, 1, 1), "strand": ["pursue"]}
    outcome = run(COLP, lambda s, c: forms.save_action_form(s, c, values, Target("A-1")))
    assert set(outcome.errors) == {"title", "due"}
    assert outcome.errors["title"] == "The title cannot be blank."


def test_the_dashboard_has_my_open_actions_and_the_overview(run):
    board = run(COLP, lambda s, c: dashboard(s, c))
    assert isinstance(board, Dashboard)
    assert (board.mine_total, board.pages, board.partner) == (9, 1, "City of London Police")
    assert [i.ref for i in board.mine][:3] == ["A-1", "A-2", "A-3"]
    assert sum(board.overview.totals.values()) == 11
    assert set(board.overview.strands) == {"pursue", "prevent", "protect", "prepare"}
    chair = run(SECRETARIAT, lambda s, c: dashboard(s, c))
    assert chair.partner == "Community Safety Team"
    observer = run(OBSERVER, lambda s, c: dashboard(s, c))
    assert observer.mine == [] and "not a lead partner's contact" in observer.mine_note
