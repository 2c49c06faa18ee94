"""Two Boards in two Slack workspaces, seeded from the same Annex B but marked apart.

Every text of a Board (areas, issues, actions, barriers, outcomes, lead partners, partner names
and aliases, member names, the Board's name) carries its marker, so anything of one Board that
shows up in the other's traffic, files or logs is found by searching for the marker. Both
Boards have A-1 to A-11; one Slack user is the chair of Alfa and nobody on Zulu, another the
deputy of Alfa and a plain member of Zulu.
"""

import csv
import io
import json
import logging
import re
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlmodel import Session, select

from bot.config import Settings
from bot.couriers import BoardCouriers
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.render.priorities import AREA_BLOCK, NOTE_BLOCK, NOTE_ELEMENT, STANCE_ELEMENT
from bot.worker import TickReport, tick_boards
from handlers.run import run_command
from models.boards import get_board
from models.people import find_partner, save_member
from models.tables import Action, CrimeArea, Partner, PriorityExercise, Role
from tests.conftest import IMPORTED_AT, NOW
from tests.slack_stub import Answer, Call, SlackHarness, SlackStub

ALFA_TEAM, ZULU_TEAM = "T0ALFA", "T0ZULU"
ALFA_MARK, ZULU_MARK = "ALFAMARK", "ZULUMARK"
# One person in both workspaces: the chair of Alfa is nobody on Zulu's Board.
CHAIR_BOTH = "UCHAIRBOTH"
# Another: the deputy chair of Alfa is a plain member (for Trading Standards) on Zulu's.
DEPUTY_BOTH = "UDEPUTYBOTH"
SHARED_USERS = (CHAIR_BOTH, DEPUTY_BOTH)
FAST = FixedValueRetryIntervalCalculator(0.01)


@dataclass(frozen=True)
class Person:
    """A Slack user on one Board: name (without the marker), role, partner (its plain name)."""

    user_id: str
    name: str
    role: Role
    partner: str | None = None


@dataclass
class Side:
    """One workspace and its Board: who is on it, how it is marked, what it sent."""

    team: str
    mark: str
    installer: str
    people: tuple[Person, ...]
    harness: SlackHarness | None = None
    token: str = ""

    @property
    def slug(self) -> str:
        """The Board's slug, as an install makes it."""
        return f"slack-{self.team.lower()}"

    def marked(self, text: str) -> str:
        """A text of this Board's: the marker, a space, the text."""
        return f"{self.mark} {text}"

    def user(self, role: Role, partner: str | None = None) -> str:
        """The Slack user id of the first person with this role (and partner)."""
        return next(p.user_id for p in self.people
                    if p.role == role and (partner is None or p.partner == partner))  # fmt: skip

    def own_ids(self) -> set[str]:
        """The Slack ids only this Board's side has (users, workspace, token, slug)."""
        users = {p.user_id for p in self.people} - set(SHARED_USERS)
        return {*users, self.team, self.token, self.slug}


def alfa_side() -> Side:
    """Board A: the chair and deputy are the people also in Zulu's workspace."""
    return Side(ALFA_TEAM, ALFA_MARK, "UALFASEC", (
        Person("UALFASEC", "Secretary", Role.SECRETARIAT),
        Person(CHAIR_BOTH, "Chair", Role.CHAIR),
        Person(DEPUTY_BOTH, "Deputy", Role.DEPUTY_CHAIR),
        Person("UALFACOLP", "Rob", Role.MEMBER, "City of London Police"),
        Person("UALFATS", "Steve", Role.MEMBER, "Trading Standards"),
        Person("UALFAOBS", "Olive", Role.OBSERVER),
    ))  # fmt: skip


def zulu_side() -> Side:
    """Board B: its own chair; Alfa's deputy is a plain member here; Alfa's chair is nobody."""
    return Side(ZULU_TEAM, ZULU_MARK, "UZULUSEC", (
        Person("UZULUSEC", "Secretary", Role.SECRETARIAT),
        Person("UZULUCHAIR", "Chair", Role.CHAIR),
        Person(DEPUTY_BOTH, "Dual", Role.MEMBER, "Trading Standards"),
        Person("UZULUCOLP", "Rob", Role.MEMBER, "City of London Police"),
        Person("UZULUOBS", "Olive", Role.OBSERVER),
    ))  # fmt: skip


# --- seeding --------------------------------------------------------------------------------


