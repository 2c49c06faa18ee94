"""Two Boards sealed from each other: everything one Board's people can do shows nothing of the
other's, and the chair of one is a stranger to the next.

Both Boards are installed through Slack's OAuth flow into their own workspaces and seeded from the
same Annex B (both have A-1 to A-11), every text of each marked with its own marker. Board A's
people then use every `/soc` command (taken from the command table, so a new command is used too),
every control and form, the Home tab, the reminder and priorities passes and the exports; nothing
the app sent, uploaded, exported or logged meanwhile names Board B. A sample of Board B's own
use shows nothing of A. On PostgreSQL the commands also run under row-level security.
"""

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.cli.main import main as cli_main
from bot.config import Settings
from bot.slack import ids as slack_ids
from bot.slack.render.priorities import ANSWER_VIEW, AREA_BLOCK
from bot.slack.server import create_wsgi_app
from handlers.commands import COMMANDS
from models.db import make_engine
from models.migrate import upgrade
from models.tables import Action, ActionChange, PriorityAnswer, Role
from tests.board_fixtures import (
    CHAIR_BOTH,
    DEPUTY_BOTH,
    Clock,
    Recorder,
    Side,
    TrackingExecutor,
    Traffic,
    action_row,
    alfa_side,
    board_ids,
    board_tick,
    file_text,
    install,
    leaks,
    seed_side,
    settle,
    submit_answer,
    zulu_side,
)
from tests.conftest import NOW
from tests.model_fixtures import EACH_KIND, database_of_kind
from tests.slack_fixtures import find_button, rag_option
from tests.slack_stub import SlackStub, buttons_in, install_settings

REMINDED_AT = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)  # 5 working days before Tue 9 Feb
DIGEST_AT = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)  # the last point: the chair's digest too
# Both Boards due at once: Zulu's 9 March meeting's last point; Alfa's moved meeting's first.
FORGED = "FORGED across Boards"
BOTH_DUE_AT = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)

A = alfa_side()
SEC, CHAIR, DEPUTY = A.user(Role.SECRETARIAT), CHAIR_BOTH, DEPUTY_BOTH
COLP, TS, OBS = A.user(Role.MEMBER, "City of London Police"), A.user(Role.MEMBER,
                 "Trading Standards"), A.user(Role.OBSERVER)  # fmt: skip


def mark(text: str) -> str:
    return A.marked(text)


