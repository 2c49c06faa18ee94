"""Files after the reply: the chart in the channel, the report by DM, through the upload API."""

import io
import json
import threading
import time

from docx import Document
from slack_sdk.errors import SlackApiError

import bot.slack.uploads
from bot.slack.server import create_wsgi_app
from tests.conftest import CHAIR, COLP, NOW, SECRETARIAT
from tests.slack_fixtures import UPLOAD_STEPS, upload_calls, uploaded_bytes
from tests.slack_stub import CHANNEL, SlackHarness, slack_settings

pytest_plugins = ("tests.slack_fixtures",)


def test_chair_posts_the_chart_in_the_channel(slack, stub):
    answer = slack.command(CHAIR, "rag chart")
    assert answer.status == 200
    assert answer.json["response_type"] == "in_channel"
    assert "The chart follows as an image." in answer.text
    [complete] = stub.wait_for("files.completeUploadExternal")
    assert upload_calls(stub) == UPLOAD_STEPS
    assert complete.data["channel_id"] == CHANNEL
    assert json.loads(complete.data["files"])[0]["title"] == "RAG chart, 2027-01-20"
    [start] = stub.calls_to("files.getUploadURLExternal")
    assert start.data["filename"] == "rag-chart-2027-01-20.png"
    png = uploaded_bytes(stub)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == int(start.data["length"])
    assert stub.calls_to("conversations.open") == []


def test_the_command_is_acknowledged_before_the_upload_starts(slack, stub, monkeypatch):
    gate, real_upload = threading.Event(), bot.slack.uploads.upload
    reached, finished = threading.Event(), threading.Event()

    def held_upload(*args, **kwargs):
        reached.set()
        gate.wait(10)  # the bound only stops a broken test hanging
        try:
            return real_upload(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(bot.slack.uploads, "upload", held_upload)
    answer = slack.command(CHAIR, "rag chart")
    assert not finished.is_set(), "the acknowledgement waited for the upload"
    assert answer.status == 200 and answer.json["response_type"] == "in_channel"
    assert upload_calls(stub) == []  # nothing uploaded yet: the reply went first
    assert reached.wait(10), "the upload never started"
    gate.set()
    assert finished.wait(10)
    stub.wait_for("files.completeUploadExternal")
    assert upload_calls(stub) == UPLOAD_STEPS


def test_quarterly_report_goes_to_the_requester_by_dm(slack, stub):
    answer = slack.command(SECRETARIAT, "report quarter 2026Q4")
    assert answer.json["response_type"] == "ephemeral"
    assert "Sending quarterly-report-2026-q4.docx (Word) to you as a direct message." in (
        answer.everything
    )
    [complete] = stub.wait_for("files.completeUploadExternal")
    [opened] = stub.calls_to("conversations.open")
    assert opened.data["users"] == SECRETARIAT
    assert complete.data["channel_id"].startswith("D")
    assert complete.data["initial_comment"].startswith("Quarterly activity report: 2026 Q4")
    document = Document(io.BytesIO(uploaded_bytes(stub)))
    assert document.paragraphs[0].text == "Quarterly activity report: 2026 Q4"
    assert document.core_properties.author == "Serious and Organised Crime Partnership Board"


def test_a_refused_command_uploads_nothing(slack, stub):
    answer = slack.command(COLP, "rag chart")
    assert "Only the chair, deputy chair or secretariat" in answer.text
    time.sleep(0.2)
    assert upload_calls(stub) == []


def test_bot_not_in_the_channel_is_told_in_words(slack, stub, monkeypatch):
    def not_a_member(*args, **kwargs):
        raise SlackApiError("not_in_channel", {"ok": False, "error": "not_in_channel"})

    monkeypatch.setattr(bot.slack.uploads, "upload", not_a_member)
    answer = slack.command(CHAIR, "rag chart")
    told = stub.wait_for_path(answer.response_url.removeprefix(stub.base))
    assert told.data["response_type"] == "ephemeral"
    assert "I'm not a member of this channel" in told.data["text"]
    assert "/invite @soc-bot" in told.data["text"]


def test_a_failed_upload_is_explained_to_the_requester(slack, stub):
    stub.fail("files.completeUploadExternal", status=200)
    answer = slack.command(SECRETARIAT, "report quarter 2026Q4")
    told = stub.wait_for_path(answer.response_url.removeprefix(stub.base))
    assert "I couldn't send you quarterly-report-2026-q4.docx" in told.data["text"]
    assert "Traceback" not in told.data["text"]


def test_a_late_reply_still_sends_its_file(board_engine, settings, stub):
    web_app = create_wsgi_app(
        slack_settings(settings, stub), engine=board_engine, clock=lambda: NOW, ack_budget=0
    )
    slack = SlackHarness(web_app, stub)
    answer = slack.command(CHAIR, "rag chart")
    assert answer.text.startswith("Working on it")
    reply = stub.wait_for_path(answer.response_url.removeprefix(stub.base))
    assert reply.data["response_type"] == "in_channel"
    [complete] = stub.wait_for("files.completeUploadExternal")
    assert complete.data["channel_id"] == CHANNEL
