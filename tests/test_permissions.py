"""Who may do what: every role against every command, and what confidential actions reveal."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from handlers.commands import COMMANDS
from handlers.permissions import NOT_A_MEMBER
from handlers.replies import Fact, Item, Reply, Section
from models.boards import get_board
from models.meetings import add_meeting
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    IMPORTED_AT,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)
from tests.permission_fixtures import CASES, Case, ask, board, snapshot  # noqa: F401  (fixtures)

# --- The matrix --------------------------------------------------------------------------------


READ, ADMIN, CHANGE = "read", "admin", "change"
ADMIN_READ = "admin-read"  # chair, deputy and secretariat only, and it changes nothing
CHANGE_READ = "change-read"  # those who may change the action, and it changes nothing
PARTNER_ANSWER = "partner-answer"  # members who represent a partner (not observers)
CHAIR_SECRETARIAT = "chair-secretariat"  # the chair and the secretariat, not the deputy
SECRETARIAT_ONLY = "secretariat-only"  # the secretariat alone (the Board's settings)
PARTNER_MEMBERS = {SECRETARIAT, COLP, CST, TRADING, COOPTEE}
MATRIX_COMMANDS = [
    ("action status", READ),
    ("action status all", READ),
    ("action status {ref}", READ),
    ('action add area="Cyber attack" lead=CoLP title="Brand new"', ADMIN),
    ('action update {ref} rag=red note="Stalled"', CHANGE),
    ('action done {ref} note="Finished"', CHANGE),
    ("action edit {ref}", CHANGE_READ),
    ("action note {ref} Met the partners", CHANGE),
    ("action history {ref}", READ),
    ("rag", READ),
    ('member add UNEWBIE name="New Person" role=member', ADMIN),
    ("member list", READ),
    ('partner add "Port of London Authority"', ADMIN),
    ("partner list", READ),
    ('area add "Drugs supply lines"', ADMIN),
    ("area list", READ),
    ("meeting next", READ),
    ("meeting list", READ),
    ('meeting schedule "second tuesday 10:00"', ADMIN),
    ("meeting move 9/2/2027 to 10/2/2027 14:00", ADMIN),
    ("meeting cancel 9/2/2027", ADMIN),
    ("meeting add 2/3/2027 10:00", ADMIN),
    ("meeting reminders 3,1 at 08:30", ADMIN),
    ("rag post", ADMIN_READ),
    ("rag chart", ADMIN_READ),
    ("report quarter 2026Q4", ADMIN_READ),
    ("priorities", READ),
    ("priorities open closes=5/2/2027", ADMIN),
    ("priorities answer cyber=lead", PARTNER_ANSWER),
    ("priorities results", READ),
    ("priorities set cyber, fraud, slavery", CHAIR_SECRETARIAT),
    ("priorities close", CHAIR_SECRETARIAT),
    ("priorities extend closes=12/2/2027", CHAIR_SECRETARIAT),
    ("board", READ),
    (
        "board settings timezone=Europe/Dublin holidays=GB-SCT reminders=3,1 at=08:30",
        SECRETARIAT_ONLY,
    ),
    ("board history", ADMIN_READ),
]
# Run as the secretariat before the command is tried (not part of what is compared).
SETUP = {
    command: "priorities open closes=5/2/2027"
    for command in ("priorities answer", "priorities close", "priorities extend")
} | {"rag post": "board settings summary=C0SUMMARY"}


def test_the_matrix_covers_every_command_but_help():
    covered = {
        " ".join(text.split()[:2]) if text != "rag" else "rag" for text, _ in MATRIX_COMMANDS
    }
    missing = {c.name for c in COMMANDS} - {"help"} - covered
    assert not missing, f"add {sorted(missing)} to MATRIX_COMMANDS: who may use them?"
    assert covered <= {c.name for c in COMMANDS}, "MATRIX_COMMANDS names a command that is gone"


def allowed(case: Case, kind: str) -> bool:
    """What the matrix expects."""
    if not case.is_member:
        return False
    return {READ: True, ADMIN: case.is_admin, ADMIN_READ: case.is_admin,
            CHANGE: case.may_change, CHANGE_READ: case.may_change,
            PARTNER_ANSWER: case.user_id in PARTNER_MEMBERS,
            CHAIR_SECRETARIAT: case.user_id in (CHAIR, SECRETARIAT),
            SECRETARIAT_ONLY: case.user_id == SECRETARIAT}[kind]  # fmt: skip


@pytest.mark.parametrize("command, kind", MATRIX_COMMANDS, ids=[c for c, _ in MATRIX_COMMANDS])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_authorization_matrix(ask, board, case: Case, command: str, kind: str):  # noqa: F811
    text = command.format(ref=case.ref)
    if setup := SETUP.get(" ".join(text.split()[:2])):
        assert not ask(SECRETARIAT, setup).error
    before = snapshot(board)
    reply = ask(case.user_id, text)
    after = snapshot(board)
    if allowed(case, kind):
        assert not reply.error, f"{case.name} should be allowed {text!r}: {reply.title}"
        if kind in (READ, ADMIN_READ, CHANGE_READ):
            assert after == before, "reading changed the register"
        else:
            assert after != before, "an allowed change changed nothing"
    else:
        assert reply.error, f"{case.name} should be refused {text!r}"
        assert after == before, "a refused command changed the register"
        if not case.is_member:
            assert (reply.title, reply.hint) == NOT_A_MEMBER
        elif kind in (ADMIN, ADMIN_READ):
            assert reply.title.startswith("Only the chair, deputy chair or secretariat")
        elif kind == CHAIR_SECRETARIAT:
            assert reply.title.startswith("Only the chair or the secretariat")
        elif kind == SECRETARIAT_ONLY:
            assert reply.title == "Only the secretariat can change the Board's settings."
        elif kind in (CHANGE, CHANGE_READ):
            assert f"can't change {case.ref}" in reply.title


def test_refused_change_is_the_same_for_every_field(ask, board):  # noqa: F811
    before = snapshot(board)
    for text in (
        "action update A-1 due=31/03/2027",
        'action update A-1 title="Hijacked"',
        "action update A-1 strand=pursue",
        'action update A-1 note="just a note"',
    ):
        assert "can't change A-1" in ask(CST, text).title
    assert snapshot(board) == before


def test_partner_cannot_change_admin_fields_of_their_own_action(ask, board):  # noqa: F811
    before = snapshot(board)
    for option in ("lead=CST", "area=Drugs", "confidential=yes"):
        reply = ask(COLP, f"action update A-1 {option}")
        assert reply.error
        assert reply.title.startswith("Only the chair, deputy chair or secretariat")
    assert snapshot(board) == before


def test_member_without_a_partner_cannot_change_collective_actions(ask, board):  # noqa: F811
    assert not ask(SECRETARIAT, 'member add UNOPART name="No Partner" role=member').error
    before = snapshot(board)
    assert ask("UNOPART", "action update A-2 rag=red").error
    assert snapshot(board) == before


@pytest.mark.parametrize(
    "text",
    [
        "action status",
        "action status all",
        "action status A-1",
        "action 1",
        "action history A-1",
        "action status overdue",
        "action status area cyber",
        "action status partner colp",
        "rag",
        "rag private",
        "member list",
        "partner list",
        "area list",
        "action update A-1 rag=red",
        'action done A-1 note="x"',
        "action note A-1 hello",
        'action add area=cyber lead=CoLP title="x"',
        'member add USTRANGER name="Me" role=chair',
        'partner add "Mine"',
        'area add "Mine"',
    ],
)
def test_non_member_is_told_to_ask_the_secretariat(ask, board, text):  # noqa: F811
    before = snapshot(board)
    reply = ask(STRANGER, text)
    assert reply.error
    assert (reply.title, reply.hint) == NOT_A_MEMBER
    assert "secretariat" in reply.hint
    assert reply.items == [] and reply.sections == []
    assert snapshot(board) == before


def test_non_member_may_read_help(ask):  # noqa: F811
    reply = ask(STRANGER, "help")
    assert not reply.error
    assert reply.sections


# --- Confidential actions ----------------------------------------------------------------------

MARKER = "ZQX-OPERATION-NIGHTJAR"


@pytest.fixture
def confidential(ask, board) -> str:  # noqa: F811
    """A red, overdue confidential action led by CoLP, added since the last meeting; its ref."""
    with Session(board) as session:
        board_id = get_board(session=session, slug="soc").id
        add_meeting(session=session, board_id=board_id, starts_at=IMPORTED_AT + timedelta(days=5))
        session.commit()
    reply = ask(
        SECRETARIAT,
        f'action add area="Cyber attack" lead=CoLP title="{MARKER} covert op" '
        f'action="{MARKER} details" confidential=yes rag=red due=04/01/2027',
    )
    assert not reply.error, reply.title
    ref = reply.items[0].ref
    assert ref == "A-12"
    return ref


def every_string(value) -> list[str]:
    """Every string anywhere inside a reply: titles, text, items, sections, facts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Reply | Item | Section | Fact):
        return [s for field in vars(value).values() for s in every_string(field)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in every_string(v)]
    return [str(value)] if value is not None else []