def marked_imports(side: Side, directory: Path) -> tuple[Path, Path]:
    """Annex B and the partners list with every text cell marked for `side`."""
    partners = io.StringIO()
    writer = csv.writer(partners, lineterminator="\n")
    for number, (name, aliases, collective) in enumerate(csv.reader(io.StringIO(
            PARTNERS.read_text("utf-8")))):  # fmt: skip
        if number:
            name = side.marked(name)
            aliases = "|".join(side.marked(a) for a in aliases.split("|") if a)
        writer.writerow([name, aliases, collective])
    rows = list(csv.reader(io.StringIO(ANNEX_B.read_text("utf-8-sig"))))
    marked = [rows[0]]
    for area, issue, leads, action, barriers, outcomes, rag in rows[1:]:
        texts = [issue, action, barriers, outcomes]
        if any(texts) or leads:
            texts = [side.marked(t) if t else side.marked("none") for t in texts]
        leads = "\n".join(";".join(side.marked(n.strip()) for n in line.split(";") if n.strip())
                          for line in leads.splitlines())  # fmt: skip
        issue, action, barriers, outcomes = texts
        marked.append([side.marked(area) if area else "", issue, leads, action, barriers,
                       outcomes, rag])  # fmt: skip
    annex = io.StringIO()
    csv.writer(annex, lineterminator="\n").writerows(marked)
    annex_path, partners_path = directory / f"{side.team}.csv", directory / f"{side.team}-p.csv"
    annex_path.write_text(annex.getvalue(), encoding="utf-8")
    partners_path.write_text(partners.getvalue(), encoding="utf-8")
    return annex_path, partners_path


def seed_side(engine, url: str, side: Side, directory: Path) -> None:
    """Import the marked register into the side's Board, add its people, schedule meetings."""
    settings = Settings(database_url=url, board_slug=side.slug)
    annex, partners = marked_imports(side, directory)
    import_file(engine, settings, annex, now=IMPORTED_AT, partners=partners)
    with Session(engine) as session:
        board = get_board(session=session, slug=side.slug)
        board.name = side.marked("Partnership Board")
        session.add(board)
        for person in side.people:
            partner = person.partner and find_partner(
                session=session, board_id=board.id, text=side.marked(person.partner)
            )
            save_member(session=session, board_id=board.id, external_id=person.user_id,
                        display_name=side.marked(person.name), role=person.role.value,
                        partner_id=partner.id if partner else None, tenant=side.team,
                        now=IMPORTED_AT)  # fmt: skip
        session.commit()
    secretariat = side.user(Role.SECRETARIAT)
    for text in ('meeting schedule "second tuesday 10:00"', "priorities open closes=5/2/2027"):
        reply = run_command(engine=engine, board_slug=side.slug, user_id=secretariat, text=text,
                            now=IMPORTED_AT)  # fmt: skip
        assert not reply.error, (text, reply)


def install(web_app, stub: SlackStub, side: Side) -> None:
    """Install the app into the side's workspace through Slack's OAuth flow, as a person would."""
    browser = web_app.test_client()
    started = browser.get("/slack/install")
    state = re.search(r"state=([^&]+)", started.headers["Location"]).group(1)
    side.token = stub.grant(f"code-{side.team}", side.team, side.marked("Partnership"),
                            side.installer)  # fmt: skip
    answer = browser.get(f"/slack/oauth_redirect?code=code-{side.team}&state={state}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    side.harness = SlackHarness(web_app, stub, side.team)


def board_tick(engine, settings: Settings, now: datetime, slug: str | None = None) -> TickReport:
    """One worker tick over every Board (or one), as `soc-bot worker` runs it: each Board's
    messages through its own workspace's token, found in the installation store."""
    couriers = BoardCouriers(settings, engine, retry_interval=FAST)
    return tick_boards(engine, couriers, now, board_slug=slug)


# --- what the database says ---------------------------------------------------------------------


@dataclass(frozen=True)
class BoardIds:
    """A Board's row ids, to recognise them in option values and buttons."""

    board: int
    areas: frozenset[int]
    partners: frozenset[int]
    exercises: frozenset[int]


def board_ids(engine, slug: str) -> BoardIds:
    """The ids of a Board's rows."""
    with Session(engine) as session:
        board = get_board(session=session, slug=slug)

        def ids(model) -> frozenset[int]:
            return frozenset(session.exec(select(model.id).where(model.board_id == board.id)))

        return BoardIds(board.id, ids(CrimeArea), ids(Partner), ids(PriorityExercise))


def action_row(engine, slug: str, number: int) -> Action:
    """A Board's action by number, as stored."""
    with Session(engine, expire_on_commit=False) as session:
        board = get_board(session=session, slug=slug)
        return session.exec(
            select(Action).where(Action.board_id == board.id, Action.number == number)
        ).one()


# --- recording what one side's traffic was ------------------------------------------------------


class Recorder(logging.Handler):
    """Every log record (at DEBUG, from every logger) as text, while attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name} {record.getMessage()}"
        except Exception:  # noqa: BLE001  (a record that cannot format is still searched)
            text = f"{record.name} {record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        with self._guard:
            self.lines.append(text)


class TrackingExecutor(ThreadPoolExecutor):
    """The app's reply thread pool, counting the work still to finish (Home refreshes, uploads,
    late replies), so a test knows when everything one request set off has reached Slack."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pending = 0
        self._idle = threading.Condition()
        TRACKED.append(self)

    def submit(self, fn, /, *args, **kwargs):
        """Submit `fn`, counted until it has finished."""
        with self._idle:
            self.pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future) -> None:
        with self._idle:
            self.pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no work is pending (or `timeout` passes); whether it is idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self.pending == 0, timeout)