# (command, who, text, when): what Board A's people type, for each command of the table. "later"
# runs after the priorities pass (closing the exercise first would leave nothing to send).
SCRIPT: list[tuple[str, str, str, str]] = [
    ("help", COLP, "help", "first"),
    ("help", CHAIR, "help action", "first"),
    ("action status", COLP, "action status", "first"),
    ("action status", CHAIR, "action status all", "first"),
    ("action status", CHAIR, "action status A-1", "first"),
    ("action status", CHAIR, f"action status area {mark('Cyber attack')}", "first"),
    ("action status", CHAIR, f'action status partner "{mark("CoLP")}"', "first"),
    ("action status", CHAIR, "action status overdue", "first"),
    (
        "action add",
        SEC,
        f'action add area="{mark("Cyber attack")}" lead="{mark("CoLP")}" '
        f'title="{mark("typed action")}" barriers="{mark("typed barrier")}"',
        "first",
    ),
    ("action update", COLP, f'action update A-1 rag=green note="{mark("typed note")}"', "first"),
    ("action update", CHAIR, "action update A-1 due=31/03/2027", "first"),
    ("action edit", COLP, "action edit A-1", "first"),
    ("action done", COLP, f'action done A-12 note="{mark("typed outcome")}"', "first"),
    ("action note", COLP, f"action note A-1 {mark('met the analysts')}", "first"),
    ("action history", CHAIR, "action history A-1", "first"),
    ("rag", CHAIR, "rag", "first"),
    ("rag", COLP, "rag", "first"),
    ("rag", CHAIR, "rag private", "first"),
    ("rag chart", CHAIR, "rag chart", "first"),
    ("report quarter", CHAIR, "report quarter 2027Q1", "first"),
    ("report quarter", CHAIR, "report quarter 2027Q1 format=xlsx", "first"),
    ("report quarter", SEC, "report quarter 2027Q1 format=md", "first"),
    ("report quarter", SEC, "report quarter 2027Q1 public format=md", "first"),
    ("area list", COLP, "area list", "first"),
    ("area add", SEC, f'area add "{mark("Harbour crime")}"', "first"),
    (
        "member add",
        SEC,
        f'member add <@UALFANEW|alfanew> name="{mark("Newcomer")}" role=member '
        f'partner="{mark("NCA")}"',
        "first",
    ),
    ("member list", CHAIR, "member list", "first"),
    ("partner add", SEC, f'partner add "{mark("Port Authority")}" aliases="{mark("PA")}"', "first"),
    ("partner list", COLP, "partner list", "first"),
    ("meeting next", COLP, "meeting next", "first"),
    ("meeting list", COLP, "meeting list", "first"),
    ("meeting schedule", SEC, 'meeting schedule "second tuesday 10:00"', "first"),
    ("meeting move", SEC, "meeting move 9/3/2027 to 10/3/2027 10:00", "first"),
    ("meeting cancel", SEC, "meeting cancel 13/4/2027", "first"),
    ("meeting add", SEC, "meeting add 20/5/2027 10:00", "first"),
    ("meeting reminders", COLP, "meeting reminders", "first"),
    ("meeting reminders", SEC, "meeting reminders 5,1 at 09:00", "first"),
    ("board", COLP, "board", "first"),
    (
        "board settings",
        SEC,
        f'board settings name="{mark("Board renamed")}" reminders=5,1',
        "first",
    ),
    ("priorities", COLP, "priorities", "first"),
    ("priorities open", SEC, "priorities open closes=5/2/2027", "first"),
    (
        "priorities answer",
        COLP,
        f'priorities answer area="Cyber attack" lead note="{mark("fraud first")}"',
        "first",
    ),
    (
        "priorities answer",
        SEC,
        f'priorities answer cyber=contribute partner="{mark("TS")}"',
        "first",
    ),
    ("priorities results", CHAIR, "priorities results", "first"),
    ("priorities results", COLP, "priorities results private", "first"),
    (
        "priorities set",
        CHAIR,
        "priorities set Cyber attack, Fraud and cyber enabled crime, Blackmail and kidnap",
        "first",
    ),
    ("priorities extend", CHAIR, "priorities extend closes=12/2/2027", "later"),
    ("priorities close", CHAIR, "priorities close", "later"),
]


def full_script() -> list[tuple[str, str, str, str]]:
    """The script, plus a bare run (as the chair) of any command it does not name yet."""
    named = {name for name, *_ in SCRIPT}
    return SCRIPT + [(c.name, CHAIR, c.name, "first") for c in COMMANDS if c.name not in named]


# --- the world: two Boards, Board A driven through everything ------------------------------------


