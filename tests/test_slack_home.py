"""The App Home tab: the member's own actions with controls, and the Board's 4P dashboard."""

import json
from datetime import date

from sqlmodel import Session, select

from bot.slack import ids as slack_ids
from bot.slack.render.blocks import MAX_HOME_BLOCKS
from models.actions import create_action
from models.boards import get_board, get_or_create_area
from models.people import find_partner
from models.tables import Action
from tests.conftest import CHAIR, COLP, NOW, OBSERVER, SECRETARIAT, STRANGER
from tests.slack_fixtures import home_text, open_home
from tests.slack_stub import buttons_in

pytest_plugins = ("tests.slack_fixtures",)

MARKER = "MARKER-HOME-XYZ"


def _rag_select(view: dict) -> dict:
    return next(b for b in buttons_in(view["blocks"]) if b["action_id"] == slack_ids.OPERATION_RAG)


def _rag(engine, number: int) -> str:
    with Session(engine) as session:
        return session.exec(select(Action.rag).where(Action.number == number)).one()


def test_home_shows_my_actions_with_controls_then_the_4p_overview(slack):
    view = open_home(slack, COLP)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    text = home_text(view)
    assert "Rob Ellis · City of London Police" in text
    assert "*Your partner's actions*: 9 open action" in text
    controls = [b for b in buttons_in(view["blocks"]) if b["action_id"] == slack_ids.OPERATION_RAG]
    assert len(controls) == 9
    assert controls[0]["block_id"] == "soc_ops|A-1:1|0|home"
    assert "*Board overview*: 11 actions · 🟠 9 · 🔵 1 · ⚪ 1" in text
    strands = next(b for b in view["blocks"] if b.get("text", {}).get("text") == "*By 4P strand*")
    assert [f["text"].split("\n")[0] for f in strands["fields"]] == [
        "*Pursue*", "*Prevent*", "*Protect*", "*Prepare*"]  # fmt: skip
    assert "*Key crime areas*" in text and "Cyber attack: 🟠 2" in text
    assert "*Next Board meeting*: none scheduled yet." in text


def test_home_marks_overdue_actions_and_counts_them(slack, console):
    assert not console.as_user(COLP).ask("action update A-1 due=15/01/2027").error
    text = home_text(open_home(slack, COLP))
    assert ", *1 overdue*" in text
    assert "⏰ Overdue" in text and "5 days ago" in text


def test_home_shows_the_next_meeting_and_days_to_the_next_reminder(slack, console):
    assert not console.as_user(SECRETARIAT).ask("meeting add 9/2/2027 10:00").error
    text = home_text(open_home(slack, COLP))
    assert "*Next Board meeting*: <!date^" in text and "Tue 09 Feb 2027 10:00" in text
    # 5 working days before Tuesday 9 February is Tuesday 2 February: 13 days after NOW.
    assert "*Next reminder*: in 13 days" in text and "Tue 02 Feb 2027 09:00" in text


def test_observers_see_no_confidential_text_and_no_controls(slack, console):
    reply = console.as_user(SECRETARIAT).ask(
        f'action add area=cyber lead=CoLP title="{MARKER} op" confidential=yes rag=red'
    )
    assert not reply.error
    view = open_home(slack, OBSERVER)
    assert MARKER not in home_text(view)
    assert not [b for b in view["blocks"] if b["type"] == "actions"]
    assert "1 confidential action is not counted here" in home_text(view)
    assert "🔴" not in home_text(view).split("*Board overview*")[1].split("*By 4P strand*")[0]
    # Its lead partner sees it, with its controls.
    assert MARKER in home_text(open_home(slack, COLP))


def test_someone_not_on_the_board_is_told_who_to_ask(slack):
    text = home_text(open_home(slack, STRANGER))
    assert "not on this Board's member list" in text


def test_a_big_register_stays_within_the_home_limit_and_pages(slack, board_engine):
    with Session(board_engine) as session:
        board = get_board(session=session, slug="soc")
        colp = find_partner(session=session, board_id=board.id, text="CoLP")
        for n in range(60):
            area = get_or_create_area(session=session, board_id=board.id, name=f"Area {n:02d}")
            create_action(session=session, board_id=board.id, area_id=area.id, now=NOW,
                          actor=None, issue=f"Job {n}", lead_ids=[colp.id],
                          due_date=date(2027, 1, 1))  # fmt: skip
        session.commit()
    view = open_home(slack, COLP)
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    text = home_text(view)
    assert "69 open actions, *60 overdue*" in text and "Page 1 of 7" in text
    assert "…and" in text and "more: `/soc rag` lists them all" in text
    following = next(b for b in buttons_in(view["blocks"]) if b["action_id"] == slack_ids.HOME_PAGE)
    assert following["value"] == "2"
    slack.click(COLP, following, home=view)
    second = slack.stub.view("views.publish")
    assert "Page 2 of 7" in home_text(second) and "A-12" not in home_text(second)
    assert len(second["blocks"]) <= MAX_HOME_BLOCKS


def test_a_colour_chosen_on_home_is_saved_and_home_redrawn(slack, board_engine, console):
    view = open_home(slack, COLP)
    select_ = next(
        b for b in buttons_in(view["blocks"]) if b["action_id"] == slack_ids.OPERATION_RAG
    )
    slack.click(COLP, select_, home=view, choose="A-1:1|green")
    assert _rag(board_engine, 1) == "green"
    redrawn = slack.stub.view("views.publish")
    assert "A-1:2|red" in home_text(redrawn)
    assert "🟢 1" in home_text(redrawn)
    assert "1 Green" in console.as_user(CHAIR).ask("rag").text  # the chairman's summary too


def test_a_stale_click_on_home_is_explained_at_the_top_of_home(slack, board_engine, console):
    view = open_home(slack, COLP)
    assert not console.as_user(SECRETARIAT).ask("action update A-1 rag=red").error
    select_ = next(
        b for b in buttons_in(view["blocks"]) if b["action_id"] == slack_ids.OPERATION_RAG
    )
    slack.click(COLP, select_, home=view, choose="A-1:1|green")
    assert _rag(board_engine, 1) == "red"
    redrawn = slack.stub.view("views.publish")
    assert redrawn["blocks"][0]["text"]["text"].startswith(
        "*⚠️ A-1 was changed by David MacKintosh a moment ago")  # fmt: skip
    assert len(redrawn["blocks"]) <= MAX_HOME_BLOCKS


def test_a_typed_change_refreshes_home(slack):
    assert slack.command(COLP, "action update A-1 rag=green").text.startswith("Updated A-1")
    (publish,) = slack.stub.wait_for("views.publish")
    assert publish.data["user_id"] == COLP
    assert "🟢 Green" in json.dumps(publish.data["view"], ensure_ascii=False)
    slack.command(COLP, "action status")  # reading changes nothing, so no refresh
    assert len(slack.stub.calls_to("views.publish")) == 1
