"""No confidential text reaches anyone not entitled to it, on any surface, or any log.

A confidential action led by CoLP carries a marker in every text field and its notes. Entitled
readers (the chair, deputy, secretariat and CoLP's contact) use it first, so any cache is warm.
Then every surface is exercised for everyone else and for the channel: typed commands, buttons,
forms, App Home, the chair's channel posts and chart, public papers by DM and on the command line,
a reminder pass. Every call that reached the Slack stand-in (except direct messages to entitled
people), every answer, every uploaded or written file, and every log line is searched.
"""

import io
import logging
import zipfile

import pytest

from bot.cli.main import main
from bot.senders.reminders import ReminderSender
from bot.slack.courier import reminder_client, slack_couriers
from bot.slack.ids import OPERATION_NOTE
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    DEPUTY,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)
from tests.slack_fixtures import find_button
from tests.slack_stub import buttons_in, slack_settings
from tests.worker_fixtures import FAST, FIVE_DAYS

pytest_plugins = ("tests.slack_fixtures",)

MARKER = "ZQX-NIGHTJAR-7731"
ENTITLED = {CHAIR, DEPUTY, SECRETARIAT, COLP}
OTHERS = [OBSERVER, CST, TRADING, COOPTEE, STRANGER]
READS = [
    "help", "action status", "action status all", "action status all page 2", "action A-12",
    "action status A-12", "action history A-12", "action status area cyber",
    "action status partner colp", "action status overdue", "rag", "rag private", "member list",
    "partner list", "area list", "meeting next", "meeting list", "action edit A-12",
    "report quarter public", "rag chart",
]  # fmt: skip
WRITES = [
    "action update A-12 rag=green", 'action done A-12 note="x"', "action note A-12 hello",
    'action update A-12 note="x" allow_personal=yes',
]  # fmt: skip


@pytest.fixture
def closed_item(console):
    """A-12: confidential, red, overdue, led by CoLP, with the marker everywhere it can be."""
    console.as_user(SECRETARIAT)
    assert not console.ask('meeting schedule "second tuesday 10:00"').error
    reply = console.ask(
        f'action add area=cyber lead=CoLP title="{MARKER} title" action="{MARKER} action" '
        f'barriers="{MARKER} barriers" outcomes="{MARKER} outcomes" note="{MARKER} created" '
        "confidential=yes rag=red due=04/01/2027 strand=pursue"
    )
    assert reply.items[0].ref == "A-12", reply.title
    assert not console.as_user(COLP).ask(f"action note A-12 {MARKER} progress").error
    return "A-12"


@pytest.fixture
def app_logs(caplog):
    """Every log at INFO, the app's own at DEBUG; bolt's request logger keeps its WARNING.

    Bolt logs whole request bodies, and slack_sdk and SQLAlchemy whole messages and rows, at
    DEBUG: those are for debugging on a laptop, never production (see SECURITY.md).
    """
    caplog.set_level(logging.DEBUG)  # what the capturing handler takes
    levels = {"": logging.INFO, "bot": logging.DEBUG, "handlers": logging.DEBUG,
              "models": logging.DEBUG}  # fmt: skip
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def texts_in(data: bytes) -> str:
    """A file's text: every member of a Word or Excel file (zip), or the bytes themselves."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


def home(user: str) -> dict:
    """An app_home_opened event."""
    return {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1.1"}


def test_nothing_confidential_reaches_anyone_not_entitled(
    closed_item, slack, stub, settings, board_engine, app_logs, tmp_path, monkeypatch, capsys
):
    # The entitled use it first: caches are warm with what they may see.
    for user in ENTITLED:
        for text in ("action status all page 2", "action A-12", "rag private", "rag"):
            assert MARKER in slack.command(user, text).everything or text.startswith("rag")
        slack.event(home(user))
    stub.wait_for("views.publish", len(ENTITLED))
    stub.calls.clear()

    answers = []
    for user in OTHERS:
        for text in READS + WRITES:
            answers.append(slack.command(user, text).body)
        slack.event(home(user))
        listing = slack.command(user, "action status all")
        answers.append(listing.body)
        for button in buttons_in(listing.json.get("blocks", [])):
            if button["action_id"].startswith("soc_page"):
                slack.click(user, button, listing.response_url)
    # A partner's form and buttons on their own action, next to the closed one.
    listing = slack.command(CST, "action status")
    slack.click(CST, find_button(listing.json["blocks"], OPERATION_NOTE, "A-7"))
    slack.submit(CST, stub.view(), {"note": "Visited the steering group"})
    # The chair and the secretariat in the channel, and papers for publication.
    for user, text in [(CHAIR, "rag"), (SECRETARIAT, "rag chart"), (DEPUTY, "rag")]:
        answer = slack.command(user, text)
        assert answer.json["response_type"] == "in_channel"
        answers.append(answer.body)
    for format_ in ("docx", "xlsx", "md"):
        answers.append(slack.command(CHAIR, f"report quarter public format={format_}").body)
    stub.wait_for("files.completeUploadExternal", 4, timeout=30)
    stub.wait_for("views.publish", len(OTHERS), timeout=10)
    # A reminder pass, with CoLP's contact away: their reminder goes to their deputy, a Trading
    # Standards member, who may not read A-12.
    away = f"member add {COLP} away=yes deputy={TRADING}"
    assert not slack.command(SECRETARIAT, away).json.get("text", "").startswith("Only")
    worker = slack_settings(settings, stub)
    client = reminder_client(worker, retry_interval=FAST)
    ReminderSender(board_engine, slack_couriers(client, worker.tz), worker.tz).run_pass(FIVE_DAYS)
    on_behalf = [m for m in stub.delivered(TRADING) if "as deputy for Rob Ellis" in m["text"]]
    assert on_behalf and "A-1 " in on_behalf[0]["text"], "CoLP's reminder went to the deputy"
    entitled_dms = ENTITLED | {"D" + user[1:] for user in ENTITLED}  # a DM by user or channel

    # Public papers on the command line.
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    files = []
    exports = [["export", "--public", "--format", kind] for kind in ("csv", "json", "xlsx", "docx")]
    papers = [
        ["report", "quarterly", "--public", "--format", "md"],
        ["report", "quarterly", "--public", "--format", "xlsx"],
        ["report", "pack", "--public", "--format", "docx"],
        ["report", "chart", "--public"],
    ]
    for argv in exports + papers:  # fmt: skip
        output = tmp_path / f"{'-'.join(argv).replace('--', '')}.out"
        assert main([*argv, "--output", str(output)]) == 0, argv
        files.append(texts_in(output.read_bytes()))
    capsys.readouterr()

    sent = [
        f"{call.path}\n{call.body}\n{call.data}"
        for call in stub.calls
        if call.data.get("channel") not in entitled_dms
    ]
    uploads = [texts_in(data) for data in stub.uploads.values()]
    logs = app_logs.text
    assert len(uploads) == 4 and len(files) == 8 and len(sent) > 20
    for where, texts in [("answers", answers), ("calls to Slack", sent), ("uploads", uploads),
                         ("public files", files), ("logs", [logs])]:  # fmt: skip
        leaks = [text[:300] for text in texts if MARKER in text]
        assert leaks == [], f"confidential text in {where}"