@pytest.fixture(scope="module", params=EACH_KIND)
def database(request, tmp_path_factory):
    """An empty database of each kind (PostgreSQL: a fresh one, with row-level security)."""
    with database_of_kind(
        request.param, tmp_path_factory.mktemp("isolation"), "soc_isolation"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def world(database, tmp_path_factory):
    """Both Boards installed and seeded; Board A used in every way, Board B in a sample."""
    directory = tmp_path_factory.mktemp("world")
    engine = make_engine(database)
    upgrade(engine)
    stub = SlackStub().start()
    clock = Clock(NOW)
    settings = install_settings(Settings(database_url=database), stub)
    alfa, zulu = alfa_side(), zulu_side()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SOC_BOARD"):
            patch.delenv(name, raising=False)
        patch.setattr("bot.slack.app.ThreadPoolExecutor", TrackingExecutor)
        web_app = create_wsgi_app(settings, engine=engine, clock=clock)
        for side in (alfa, zulu):
            install(web_app, stub, side)
            seed_side(engine, database, side, directory)
        before = {
            "alfa": action_row(engine, alfa.slug, 1),
            "zulu": action_row(engine, zulu.slug, 1),
        }
        traffic = {"alfa": Traffic(), "zulu": Traffic(), "cross": Traffic(), "both": Traffic()}
        recorder = _start_recording()
        try:
            drive_alfa(traffic["alfa"], alfa, zulu, stub, engine, settings, clock, directory,
                       patch, database)  # fmt: skip
            traffic["alfa"].logs = _take(recorder)
            clock.now = NOW
            drive_zulu_sample(traffic["zulu"], zulu, stub, engine, settings, clock)
            traffic["zulu"].logs = _take(recorder)
            clock.now = NOW
            drive_across(traffic["cross"], alfa, zulu, stub, engine)
            traffic["cross"].logs = _take(recorder)
            tick(traffic["both"], stub, engine, settings, BOTH_DUE_AT)
        finally:
            _stop_recording(recorder)
    yield {"engine": engine, "stub": stub, "alfa": alfa, "zulu": zulu, "traffic": traffic,
           "before": before}  # fmt: skip
    stub.stop()
    engine.dispose()


def _start_recording() -> Recorder:
    recorder = Recorder()
    root = logging.getLogger()
    recorder.previous_level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    return recorder


def _take(recorder) -> list[str]:
    lines, recorder.lines = recorder.lines, []
    return lines


def _stop_recording(recorder) -> None:
    root = logging.getLogger()
    root.removeHandler(recorder)
    root.setLevel(recorder.previous_level)


def command(traffic: Traffic, side: Side, stub, user: str, text: str, label: str = ""):
    """Type `/soc text` in the side's workspace; the exchange."""
    return traffic.run(stub, label or text, user, text, lambda: side.harness.command(user, text))


def click(traffic: Traffic, side: Side, stub, label: str, user: str, control: dict, **options):
    """Use a control in the side's workspace; the exchange."""
    return traffic.run(stub, label, user, control.get("action_id", ""),
                       lambda: side.harness.click(user, control, **options))  # fmt: skip


def submit(traffic: Traffic, side: Side, stub, label: str, user: str, view: dict, answers=None):
    """Submit a form in the side's workspace; the exchange."""
    return traffic.run(stub, label, user, view.get("callback_id", ""),
                       lambda: side.harness.submit(user, view, answers))  # fmt: skip


def item_controls(traffic, side, stub, user: str, ref: str) -> list[dict]:
    """The controls of one action, drawn now (`action status <ref>`)."""
    shown = command(traffic, side, stub, user, f"action status {ref}")
    return [b for b in buttons_in(shown.answer.json.get("blocks", []))
            if slack_ids.block_ref(b["block_id"]) == ref]  # fmt: skip


def control(controls: list[dict], action_id: str) -> dict:
    return next(c for c in controls if c["action_id"] == action_id)


def last_view(stub) -> dict:
    """The modal opened last, as it is now (after its loading view was filled in)."""
    [*_, last] = [c for c in stub.calls if c.method in ("views.open", "views.update")]
    method = last.method
    return stub.view(method)


def tick(traffic: Traffic, stub, engine, settings, at: datetime, slug: str | None = None):
    """One worker pass at `at` (over every Board, or the one named); the exchange."""
    return traffic.run(stub, "worker tick", "", "", lambda: board_tick(engine, settings, at, slug))


def keep_uploads(traffic: Traffic, stub) -> None:
    """Once the app's background work is done, keep the text of each file its exchanges uploaded."""
    settle()
    for call in stub.calls_to("upload"):
        if any(call in e.calls for e in traffic.exchanges):
            traffic.files[f"upload {call.path}"] = file_text(stub.uploads[call.path])


def open_home(traffic, side, stub, user: str) -> dict:
    """Open the Home tab as `user`; the view published."""
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
             "event_ts": "1.1"}  # fmt: skip
    traffic.run(stub, "home", user, "app_home_opened", lambda: side.harness.event(event))
    return stub.view("views.publish")


