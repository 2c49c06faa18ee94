"""The priorities exercise through the Slack stand-in: DMs exactly once, clicks, the tally chart."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlmodel import Session, select

from bot.files.priority_chart import draw_tally
from bot.senders.priorities import PrioritySender
from bot.slack.courier import EVENT_TYPE, reminder_client, slack_couriers
from bot.slack.ids import ANSWER_BUTTON
from bot.slack.render.priorities import (
    ANSWER_VIEW,
    AREA_BLOCK,
    NOTE_BLOCK,
    NOTE_ELEMENT,
    STANCE_ELEMENT,
    submitted_answer,
)
from bot.slack.server import create_wsgi_app
from bot.worker import serve_board
from handlers.priorities.tally import board_tally, tally_chart
from models.boards import get_board
from models.ledger import CLAIMED, FAILED, SENT, SUPERSEDED
from models.priorities import latest_exercise
from models.tables import CrimeArea, PriorityAnswer, PriorityDelivery
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    DEPUTY,
    LONDON,
    NOW,
    SECRETARIAT,
    TRADING,
)
from tests.file_fixtures import png_size
from tests.slack_fixtures import UPLOAD_STEPS, home_text, open_home, upload_calls, uploaded_bytes
from tests.slack_stub import CHANNEL, TEAM, SlackHarness, buttons_in, slack_settings
from tests.worker_fixtures import Killed, crash_after_first_send, dms, race, slow_slack

pytest_plugins = ("tests.slack_fixtures",)

FAST = FixedValueRetryIntervalCalculator(0.01)
ASKED = {SECRETARIAT, COLP, TRADING, COOPTEE}  # one contact per partner with a member
REMINDER_DUE = datetime(2027, 2, 4, 9, 0, tzinfo=UTC)  # Thu 4 Feb 09:00, a working day before
AFTER_CLOSE = datetime(2027, 2, 6, 0, 0, tzinfo=UTC)


def make_sender(engine, settings, stub, *, lease=timedelta(minutes=10)) -> PrioritySender:
    """A priorities sender talking to the stand-in, with fast retries."""
    client = reminder_client(slack_settings(settings, stub), retry_interval=FAST)
    return PrioritySender(engine, slack_couriers(client, LONDON), lease=lease)


def ledger(engine) -> list[PriorityDelivery]:
    """Every priorities ledger row."""
    with Session(engine) as session:
        return list(session.exec(select(PriorityDelivery).order_by(PriorityDelivery.id)))


def answer_button(message: dict) -> dict:
    """The Answer button of a direct message."""
    [button] = [b for b in buttons_in(message["blocks"]) if b["action_id"] == ANSWER_BUTTON]
    return button


def submit(slack: SlackHarness, user_id: str, view: dict, choices: dict[int, str], note: str):
    """Submit an answer form as Slack does: the view with its state values."""
    values = {
        f"{AREA_BLOCK}{area_id}": {
            STANCE_ELEMENT: {"type": "radio_buttons", "selected_option": {"value": stance}}
        }
        for area_id, stance in choices.items()
    }
    values[NOTE_BLOCK] = {NOTE_ELEMENT: {"type": "plain_text_input", "value": note}}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user_id},
        "api_app_id": "A0SOCBOT",
        "token": "deprecated",
        "trigger_id": "1337.44.abcdef",
        "view": {**view, "id": "VMODAL", "state": {"values": values}},
    }
    return slack.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )


def area_ids(engine) -> dict[str, int]:
    """Area ids by name."""
    with Session(engine) as session:
        return {a.name: a.id for a in session.exec(select(CrimeArea))}


@pytest.fixture
def opened(slack):
    """An exercise opened in Slack by the secretariat at NOW, closing Friday 5 February 2027."""
    answer = slack.command(SECRETARIAT, "priorities open closes=5/2/2027")
    assert "Priorities exercise open until Fri 5 Feb 2027" in answer.text
    assert "Each partner's contact gets a direct message within a minute." in answer.everything
    return slack


# --- the direct messages -----------------------------------------------------------------------


def test_every_partner_gets_one_dm_with_an_answer_button(opened, board_engine, settings, stub):
    sender = make_sender(board_engine, settings, stub)
    report = sender.run_pass(NOW)
    assert report.sent == 4 and report.failed == report.retry == 0
    got = dms(stub)
    assert {user: len(messages) for user, messages in got.items()} == dict.fromkeys(ASKED, 1)
    message = got[COLP][0]
    assert message["metadata"]["event_type"] == EVENT_TYPE
    assert "which key crime areas matter to City of London Police?" in message["text"]
    assert "Cyber attack" in message["text"] and "Fri 5 Feb 2027" in message["text"]
    assert len(message["blocks"]) <= 50
    exercise_id = ledger(board_engine)[0].exercise_id
    assert answer_button(message)["value"].startswith(f"{exercise_id}:")
    rows = {r.address: r for r in ledger(board_engine)}
    colp = rows[f"slack::{COLP}"]
    assert colp.status == SENT and colp.message_ref == f"{message['channel']}:{message['ts']}"
    assert message["metadata"]["event_payload"]["key"].endswith(
        f":priorities:{exercise_id}/open/{colp.recipient_member_id}/invitation"
    )
    assert sender.run_pass(NOW + timedelta(minutes=1)).sent == 0
    assert len(stub.delivered()) == 4


def test_a_partner_given_a_member_later_is_asked_then(opened, board_engine, settings, stub):
    sender = make_sender(board_engine, settings, stub)
    sender.run_pass(NOW)
    opened.command(SECRETARIAT, 'member add UFIRE name="Fay Fire" role=member partner=LFB')
    assert sender.run_pass(NOW + timedelta(minutes=1)).sent == 1
    assert "London Fire Brigade" in dms(stub)["UFIRE"][0]["text"]


def test_an_away_contacts_invitation_goes_to_their_deputy(slack, board_engine, settings, stub):
    slack.command(SECRETARIAT, f"member add {COLP} away=yes deputy={DEPUTY}")
    slack.command(SECRETARIAT, "priorities open closes=5/2/2027")
    make_sender(board_engine, settings, stub).run_pass(NOW)
    got = dms(stub)
    assert COLP not in got
    assert "Sent to you as deputy for Rob Ellis" in got[DEPUTY][0]["text"]


def test_a_restart_after_a_crash_between_send_and_ledger_does_not_resend(
    opened, board_engine, settings, stub
):
    crashing = make_sender(board_engine, settings, stub)
    crash_after_first_send(crashing)
    with pytest.raises(Killed):
        crashing.run_pass(NOW)
    assert len(stub.delivered()) == 1
    assert [r.status for r in ledger(board_engine)] == [CLAIMED] * 4
    # The dead pass's lock went with it: the next pass takes its claims over within the lease.
    restarted = make_sender(board_engine, settings, stub)
    report = restarted.run_pass(NOW + timedelta(minutes=1))
    assert report.reconciled == 1 and report.sent == 3 and report.busy == 0
    assert {user: len(m) for user, m in dms(stub).items()} == dict.fromkeys(ASKED, 1)
    assert len(stub.calls_to("conversations.history")) == 4  # each claim checked first
    assert [r.status for r in ledger(board_engine)] == [SENT] * 4


def test_two_workers_at_once_send_each_invitation_once(opened, board_engine, settings, stub):
    slow_slack(stub)
    senders = [make_sender(board_engine, settings, stub) for _ in range(3)]
    reports = race(senders, NOW)
    assert sum(r.sent for r in reports) == 4
    assert {user: len(m) for user, m in dms(stub).items()} == dict.fromkeys(ASKED, 1)


def test_a_refused_dm_is_failed_and_shown_in_the_results(opened, board_engine, settings, stub):
    stub.refuse(TRADING, "user_not_found")
    report = make_sender(board_engine, settings, stub).run_pass(NOW)
    assert (report.sent, report.failed) == (3, 1)
    assert next(r for r in ledger(board_engine) if r.status == FAILED).error == "user_not_found"
    answer = opened.command(CHAIR, "priorities results private")
    assert "Trading Standards (Steve Playle): the direct message failed (user_not_found)" in (
        answer.everything
    )


def test_partners_who_have_not_answered_are_reminded_a_working_day_before_it_closes(
    opened, board_engine, settings, stub
):
    sender = make_sender(board_engine, settings, stub)
    sender.run_pass(NOW)
    assert not opened.command(COLP, "priorities answer cyber=lead").json["text"].startswith("⚠")
    assert sender.run_pass(REMINDER_DUE - timedelta(minutes=1)).sent == 0
    report = sender.run_pass(REMINDER_DUE)
    assert report.sent == 3
    got = dms(stub)
    assert len(got[COLP]) == 1  # answered: no reminder
    for user in ASKED - {COLP}:
        assert len(got[user]) == 2
        assert got[user][1]["text"].startswith("Reminder: ")
        assert answer_button(got[user][1])
    assert sender.run_pass(REMINDER_DUE + timedelta(hours=2)).sent == 0
    assert make_sender(board_engine, settings, stub).run_pass(AFTER_CLOSE).sent == 0
    points = {(r.kind, r.point) for r in ledger(board_engine)}
    assert points == {("invitation", "open"), ("reminder", "2027-02-04")}


def test_a_claim_left_until_after_the_close_is_not_sent(opened, board_engine, settings, stub):
    crashing = make_sender(board_engine, settings, stub)
    slack_client = crashing.couriers["slack"].client
    slack_client.chat_postMessage = lambda **kwargs: (_ for _ in ()).throw(Killed())
    with pytest.raises(Killed):
        crashing.run_pass(NOW)
    report = make_sender(board_engine, settings, stub, lease=timedelta(0)).run_pass(AFTER_CLOSE)
    assert report.superseded == 4 and stub.delivered() == []
    assert {r.error for r in ledger(board_engine)} == {
        "the exercise closed before it could be sent"
    }
    assert {r.status for r in ledger(board_engine)} == {SUPERSEDED}


def test_the_worker_tick_sends_the_invitations(opened, board_engine, settings, stub):
    from bot.senders.reminders import ReminderSender

    client = reminder_client(slack_settings(settings, stub), retry_interval=FAST)
    sender = ReminderSender(board_engine, slack_couriers(client, LONDON), LONDON)
    serve_board(board_engine, sender, NOW)
    assert set(dms(stub)) == ASKED


# --- answering by clicks -----------------------------------------------------------------------


def test_answer_button_opens_the_form_and_submitting_records_the_answer(
    opened, board_engine, settings, stub
):
    make_sender(board_engine, settings, stub).run_pass(NOW)
    opened.command(COLP, 'priorities answer cyber=lead note="Fraud first"')
    button = answer_button(dms(stub)[COLP][0])
    assert opened.click(COLP, button).status == 200
    [loading] = stub.wait_for("views.open")
    assert "Loading" in loading.body
    [update] = stub.wait_for("views.update")
    view = (
        json.loads(update.data["view"])
        if isinstance(update.data["view"], str)
        else (update.data["view"])
    )
    assert view["callback_id"] == ANSWER_VIEW and view["private_metadata"] == button["value"]
    ids = area_ids(board_engine)
    questions = [b for b in view["blocks"] if b.get("block_id", "").startswith(AREA_BLOCK)]
    assert len(questions) == 9 and len(view["blocks"]) <= 100
    cyber = next(b for b in questions if b["block_id"] == f"{AREA_BLOCK}{ids['Cyber attack']}")
    assert cyber["element"]["initial_option"]["value"] == "lead"  # the current answer
    note = next(b for b in view["blocks"] if b.get("block_id") == NOTE_BLOCK)
    assert note["element"]["initial_value"] == "Fraud first"
    # Submitting gives the whole answer: what is left blank is unanswered.
    choices = {ids["Cyber attack"]: "contribute", ids["Fraud and cyber enabled crime"]: "lead"}
    answer = submit(opened, COLP, view, choices, "Fraud & <b>cyber</b>")
    assert answer.status == 200
    body = json.loads(answer.body)
    assert body["response_action"] == "update" and body["view"]["title"]["text"] == "Answer saved"
    shown = json.dumps(body["view"])
    assert "Recorded City of London Police's answer" in shown and "&lt;b&gt;" in shown
    with Session(board_engine) as session:
        answers = list(session.exec(select(PriorityAnswer).order_by(PriorityAnswer.version)))
    assert [(a.version, a.note) for a in answers] == [
        (1, "Fraud first"),
        (2, "Fraud & <b>cyber</b>"),
    ]
    tally = opened.command(CHAIR, "priorities results private").everything
    assert "Cyber attack: 1 contribute (City of London Police)" in tally


def test_someone_from_another_partner_cannot_answer_with_the_button(
    opened, board_engine, settings, stub
):
    make_sender(board_engine, settings, stub).run_pass(NOW)
    button = answer_button(dms(stub)[COLP][0])
    opened.click(CST, button)
    [update] = stub.wait_for("views.update")
    assert "You can't answer for City of London Police: you represent Community Safety Team." in (
        update.body
    )
    view = {"type": "modal", "callback_id": ANSWER_VIEW, "private_metadata": button["value"]}
    answer = submit(opened, CST, view, {area_ids(board_engine)["Cyber attack"]: "lead"}, "")
    body = json.loads(answer.body)
    assert body["view"]["title"]["text"] == "Not saved"
    with Session(board_engine) as session:
        assert list(session.exec(select(PriorityAnswer))) == []


def test_a_form_submitted_after_the_close_is_refused_with_the_date(
    opened, board_engine, settings, stub
):
    make_sender(board_engine, settings, stub).run_pass(NOW)
    button = answer_button(dms(stub)[COLP][0])
    late = SlackHarness(
        create_wsgi_app(
            slack_settings(settings, stub), engine=board_engine, clock=lambda: AFTER_CLOSE
        ),
        stub,
    )
    view = {"type": "modal", "callback_id": ANSWER_VIEW, "private_metadata": button["value"]}
    body = json.loads(
        submit(late, COLP, view, {area_ids(board_engine)["Cyber attack"]: "lead"}, "").body
    )
    assert "The priorities exercise closed on Fri 5 Feb 2027" in json.dumps(body["view"])
    late.click(COLP, button)
    [update] = stub.wait_for("views.update")
    assert "answers are no longer taken" in update.body


def test_a_tampered_button_is_out_of_date(opened, stub):
    opened.click(COLP, {"action_id": ANSWER_BUTTON, "value": "nonsense", "text": {}})
    [update] = stub.wait_for("views.update")
    assert "out of date" in update.body


def test_submitted_answer_reads_the_chosen_options_and_the_note():
    view = {
        "state": {
            "values": {
                f"{AREA_BLOCK}3": {STANCE_ELEMENT: {"selected_option": {"value": "lead"}}},
                f"{AREA_BLOCK}4": {STANCE_ELEMENT: {"selected_option": None}},
                "other": {"x": {}},
                NOTE_BLOCK: {NOTE_ELEMENT: {"value": None}},
            }
        }
    }
    assert submitted_answer(view) == ({3: "lead"}, "")


# --- the results and the chart ------------------------------------------------------------------


def test_the_chair_posts_the_tally_in_the_channel_with_a_chart(opened, stub):
    opened.command(COLP, "priorities answer cyber=lead fraud=contribute")
    answer = opened.command(CHAIR, "priorities results")
    assert answer.json["response_type"] == "in_channel"
    assert "The chart follows as an image." in answer.text
    [complete] = stub.wait_for("files.completeUploadExternal")
    assert upload_calls(stub) == UPLOAD_STEPS and complete.data["channel_id"] == CHANNEL
    assert json.loads(complete.data["files"])[0]["title"] == "Priorities tally, 2027-01-20"
    assert png_size(uploaded_bytes(stub))[0] == 1000


def test_a_member_sees_the_tally_only_themselves_and_no_chart(opened, stub):
    answer = opened.command(TRADING, "priorities results")
    assert answer.json["response_type"] == "ephemeral"
    assert "Only you can see this." in answer.everything
    assert stub.calls_to("files.getUploadURLExternal") == []


def test_the_chart_draws_the_tally(console, board_engine):
    console.as_user(SECRETARIAT).ask("priorities set cyber, fraud, slavery")
    console.as_user(SECRETARIAT).ask("priorities open")
    console.as_user(COLP).ask("priorities answer cyber=lead fraud=contribute")
    console.as_user(TRADING).ask("priorities answer cyber=contribute acquisitive=lead")
    with Session(board_engine) as session:
        board = get_board(session=session, slug="soc")
        tally = board_tally(session, board, latest_exercise(session=session, board_id=board.id))
    chart = tally_chart(tally, board=board.name, as_at=NOW.date(), is_open=True)
    drawn = draw_tally(chart)
    assert drawn.png.startswith(b"\x89PNG")
    assert drawn.bars["Cyber attack"] == {"lead": 1, "contribute": 1}
    assert drawn.bars["Organised acquisitive crime"] == {"lead": 1, "contribute": 0}
    assert chart.rows[0].area == "Cyber attack" and chart.rows[0].priority
    assert (chart.answered, chart.asked) == (2, 4)


def test_the_app_home_puts_the_chosen_priorities_first(slack):
    slack.command(CHAIR, "priorities set blackmail, slavery, cyber")
    text = home_text(open_home(slack, COLP))
    starred = [text.index(f"★ {name}") for name in ("Cyber attack", "Modern slavery", "Blackmail")]
    # In the Board overview, after the reader's own actions.
    assert max(starred) < text.find("Serious and Organised Crime Profiles", min(starred))