TRACKED: list[TrackingExecutor] = []


def settle(limit: float = 10.0) -> None:
    """Wait until the app's background work is done (twice: work may set off more work)."""
    for _ in range(2):
        for executor in list(TRACKED):
            assert executor.wait_idle(limit), "the app's background work did not finish"


@dataclass
class Exchange:
    """One thing done on one side: its label, the HTTP answer and the calls it caused."""

    label: str
    user: str
    text: str
    answer: Answer | None
    calls: list[Call] = field(default_factory=list)

    def everything(self) -> str:
        """The answer and every call's body, headers and decoded data, for searching."""
        parts = [self.answer.body if self.answer else ""]
        for c in self.calls:
            parts += [c.path, c.body, json.dumps(c.data, ensure_ascii=False), json.dumps(c.headers)]
        return "\n".join(parts)


@dataclass
class Traffic:
    """What one side's activity produced: exchanges, files, log lines."""

    exchanges: list[Exchange] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # name -> its text (zip members read)
    logs: list[str] = field(default_factory=list)

    def run(self, stub: SlackStub, label: str, user: str, text: str,
            act: Callable[[], Answer | None]) -> Exchange:  # fmt: skip
        """Do `act`, wait for its background work, and keep it with the calls it caused."""
        before = len(stub.calls)
        answer = act()
        answer = answer if isinstance(answer, Answer) else None  # a pass's report is no answer
        settle()
        exchange = Exchange(label, user, text, answer, list(stub.calls[before:]))
        self.exchanges.append(exchange)
        return exchange

    def corpus(self) -> str:
        """Everything, as one text."""
        return "\n".join([*(e.everything() for e in self.exchanges), *self.files.values(),
                          *self.logs])  # fmt: skip


def file_text(data: bytes) -> str:
    """A file's text: a Word or Excel file's XML with its tags removed (runs joined), else the
    bytes decoded."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                            if n.endswith((".xml", ".rels")))  # fmt: skip
        return re.sub(r"<[^>]+>", "", xml) + "\n" + xml
    return data.decode("utf-8", "replace")


def leaks(text: str, other: Side) -> list[str]:
    """What of `other` appears in `text`: its marker or its own ids (case-insensitive)."""
    folded = text.casefold()
    found = [s for s in (other.mark, *other.own_ids()) if s and s.casefold() in folded]
    return sorted(found)


def submit_answer(harness: SlackHarness, user_id: str, view: dict, choices: dict[int, str],
                  note: str) -> Answer:  # fmt: skip
    """Submit a priorities answer form as Slack does (radio buttons per area, a note)."""
    values = {f"{AREA_BLOCK}{area_id}": {STANCE_ELEMENT: {
        "type": "radio_buttons", "selected_option": {"value": stance}}}
        for area_id, stance in choices.items()}  # fmt: skip
    values[NOTE_BLOCK] = {NOTE_ELEMENT: {"type": "plain_text_input", "value": note}}
    payload = {
        "type": "view_submission", "team": {"id": harness.team}, "user": {"id": user_id},
        "api_app_id": "A0SOCBOT", "token": "deprecated", "trigger_id": "1337.44.answer",
        "view": {**view, "id": view.get("id", "VMODAL"), "state": {"values": values}},
    }  # fmt: skip
    return harness.post(urlencode({"payload": json.dumps(payload)}),
                        "application/x-www-form-urlencoded")  # fmt: skip


class Clock:
    """A clock a test moves: the web app reads it on every request."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