def mentions_marker(reply: Reply) -> bool:
    """Whether any part of the reply carries the confidential marker."""
    return any(MARKER in s for s in every_string(reply))


@pytest.mark.parametrize(
    "user_id", [CHAIR, SECRETARIAT, COLP], ids=["chair", "secretariat", "colp"]
)
def test_confidential_action_visible_to_authorised(ask, confidential, user_id):  # noqa: F811
    shown = ask(user_id, f"action status {confidential}")
    assert not shown.error
    assert mentions_marker(shown)
    assert confidential in [i.ref for i in ask(user_id, "action status all page 2").items]
    assert not ask(user_id, f"action history {confidential}").error


@pytest.mark.parametrize(
    "user_id", [OBSERVER, CST, COOPTEE, TRADING], ids=["observer", "cst", "co-optee", "trading"]
)
def test_confidential_action_does_not_exist_for_others(ask, board, confidential, user_id):  # noqa: F811
    missing = ask(user_id, "action status A-99")
    for text in (
        f"action status {confidential}",
        f"action {confidential}",
        f"action history {confidential}",
        f"action update {confidential} rag=green",
        f'action done {confidential} note="x"',
        f"action note {confidential} hello",
        f"action edit {confidential}",
    ):
        before = snapshot(board)
        reply = ask(user_id, text)
        assert reply.error, text
        assert reply.title == f"There is no action {confidential}.", text
        assert reply.hint == missing.hint
        assert not mentions_marker(reply)
        assert snapshot(board) == before
    for text in (
        "action status",
        "action status all",
        "action status all page 2",
        "action status area cyber",
        "action status partner colp",
        "action status overdue",
        "rag",
        "rag private",
    ):
        reply = ask(user_id, text)
        assert not mentions_marker(reply), text
        assert confidential not in [i.ref for i in reply.items], text


