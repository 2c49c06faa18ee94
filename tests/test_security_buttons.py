"""The authorization matrix for buttons, selects, pickers and forms, over signed HTTP.

test_permissions proves who may type what. Here every role uses every control on an action, as
drawn for the chair (who is shown all of them): a control someone was never shown is still only
a request, and the app decides again who is asking. Allowed: the register changes. Refused: it
does not, and the person is told why.
"""

import json

import pytest

from bot.slack import ids as slack_ids
from bot.slack.server import create_wsgi_app
from tests.conftest import CHAIR, NOW
from tests.permission_fixtures import CASES, Case, board, snapshot  # noqa: F401
from tests.slack_stub import SlackHarness, buttons_in, slack_settings

pytest_plugins = ("tests.slack_fixtures",)

REFUSALS = ("can't change", "not on this Board's member list", "There is no action",
            "Only the chair, deputy chair or secretariat")  # fmt: skip


@pytest.fixture
def signed(board, settings, stub) -> SlackHarness:  # noqa: F811
    """The real HTTP app over the Board copy at NOW, talking to the stand-in."""
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board, clock=lambda: NOW)
    return SlackHarness(web_app, stub)


def chairs_controls(signed: SlackHarness, ref: str) -> tuple[dict[str, dict], str]:
    """The controls on `ref` as drawn for the chair (all of them), and that reply's response_url."""
    listing = signed.command(CHAIR, f"action status {ref}")
    controls = {b["action_id"]: b for b in buttons_in(listing.json["blocks"])
                if slack_ids.block_ref(b["block_id"]) == ref}  # fmt: skip
    return controls, listing.response_url


def chairs_form(signed: SlackHarness, control: dict, url: str, callback: str) -> dict:
    """The form a control opens for the chair."""
    signed.click(CHAIR, control, url)
    view = signed.stub.view()
    assert view["callback_id"] == callback
    return view


def use_rag(signed, case, controls, url):
    """Choose Red in the RAG select."""
    select = controls[slack_ids.OPERATION_RAG]
    red = next(o["value"] for o in select["options"] if o["value"].endswith("|red"))
    return signed.click(case.user_id, select, url, choose=red)


def use_due(signed, case, controls, url):
    """Pick a new due date."""
    return signed.click(case.user_id, controls[slack_ids.OPERATION_DUE], url, choose="2027-06-30")


def open_and_submit(action_id: str, callback: str, answers: dict):
    """Press the button; if a form opens for them, fill it in and submit it."""

    def use(signed, case, controls, url):
        opened = len(signed.stub.calls_to("views.open"))
        clicked = signed.click(case.user_id, controls[action_id], url)
        if len(signed.stub.calls_to("views.open")) > opened:
            view = signed.stub.view()
            if view.get("callback_id") == callback:
                return signed.submit(case.user_id, view, answers)
        return clicked

    return use


def forge_submission(action_id: str, callback: str, answers: dict):
    """Submit the form the chair was given, as someone else: a request no one showed them."""

    def use(signed, case, controls, url):
        view = chairs_form(signed, controls[action_id], url, callback)
        return signed.submit(case.user_id, view, answers)

    return use


CONTROLS = {
    "rag-select": use_rag,
    "due-picker": use_due,
    "mark-complete": open_and_submit(slack_ids.OPERATION_DONE, slack_ids.VIEW_COMPLETE,
                                     {"outcome": "Finished by button"}),
    "add-note": open_and_submit(slack_ids.OPERATION_NOTE, slack_ids.VIEW_NOTE,
                                {"note": "Noted by button"}),
    "edit-form": open_and_submit(slack_ids.OPERATION_UPDATE, slack_ids.VIEW_ACTION_FORM,
                                 {"title": "Retitled in the form"}),
    "forged-complete": forge_submission(slack_ids.OPERATION_DONE, slack_ids.VIEW_COMPLETE,
                                        {"outcome": "Forged outcome"}),
    "forged-note": forge_submission(slack_ids.OPERATION_NOTE, slack_ids.VIEW_NOTE,
                                    {"note": "Forged note"}),
    "forged-edit": forge_submission(slack_ids.OPERATION_UPDATE, slack_ids.VIEW_ACTION_FORM,
                                    {"title": "Forged title"}),
}  # fmt: skip


def told(signed: SlackHarness, answer, calls_before: int) -> str:
    """Everything the person was shown after using the control: the answer and what followed."""
    later = [json.dumps(c.data, ensure_ascii=False) for c in signed.stub.calls[calls_before:]]
    return answer.body + "\n".join(later)


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_control_matrix(signed, board, case: Case, control: str):  # noqa: F811
    controls, url = chairs_controls(signed, case.ref)
    before, calls = snapshot(board), len(signed.stub.calls)
    answer = CONTROLS[control](signed, case, controls, url)
    assert answer.status == 200
    after = snapshot(board)
    if case.may_change:
        assert after != before, f"{case.name} should be able to use {control}"
    else:
        assert after == before, f"{case.name} changed the register with {control}"
        shown = told(signed, answer, calls)
        assert any(refusal in shown for refusal in REFUSALS), shown[:500]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_paging_reads_as_the_clicker(signed, board, case: Case):  # noqa: F811
    listing = signed.command(CHAIR, "action status all")
    next_page = next(b for b in buttons_in(listing.json["blocks"])
                     if b["action_id"] == slack_ids.PAGE_NEXT)  # fmt: skip
    before, calls = snapshot(board), len(signed.stub.calls)
    answer = signed.click(case.user_id, next_page, listing.response_url)
    (page,) = signed.stub.wait_for("response", 1)[-1:]
    assert snapshot(board) == before
    if case.is_member:
        assert page.data["text"].startswith("All actions")
    else:
        assert "not on this Board's member list" in told(signed, answer, calls)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_home_paging_shows_the_clicker_their_own_home(signed, board, case: Case):  # noqa: F811
    before, published = snapshot(board), len(signed.stub.calls_to("views.publish"))
    button = {"action_id": slack_ids.HOME_PAGE, "block_id": slack_ids.HOME_PAGE_BLOCK,
              "value": "2", "text": {"type": "plain_text", "text": "Next"}}  # fmt: skip
    assert signed.click(case.user_id, button).status == 200
    publish = signed.stub.wait_for("views.publish", published + 1)[-1]
    assert publish.data["user_id"] == case.user_id
    shown = json.dumps(publish.data, ensure_ascii=False)
    assert snapshot(board) == before
    assert ("not on this Board's member list" in shown) != case.is_member


def test_the_matrix_covers_every_control():
    controls = {value for name, value in vars(slack_ids).items()
                if name.startswith(("OPERATION_", "PAGE_", "VIEW_", "HOME_PAGE"))
                and isinstance(value, str) and not name.endswith("_BLOCK")}  # fmt: skip
    covered = {slack_ids.OPERATION_RAG, slack_ids.OPERATION_DUE, slack_ids.OPERATION_DONE,
               slack_ids.OPERATION_NOTE, slack_ids.OPERATION_UPDATE, slack_ids.VIEW_COMPLETE,
               slack_ids.VIEW_NOTE, slack_ids.VIEW_ACTION_FORM, slack_ids.PAGE_NEXT,
               slack_ids.PAGE_PREVIOUS, slack_ids.HOME_PAGE}  # fmt: skip
    assert controls <= covered, f"add {sorted(controls - covered)} to the control matrix"