def drive_alfa(traffic, alfa, zulu, stub, engine, settings, clock, directory, patch, url):
    """Everything Board A's people can do, in Board A's workspace."""
    script = full_script()
    for name, user, text, when in script:
        if when == "first":
            command(traffic, alfa, stub, user, text, name)
    # The priorities exercise's invitations, and answering from one.
    tick(traffic, stub, engine, settings, NOW, alfa.slug)
    invitation = next(
        m
        for m in stub.delivered(COLP)
        if "blocks" in m
        and any(b["action_id"] == slack_ids.ANSWER_BUTTON for b in buttons_in(m["blocks"] or []))
    )
    answer = next(b for b in buttons_in(invitation["blocks"])
                  if b["action_id"] == slack_ids.ANSWER_BUTTON)  # fmt: skip
    click(traffic, alfa, stub, "priorities answer button", COLP, answer, message=invitation)
    form = last_view(stub)
    areas = [int(b["block_id"].removeprefix(AREA_BLOCK)) for b in form["blocks"]
             if b.get("block_id", "").startswith(AREA_BLOCK)]  # fmt: skip
    traffic.run(
        stub,
        "priorities answer form",
        COLP,
        ANSWER_VIEW,
        lambda: submit_answer(alfa.harness, COLP, form, {areas[0]: "lead"}, mark("clicked answer")),
    )
    for name, user, text, when in script:
        if when == "later":
            command(traffic, alfa, stub, user, text, name)
    drive_alfa_controls(traffic, alfa, stub)
    # Home for everyone, and a colour chosen on it.
    for user in (CHAIR, SEC, COLP, TS, OBS, DEPUTY):
        home = open_home(traffic, alfa, stub, user)
    home = open_home(traffic, alfa, stub, COLP)
    select_ = find_button(home["blocks"], slack_ids.OPERATION_RAG)
    click(traffic, alfa, stub, "home rag", COLP, select_, home=home,
          choose=rag_option(select_, "amber"))  # fmt: skip
    # The reminder passes, and a colour chosen in a reminder.
    clock.now = REMINDED_AT
    tick(traffic, stub, engine, settings, REMINDED_AT, alfa.slug)
    reminder = stub.delivered(COLP)[-1]
    select_ = find_button(reminder["blocks"], slack_ids.OPERATION_RAG)
    click(traffic, alfa, stub, "reminder rag", COLP, select_, message=reminder,
          choose=rag_option(select_, "green"))  # fmt: skip
    clock.now = DIGEST_AT
    tick(traffic, stub, engine, settings, DIGEST_AT, alfa.slug)
    keep_uploads(traffic, stub)
    # The operator's exports of Board A.
    patch.setenv("DATABASE_URL", url)
    for fmt in ("csv", "json", "xlsx", "docx"):
        output = directory / f"alfa.{fmt}"
        code = cli_main(["board", "export", alfa.slug, "--format", fmt, "--output", str(output)])
        assert code == 0, fmt
        traffic.files[f"export {fmt}"] = file_text(output.read_bytes())
    # `soc-bot` sets the root logger's level from SOC_LOG_LEVEL; keep recording everything.
    logging.getLogger().setLevel(logging.DEBUG)


def drive_alfa_controls(traffic, alfa, stub):
    """Every control of an action and every form, as Board A's people use them."""
    controls = item_controls(traffic, alfa, stub, COLP, "A-1")
    select_ = control(controls, slack_ids.OPERATION_RAG)
    click(traffic, alfa, stub, "rag select", COLP, select_, choose=rag_option(select_, "red"))
    controls = item_controls(traffic, alfa, stub, COLP, "A-1")
    click(traffic, alfa, stub, "due picker", COLP, control(controls, slack_ids.OPERATION_DUE),
          choose="2027-04-30")  # fmt: skip
    controls = item_controls(traffic, alfa, stub, COLP, "A-1")
    click(traffic, alfa, stub, "note button", COLP, control(controls, slack_ids.OPERATION_NOTE))
    submit(traffic, alfa, stub, "note form", COLP, last_view(stub),
           {"note": mark("clicked note")})  # fmt: skip
    controls = item_controls(traffic, alfa, stub, COLP, "A-1")
    click(traffic, alfa, stub, "edit button", COLP, control(controls, slack_ids.OPERATION_UPDATE))
    submit(traffic, alfa, stub, "edit form", COLP, last_view(stub),
           {"barriers": mark("clicked barrier")})  # fmt: skip
    controls = item_controls(traffic, alfa, stub, COLP, "A-1")
    click(traffic, alfa, stub, "done button", COLP, control(controls, slack_ids.OPERATION_DONE))
    submit(traffic, alfa, stub, "done form", COLP, last_view(stub),
           {"outcome": mark("clicked outcome")})  # fmt: skip
    # Paging through the whole register.
    listing = command(traffic, alfa, stub, CHAIR, "action status all")
    following = find_button(listing.answer.json["blocks"], slack_ids.PAGE_NEXT)
    click(
        traffic, alfa, stub, "next page", CHAIR, following, response_url=listing.answer.response_url
    )
    # The add form, filled in with Board A's own area and partner; the edit form of A-2.
    command(traffic, alfa, stub, SEC, "action add", "action add form")
    form = last_view(stub)
    area, lead = _first_option(form, "area"), _first_option(form, "lead")
    submit(traffic, alfa, stub, "add form", SEC, form,
           {"area": area, "lead": [lead], "title": mark("form action")})  # fmt: skip
    command(traffic, alfa, stub, CHAIR, "action edit A-2", "action edit form")
    submit(traffic, alfa, stub, "edit form (chair)", CHAIR, last_view(stub),
           {"outcomes": mark("form outcome")})  # fmt: skip