def test_confidential_action_never_in_the_chairs_channel_summary(ask, confidential):  # noqa: F811
    reply = ask(CHAIR, "rag")
    assert reply.audience == "in_channel"
    assert not mentions_marker(reply)
    assert not any(confidential + " " in s for s in every_string(reply))
    assert (
        "1 confidential action is not shown: details available to authorised members" in reply.text
    )
    # The counts are of the 11 public actions: the red confidential one is not among them.
    assert reply.text.startswith("11 actions: 9 Amber · 1 Blue · 1 Not rated.")
    private = ask(CHAIR, "rag private")
    assert private.audience == "ephemeral"
    assert private.text.startswith("12 actions: 1 Red")
    lines = [line for s in private.sections for line in s.lines]
    assert any(line.startswith("New actions (1)") and MARKER in line for line in lines)
    assert any(line.startswith("Red (1)") and MARKER in line for line in lines)
    assert any(line.startswith("Overdue (1)") and MARKER in line for line in lines)


def test_observer_summary_counts_but_hides_the_confidential_action(ask, confidential):  # noqa: F811
    reply = ask(OBSERVER, "rag")
    assert reply.audience == "ephemeral"
    assert "1 confidential action is not shown" in reply.text
    assert not mentions_marker(reply)


def test_action_made_confidential_drops_out_of_the_channel_summary(ask, board):  # noqa: F811
    with Session(board) as session:
        board_id = get_board(session=session, slug="soc").id
        add_meeting(session=session, board_id=board_id, starts_at=IMPORTED_AT + timedelta(days=5))
        session.commit()
    assert not ask(SECRETARIAT, "action update A-9 confidential=yes rag=red").error
    reply = ask(CHAIR, "rag")
    assert not any("A-9" in s for s in every_string(reply))
    assert "1 confidential action is not shown" in reply.text
    private = ask(CHAIR, "rag private")
    assert any(
        "A-9 " in line and "Amber → Red" in line for s in private.sections for line in s.lines
    )
    assert not any("A-9" in s for s in every_string(ask(CST, "rag")))
    assert any("A-9" in s for s in every_string(ask(COLP, "rag")))
