"""Handlers write for the asker's surface: commands as typed there, controls as reply operations."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from bot.cli.console import CLI
from bot.plain_text import render_text
from bot.slack.ids import ANSWER_BLOCK, ANSWER_BUTTON
from bot.slack.render.blocks import render_blocks
from bot.slack.surface import SLACK
from handlers.context import CONSOLE, DIRECT_MESSAGE, Surface
from handlers.meetings.reminder_messages import (
    MAX_LISTED,
    OVERDUE,
    Listed,
    OpenAction,
    reminder_reply,
)
from handlers.meetings.rules import ReminderPoint
from handlers.priorities.forms import ANSWER, parse_answer_target
from handlers.priorities.invitations import plan_invitations
from handlers.register.actions import EDIT_FORM
from handlers.replies import Operation, Page, Reply
from handlers.run import run_command
from models.boards import get_board
from models.tables import Meeting
from tests.conftest import COLP, LONDON, NOW, SECRETARIAT, slack_id

# A channel that draws no buttons and where commands are typed after a mention (as Teams will).
MENTION = Surface(name="mention", prefix="@soc")
OLD_INVITATION_HINT = (
    "Answers close Fri 5 Feb 2027 (end of the day). One answer per partner; a later one replaces "
    'it. No buttons? Type `/soc priorities answer cyber=lead fraud=contribute note="Our '
    'priorities: ..."`.'
)


def run(engine, settings, user_id: str, text: str, surface: Surface) -> Reply:
    """One command as `user_id`, typed on `surface`."""
    return run_command(
        engine=engine,
        board_slug=settings.board_slug,
        user_id=user_id,
        text=text,
        now=NOW,
        surface=surface,
    )


@pytest.mark.parametrize(
    ("text", "command", "slack_hint"),
    [
        ("rag chart now", "rag chart", "Type `/soc rag chart`."),
        ("priorities results now", "priorities results", "Type `/soc priorities results`."),
    ],
)
@pytest.mark.parametrize("surface", [SLACK, CONSOLE, CLI, MENTION], ids=lambda s: s.name)
def test_hints_show_the_command_as_typed_there(
    board_engine, settings, surface, text, command, slack_hint
):
    reply = run(board_engine, settings, SECRETARIAT, text, surface)
    assert reply.error
    assert reply.hint == f"Type `{surface.typed(command)}`."
    if surface == SLACK:
        assert reply.hint == slack_hint  # unchanged for Slack users


@pytest.mark.parametrize("surface", [SLACK, CONSOLE, MENTION], ids=lambda s: s.name)
def test_results_hint_names_the_set_command_as_typed_there(board_engine, settings, surface):
    run(board_engine, settings, SECRETARIAT, "priorities open closes=5/2/2027", SLACK)
    reply = run(board_engine, settings, SECRETARIAT, "priorities results private", surface)
    typed = surface.typed("priorities set <area>, <area>, <area>")
    assert reply.hint.endswith(f"Record the Board's choice with `{typed}`.")
    assert ("/soc" in reply.hint) == (surface == SLACK)


def test_invitations_carry_the_answer_control_and_read_as_before(board_engine, settings):
    run(board_engine, settings, SECRETARIAT, "priorities open closes=5/2/2027", SLACK)
    with Session(board_engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        planned = plan_invitations(session, board, NOW)
    colp = next(i for i in planned if slack_id(i.send_to) == COLP)
    target = f"{colp.exercise.id}:{colp.partner.id}"
    assert colp.reply.operations == [Operation(ANSWER, "Answer", target)]
    assert parse_answer_target(target) == (colp.exercise.id, colp.partner.id)
    assert colp.reply.hint == OLD_INVITATION_HINT  # the default is today's direct message
    mention = colp.reply_for(MENTION)
    assert "No buttons" not in mention.hint and "/soc" not in mention.hint
    assert mention.hint.endswith('Answer by typing `@soc priorities answer cyber=lead fraud=contrib'
                                 'ute note="Our priorities: ..."`.')  # fmt: skip
    assert mention.operations == colp.reply.operations


def test_slack_draws_the_answer_operation_as_its_button():
    reply = Reply(title="Priorities exercise", hint="Answer soon.")
    reply.operations.append(Operation(ANSWER, "Answer", "7:3"))
    blocks = render_blocks(reply, LONDON)
    assert blocks[-1] == {
        "type": "actions",
        "block_id": ANSWER_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": ANSWER_BUTTON,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Answer"},
                "value": "7:3",
            }
        ],
    }
    # Not in a modal or the Home tab (interactive=False), and an unknown operation is not drawn.
    assert all(
        b.get("block_id") != ANSWER_BLOCK for b in render_blocks(reply, LONDON, interactive=False)
    )
    reply.operations = [Operation("something new", "Go", "1")]
    assert all(b["type"] != "actions" for b in render_blocks(reply, LONDON))


def _reminder(count: int, **surface: Surface) -> Reply:
    """A reminder listing `count` overdue actions (`surface=` if given)."""
    meeting = Meeting(board_id=1, starts_at=datetime(2027, 2, 9, 10, 0, tzinfo=UTC))
    point = ReminderPoint(1, date(2027, 2, 8), datetime(2027, 2, 8, 9, 0, tzinfo=UTC), True)
    listed = [
        Listed(OpenAction(n, n, "Issue", "Do it", "red", date(2027, 1, 1), False, NOW, 1),
               (OVERDUE,), True)
        for n in range(1, count + 1)
    ]  # fmt: skip
    return reminder_reply(meeting=meeting, point=point, tz=LONDON, listed=listed,
                          lead_names={}, last_meeting=None, **surface)  # fmt: skip


def test_reminders_are_written_for_the_recipients_surface():
    count = MAX_LISTED + 2
    default = _reminder(count)
    assert default.text.endswith('use the buttons, or `/soc action update A-n rag=... note="..."`.')
    assert default.hint == "…and 2 more: type `/soc action status` to see them all."
    assert _reminder(count, surface=DIRECT_MESSAGE) == default
    mention = _reminder(count, surface=MENTION)
    assert mention.text.endswith('chasing it: `@soc action update A-n rag=... note="..."`.')
    assert mention.hint == "…and 2 more: type `@soc action status` to see them all."


def test_action_edit_offers_the_form_only_where_the_surface_has_forms(board_engine, settings):
    with_forms = run(board_engine, settings, SECRETARIAT, "action edit A-1", SLACK)
    [operation] = with_forms.operations
    assert operation.name == EDIT_FORM and operation.target.startswith("A-1:")
    typed = run(board_engine, settings, SECRETARIAT, "action edit A-1", CONSOLE)
    assert typed.operations == []
    assert typed.text == with_forms.text and "`action update`" in typed.text


def test_plain_text_paging_shows_the_command_as_typed():
    reply = Reply(title="Actions", page=Page(2, 3, "action status all"))
    assert "next: `action status all page 3`" in render_text(reply, LONDON)
    cli = render_text(reply, LONDON, CLI)
    assert f"previous: `{CLI.typed('action status all page 1')}`" in cli
    assert f"next: `{CLI.typed('action status all page 3')}`" in cli
    assert CLI.prefix and CLI.typed("x") != "x"