def _first_option(form: dict, key: str) -> str:
    block = next(b for b in form["blocks"] if b.get("block_id") == slack_ids.FIELD_BLOCK + key)
    return block["element"]["options"][0]["value"]


def drive_zulu_sample(traffic, zulu, stub, engine, settings, clock):
    """A sample of Board B's own use, in Board B's workspace."""
    chair, colp = zulu.user(Role.CHAIR), zulu.user(Role.MEMBER, "City of London Police")
    for user, text in ((chair, "action status all"), (chair, "rag"), (colp, "action status"),
                       (chair, "member list"), (colp, "partner list"), (colp, "area list"),
                       (chair, "report quarter 2027Q1 format=md"), (chair, "rag chart"),
                       (chair, "priorities results"), (colp, "meeting list"),
                       (colp, "action history A-1"), (colp, "board")):  # fmt: skip
        command(traffic, zulu, stub, user, text)
    command(traffic, zulu, stub, colp, "action edit A-1", "action edit form")
    open_home(traffic, zulu, stub, colp)
    for at in (NOW, REMINDED_AT):
        tick(traffic, stub, engine, settings, at, zulu.slug)
    keep_uploads(traffic, stub)


def drive_across(traffic, alfa, zulu, stub, engine):
    """Board A's chair and deputy in Board B's workspace; Board B's ids forged in Board A's."""
    for user in (CHAIR_BOTH, DEPUTY_BOTH):
        for text in ("rag", "action update A-1 rag=red", "action status A-1", "member list"):
            command(traffic, zulu, stub, user, text, f"{user} in B: {text}")
        open_home(traffic, zulu, stub, user)
    theirs = board_ids(engine, zulu.slug)
    area, partner, exercise = min(theirs.areas), min(theirs.partners), min(theirs.exercises)
    # The add form, its options forged to Board B's area and partner ids.
    command(traffic, alfa, stub, SEC, "action add", "forged form")
    form = last_view(stub)
    for block in form["blocks"]:
        if block.get("block_id") in (
            slack_ids.FIELD_BLOCK + "area",
            slack_ids.FIELD_BLOCK + "lead",
        ):
            value = area if block["block_id"].endswith("area") else partner
            block["element"]["options"] = [{"text": {"type": "plain_text", "text": "x"},
                                            "value": str(value)}]  # fmt: skip
    submit(traffic, alfa, stub, "forged form", SEC, form,
           {"area": str(area), "lead": [str(partner)], "title": FORGED})  # fmt: skip
    # Board B's priorities exercise and partner, forged into an Answer button and its form.
    forged = {"action_id": slack_ids.ANSWER_BUTTON, "value": f"{exercise}:{partner}",
              "text": {"type": "plain_text", "text": "Answer"}}  # fmt: skip
    click(traffic, alfa, stub, "forged answer", CHAIR, forged)
    view = {"type": "modal", "callback_id": ANSWER_VIEW, "private_metadata": forged["value"]}
    traffic.run(
        stub,
        "forged answer",
        CHAIR,
        ANSWER_VIEW,
        lambda: submit_answer(alfa.harness, CHAIR, view, {area: "lead"}, FORGED),
    )


# --- the tests ---------------------------------------------------------------------------------


def exchanges(world, side: str, label: str | None = None):
    found = [e for e in world["traffic"][side].exchanges if label in (None, e.label)]
    assert found, label
    return found


def assert_names_nothing_of(traffic: Traffic, other: Side) -> None:
    """No exchange, file or log line of `traffic` names anything of the `other` Board."""
    for exchange in traffic.exchanges:
        found = leaks(exchange.everything(), other)
        assert not found, (exchange.label, exchange.text, found)
    for name, text in traffic.files.items():
        assert not leaks(text, other), name
    for line in traffic.logs:
        assert not leaks(line, other), line


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_of_board_a_shows_nothing_of_board_b(world, name):
    zulu = world["zulu"]
    for exchange in exchanges(world, "alfa", name):
        text = exchange.everything()
        assert exchange.answer.status == 200, (exchange.text, exchange.answer.body)
        assert not leaks(text, zulu), (exchange.text, leaks(text, zulu))


