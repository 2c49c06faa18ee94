"""No personal data about residents or suspects in the register unless the secretariat allows it."""

import json

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from bot.slack.ids import OPERATION_NOTE
from handlers.personal_data import find_personal_data
from models.tables import Action, ActionChange
from tests.conftest import CHAIR, COLP, CST, DEPUTY, OBSERVER, SECRETARIAT
from tests.permission_fixtures import ask, board, snapshot  # noqa: F401
from tests.slack_fixtures import find_button, modal_ids

pytest_plugins = ("tests.slack_fixtures",)

# (text, kind): one of each rule, in the forms people type them.
PERSONAL = [
    ("Call the resident on 07700 900123", "a phone number"),
    ("mobile +44 7700 900123", "a phone number"),
    ("landline (020) 7946 0000", "a phone number"),
    ("ring +44 (0)20 7946 0000 after 6", "a phone number"),
    ("her number is 01632 960001", "a phone number"),
    ("ref 12 07700 900123", "a phone number"),
    ("077 009 001 23", "a phone number"),
    ("email jo.bloggs@example.com for details", "an email address"),
    ("<mailto:jo@example.org|jo@example.org>", "an email address"),
    ("NI number JM 12 34 56 C", "a National Insurance number"),
    ("ni: AB123456C", "a National Insurance number"),
    ("suspect DOB 01/02/1990", "a date of birth"),
    ("d.o.b. 1 Feb 1990", "a date of birth"),
    ("date of birth: 1990-02-01", "a date of birth"),
    ("born 3rd March 1985 in Leeds", "a date of birth"),
    ("lives at 12 Acacia Avenue", "a home address"),
    ("visited 221B baker street twice", "a home address"),
    ("14 High St, London", "a home address"),
    ("Flat 3, Bell House", "a home address"),
    ("12 Bell Lane, London E1 7LA", "a home address"),
    ("at number 7, EC2V 7HH", "a home address"),
]
# Text the register does hold: dates, references, organisations' numbers and addresses, ranges.
NOT_PERSONAL = [
    "Reward businesses that are cyber compliant e.g. ISO9000",
    "See A-12 and A-3",
    "due 31/03/2027",
    "2027-01-31",
    "Criminal Finances Bill 2016-17 will allow more time",
    "2017-18 figures",
    "0800",
    "Crimestoppers 0800 555 111",
    "call 0800 123 4567 or 0300 123 1212",
    "phone 101 or 999",
    "Operation Broadway, Op Servator, Project Eclipse",
    "Identifying City residents – live on their own/over 65",
    "Names and addresses",
    "meeting at 10:00 at Guildhall EC2V 7HH",
    "Guildhall, London EC2V 7HH",
    "07:30 to 09:00",
    "£1,000,000 frozen",
    "version 2.0.1",
    "in 3 weeks",
    "5 working days before each meeting",
    "Room 101",
    "Share 2 new posters",
    "Rule FREQ=MONTHLY;BYDAY=+2TU;BYHOUR=10",
    "0 1 2 3 4 5 6 7 8 9 0",
]


@pytest.mark.parametrize("text, kind", PERSONAL, ids=[t for t, _ in PERSONAL])
def test_personal_data_is_recognised(text, kind):
    assert kind in [k for k, _ in find_personal_data(text)]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_ordinary_register_text_is_not_mistaken_for_personal_data(text):
    assert find_personal_data(text) == []


def test_the_annex_b_register_has_none():
    from bot.setup import ANNEX_B

    assert find_personal_data(ANNEX_B.read_text(encoding="utf-8")) == []


def test_checking_time_grows_linearly_with_the_text():
    """No pattern backtracks catastrophically: 4x the text costs about 4x the time, not 16x.

    A ratio of best-of-three timings, rather than a wall-clock limit, so a loaded machine (CI)
    does not fail it while a quadratic or worse pattern still would.
    """
    import time

    def best_time(text: str) -> float:
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            found = find_personal_data(text)
            timings.append(time.perf_counter() - started)
        assert ("a phone number", "07700 900123") in found
        return min(timings)

    for filler in ("1 2 3 4 5 6 7 8 9 0 ", "12 ", "Flat 1 Acacia ", "a@", "DOB "):
        short, long = ((filler * 8000)[:n] + " 07700 900123" for n in (1980, 7980))
        assert best_time(long) < 10 * best_time(short) + 0.01, filler


PHONE = "07700 900123"
TYPED = [
    (SECRETARIAT, f'action add area=cyber lead=CoLP title="Visit" action="Ring {PHONE}"'),
    (SECRETARIAT, f'action add area=cyber lead=CoLP title="Visit" note="Ring {PHONE}"'),
    (COLP, 'action update A-1 barriers="Resident at 12 Acacia Avenue"'),
    (COLP, 'action update A-1 rag=green note="suspect DOB 01/02/1990"'),
    (COLP, 'action update A-1 title="Contact jo.bloggs@example.com"'),
    (COLP, f'action done A-1 note="Handed to the resident on {PHONE}"'),
    (COLP, "action note A-1 NI number JM 12 34 56 C"),
]


@pytest.mark.parametrize("user, text", TYPED, ids=[t.split("=")[0] for _, t in TYPED])
def test_typed_personal_data_is_refused_and_nothing_changes(ask, board, user, text):  # noqa: F811
    before = snapshot(board)
    reply = ask(user, text)
    assert reply.error
    assert reply.title.startswith("That looks like personal data")
    assert "\n" not in reply.title and "case system" in reply.hint
    assert "allow_personal=yes" in reply.hint
    assert snapshot(board) == before