def test_board_a_really_ran_its_commands(world):
    """The drive was not a string of refusals: A's own texts came back, changes were made."""
    alfa = world["traffic"]["alfa"]
    texts = {e.text: e.everything() for e in alfa.exchanges}
    for text in ("action status all", "rag", "member list", "partner list", "area list"):
        assert "ALFAMARK" in texts[text], text
    a1 = action_row(world["engine"], world["alfa"].slug, 1)
    assert a1.version > world["before"]["alfa"].version
    assert a1.rag == "blue"  # marked complete through the form
    assert action_row(world["engine"], world["alfa"].slug, 13).issue == mark("form action")


def test_nothing_board_a_did_anywhere_names_board_b(world):
    alfa = world["traffic"]["alfa"]
    assert_names_nothing_of(alfa, world["zulu"])
    assert not leaks(alfa.corpus(), world["zulu"])


def test_board_a_traffic_used_board_a_token_only(world):
    alfa, zulu = world["alfa"], world["zulu"]
    tokens = {c.headers.get("authorization") for e in world["traffic"]["alfa"].exchanges
              for c in e.calls if c.method not in ("response", "upload")}  # fmt: skip
    assert tokens == {f"Bearer {alfa.token}"}
    assert zulu.token not in world["traffic"]["alfa"].corpus()


def test_board_a_files_were_searched_and_hold_board_a(world):
    files = world["traffic"]["alfa"].files
    exports = {name for name in files if name.startswith("export")}
    assert exports == {"export csv", "export json", "export xlsx", "export docx"}
    uploads = [name for name in files if name.startswith("upload")]
    assert len(uploads) >= 6  # four reports, the RAG chart, the priorities chart
    texts = [t for t in files.values() if "ALFAMARK" in t]
    assert len(texts) >= len(exports) + 4  # every report and export names Board A's actions


def test_board_a_dms_and_reminders_went_to_board_a_people_only(world):
    stub, alfa, zulu = world["stub"], world["alfa"], world["zulu"]
    alfa_calls = [c for e in world["traffic"]["alfa"].exchanges for c in e.calls]
    to = {c.data.get("channel") or c.data.get("user_id") or c.data.get("users")
          for c in alfa_calls if c.method in ("chat.postMessage", "views.publish",
                                              "conversations.open")}  # fmt: skip
    people = {p.user_id for p in alfa.people} | {"UALFANEW"}
    allowed = people | {"D" + u[1:] for u in people} | {"C0BOARD"}
    assert to - {None} <= allowed, to - allowed
    reminded = [c for c in alfa_calls if c.method == "chat.postMessage"]
    assert reminded and not any(leaks(c.body, zulu) for c in reminded)
    assert any("ALFAMARK" in json.dumps(m) for m in stub.delivered(COLP))


def test_board_a_forms_offer_only_board_a_areas_and_partners(world):
    engine, alfa, zulu = world["engine"], world["alfa"], world["zulu"]
    mine, theirs = board_ids(engine, alfa.slug), board_ids(engine, zulu.slug)
    views = [c for e in world["traffic"]["alfa"].exchanges for c in e.calls
             if c.method in ("views.open", "views.update")]  # fmt: skip
    checked = 0
    for call in views:
        view = call.data["view"]
        view = json.loads(view) if isinstance(view, str) else view
        for block in view.get("blocks", []):
            block_id = block.get("block_id", "")
            if block_id in (slack_ids.FIELD_BLOCK + "area", slack_ids.FIELD_BLOCK + "lead"):
                values = {int(o["value"]) for o in block["element"]["options"]}
                pool = mine.areas if block_id.endswith("area") else mine.partners
                assert values <= pool and not values & (theirs.areas | theirs.partners) - pool
                checked += 1
            if block_id.startswith(AREA_BLOCK):
                assert int(block_id.removeprefix(AREA_BLOCK)) in mine.areas
                checked += 1
    assert checked >= 4


def test_board_b_sample_shows_nothing_of_board_a(world):
    traffic = world["traffic"]["zulu"]
    assert_names_nothing_of(traffic, world["alfa"])
    assert "ZULUMARK" in traffic.corpus()
    assert any(name.startswith("upload") for name in traffic.files)