@pytest.mark.parametrize("user", [COLP, CST, OBSERVER], ids=["colp", "cst", "observer"])
def test_only_the_secretariat_can_allow_personal_data(ask, board, user):  # noqa: F811
    before = snapshot(board)
    reply = ask(user, f"action note A-1 allow_personal=yes ring {PHONE}")
    assert reply.error
    assert snapshot(board) == before
    if user == COLP:  # a lead partner may note A-1, but not let personal data in
        assert reply.title.startswith("Only the chair, deputy chair or secretariat can use")


PHONE_IN_NOTE = "a phone number in note="


def overrides(board) -> list[ActionChange]:  # noqa: F811
    """History entries recording an allowed override."""
    with Session(board) as session:
        query = select(ActionChange).where(ActionChange.field == "allow_personal")
        return list(session.exec(query.order_by(ActionChange.id)))


@pytest.mark.parametrize(
    "user, text, recorded",
    [
        (SECRETARIAT, f"action note A-1 allow_personal=yes Ring {PHONE}", PHONE_IN_NOTE),
        (CHAIR, f'action update A-1 note="Ring {PHONE}" allow_personal=yes', PHONE_IN_NOTE),
        (DEPUTY, 'action done A-1 note="jo@example.org told" allow_personal=yes',
         "an email address in note="),
        (SECRETARIAT, 'action add area=cyber lead=CoLP title="Guildhall desk" '
         'action="Desk at 1 Guildhall Yard" allow_personal=yes', "a home address in action="),
    ],
)  # fmt: skip
def test_the_secretariat_can_allow_it_and_the_history_says_so(ask, board, user, text, recorded):  # noqa: F811
    reply = ask(user, text)
    assert not reply.error, reply.title
    (entry,) = overrides(board)
    assert entry.new_value == recorded
    assert entry.actor_name and entry.actor_member_id is not None
    ref = reply.items[0].ref
    history = ask(CHAIR, f"action history {ref}")
    assert any("allow_personal" in fact.value for s in history.sections for fact in s.facts)


def test_allow_personal_no_is_still_refused(ask, board):  # noqa: F811
    before = snapshot(board)
    reply = ask(SECRETARIAT, f"action note A-1 allow_personal=no ring {PHONE}")
    assert reply.title.startswith("That looks like personal data")
    assert snapshot(board) == before


def test_text_without_personal_data_needs_no_override(ask, board):  # noqa: F811
    for text in NOT_PERSONAL[:8]:
        assert not ask(COLP, f"action note A-1 {text}").error, text
    assert overrides(board) == []


# --- Imports -----------------------------------------------------------------------------------


def rows_file(tmp_path, rows: list[dict]):
    """A JSON import file."""
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


ROWS = [
    {"area": "Cyber attack", "issue": "Phishing drill", "leads": ["CoLP"]},
    {"area": "Cyber attack", "issue": "Home visit", "leads": ["CoLP"],
     "action": "Visit the resident at 12 Acacia Avenue"},
]  # fmt: skip


def actions_in(url: str) -> list[str]:
    """Every action's issue in the database."""
    from models.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        issues = list(session.exec(select(Action.issue).order_by(Action.number)))
    engine.dispose()
    return issues


def test_an_import_row_with_personal_data_is_refused_by_number(
    engine, database_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    code = main(["import", str(rows_file(tmp_path, ROWS))])
    err = capsys.readouterr().err
    assert code == 1
    assert "Row 3: looks like personal data — a home address in “Actions”" in err
    assert "--allow-personal" in err and "Traceback" not in err
    assert actions_in(database_url) == []  # one transaction: the good row is not kept either


def test_an_import_can_allow_personal_data_and_records_it(
    engine, database_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = rows_file(tmp_path, ROWS)
    assert main(["import", str(path), "--allow-personal"]) == 0
    assert actions_in(database_url) == ["Phishing drill", "Home visit"]
    (entry,) = overrides(engine)
    assert (entry.actor_name, entry.new_value) == ("import", "a home address in “Actions”")
    assert main(["import", str(path), "--allow-personal"]) == 0  # unchanged: nothing recorded
    assert len(overrides(engine)) == 1


# --- Forms in Slack ----------------------------------------------------------------------------


def test_forms_with_personal_data_are_refused_and_save_nothing(slack, board_engine):
    before = snapshot(board_engine)
    slack.command(COLP, "action edit A-1")
    answer = slack.submit(COLP, slack.stub.view(), {"barriers": f"Resident on {PHONE}"})
    assert "That looks like personal data" in json.dumps(answer.json, ensure_ascii=False)
    slack.command(SECRETARIAT, "action add")
    cyber, colp, _ = modal_ids(board_engine)
    fields = {"area": str(cyber), "lead": [str(colp)], "title": "Visit jo@example.org"}
    answer = slack.submit(SECRETARIAT, slack.stub.view(), fields)
    assert "That looks like personal data" in json.dumps(answer.json, ensure_ascii=False)
    listing = slack.command(COLP, "action status")
    slack.click(COLP, find_button(listing.json["blocks"], OPERATION_NOTE, "A-1"))
    answer = slack.submit(COLP, slack.stub.view(), {"note": "DOB 01/02/1990"})
    assert "That looks like personal data" in json.dumps(answer.json, ensure_ascii=False)
    assert snapshot(board_engine) == before