def test_the_chair_of_a_is_a_stranger_to_b(world):
    zulu = world["zulu"]
    for text in ("rag", "action update A-1 rag=red", "action status A-1", "member list"):
        [exchange] = exchanges(world, "cross", f"{CHAIR_BOTH} in B: {text}")
        answer = exchange.answer.json
        assert answer["response_type"] == "ephemeral", text
        assert "secretariat" in answer["text"].casefold(), answer["text"]
        assert "ZULUMARK" not in exchange.everything() and "ALFAMARK" not in exchange.everything()
        assert not [c for c in exchange.calls if c.method == "chat.postMessage"]
    [home] = exchanges(world, "cross", "home")[:1]
    assert "ZULUMARK" not in home.everything()
    assert zulu.team  # the requests did come from Board B's workspace
    assert all(c.headers.get("authorization") in (None, f"Bearer {zulu.token}")
               for e in world["traffic"]["cross"].exchanges if not e.label.startswith("forged")
               for c in e.calls
               if c.method not in ("response", "upload"))  # fmt: skip


def test_the_deputy_of_a_is_a_plain_member_in_b(world):
    rag = exchanges(world, "cross", f"{DEPUTY_BOTH} in B: rag")[0]
    assert rag.answer.json["response_type"] == "ephemeral"  # a member's view, not posted
    assert "ZULUMARK" in rag.everything() and "ALFAMARK" not in rag.everything()
    update = exchanges(world, "cross", f"{DEPUTY_BOTH} in B: action update A-1 rag=red")[0]
    assert "⚠" in update.answer.json["text"] or "only" in update.answer.json["text"].casefold()
    listing = exchanges(world, "cross", f"{DEPUTY_BOTH} in B: action status A-1")[0]
    assert not buttons_in(listing.answer.json.get("blocks", []))  # nothing B lets them change


def test_one_worker_tick_over_both_boards_keeps_each_to_its_own(world):
    alfa, zulu = world["alfa"], world["zulu"]
    [tick] = world["traffic"]["both"].exchanges
    sent = {alfa.token: [], zulu.token: []}
    for call in tick.calls:
        if call.method in ("chat.postMessage", "conversations.open", "conversations.history"):
            sent[call.headers["authorization"].removeprefix("Bearer ")].append(call)
    assert sent[alfa.token] and sent[zulu.token]
    for side, other in ((alfa, zulu), (zulu, alfa)):
        people = {p.user_id for p in side.people} | {"UALFANEW"}
        for call in sent[side.token]:
            assert not leaks(call.body, other), (side.team, call.body[:200])
            to = call.data.get("channel") or call.data.get("users")
            assert to in people | {"D" + u[1:] for u in people}, (side.team, to)
        assert any(side.mark in c.body for c in sent[side.token])


def test_board_b_ids_forged_into_board_a_controls_change_nothing(world):
    engine = world["engine"]
    for label in ("forged form", "forged answer"):
        for exchange in exchanges(world, "cross", label):
            assert not leaks(exchange.everything(), world["zulu"]), label
            assert exchange.answer.status == 200
    zulu = board_ids(engine, world["zulu"].slug)
    with Session(engine) as session:
        forged = session.exec(select(Action).where(Action.issue == FORGED)).all()
        answers = session.exec(select(PriorityAnswer).where(
            PriorityAnswer.exercise_id.in_(zulu.exercises))).all()  # fmt: skip
    assert forged == [] and answers == []


def test_changing_a1_in_a_leaves_b_a1_untouched(world):
    engine, alfa, zulu = world["engine"], world["alfa"], world["zulu"]
    was = world["before"]["zulu"]
    now = action_row(engine, zulu.slug, 1)
    assert (now.rag, now.due_date, now.version, now.barriers, now.outcomes, now.updated_at) == (
        was.rag,
        was.due_date,
        was.version,
        was.barriers,
        was.outcomes,
        was.updated_at,
    )
    assert now.issue.startswith("ZULUMARK")
    changed = action_row(engine, alfa.slug, 1)
    assert changed.version > world["before"]["alfa"].version and changed.issue.startswith(
        "ALFAMARK"
    )
    with Session(engine) as session:
        history = session.exec(select(ActionChange).where(ActionChange.action_id == now.id)).all()
    assert all("ALFAMARK" not in f"{c.old_value}{c.new_value}{c.note}{c.actor_name}"
               for c in history)  # fmt: skip
