"""The fuzzed command texts, the shared fuzz Board and the invariants it must keep."""

import pytest
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from handlers.commands import COMMANDS
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from models.people import find_partner, save_member
from models.tables import Action, ActionChange, Board, CrimeArea, Role
from tests.conftest import (
    CHAIR,
    COLP,
    COOPTEE,
    CST,
    DEPUTY,
    IMPORTED_AT,
    OBSERVER,
    SECRETARIAT,
    STRANGER,
    TRADING,
)

PEOPLE = [
    (CHAIR, Role.CHAIR, None),
    (DEPUTY, Role.DEPUTY_CHAIR, None),
    (SECRETARIAT, Role.SECRETARIAT, "CST"),
    (COLP, Role.MEMBER, "CoLP"),
    (CST, Role.MEMBER, "CST"),
    (TRADING, Role.MEMBER, "TS"),
    (COOPTEE, Role.CO_OPTEE, "NCA"),
    (OBSERVER, Role.OBSERVER, None),
]

USERS = [user_id for user_id, _, _ in PEOPLE] + [STRANGER]


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory):
    """One Annex B Board shared by every example (fast); the invariants make sharing safe."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'soc.db'}"
    engine = make_engine(url)
    upgrade(engine)
    import_file(engine, Settings(database_url=url), ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        for user_id, role, partner in PEOPLE:
            found = find_partner(session=session, board_id=board.id, text=partner or "-")
            save_member(
                session=session,
                board_id=board.id,
                external_id=user_id,
                display_name=user_id.title(),
                role=role.value,
                partner_id=found.id if found else None,
            )
        session.commit()
    yield engine
    engine.dispose()


class Watermark:
    """The history only ever grows: the largest count seen so far, per fuzz Board."""

    # Keyed by database: each test module has its own module-scoped fuzz Board.
    changes: dict[str, int] = {}


def check_invariants(engine) -> None:
    """What must hold after any command, whoever typed it."""
    with Session(engine) as session:
        boards = set(session.exec(select(Board.id)))
        areas = {a.id: a.board_id for a in session.exec(select(CrimeArea))}
        actions = list(session.exec(select(Action)))
        for action in actions:
            assert action.board_id in boards, action.ref
            assert areas.get(action.area_id) == action.board_id, action.ref
            assert action.version >= 1, action.ref
            assert action.number >= 1, action.ref
        numbers = [(a.board_id, a.number) for a in actions]
        assert len(numbers) == len(set(numbers)), "duplicate action numbers"
        created = set(
            session.exec(select(ActionChange.action_id).where(ActionChange.field == "created"))
        )
        assert {a.id for a in actions} <= created, "an action without its creation in the history"
        changes = session.exec(select(func.count()).select_from(ActionChange)).one()
    assert changes >= Watermark.changes.get(str(engine.url), 0), "history rows disappeared"
    Watermark.changes[str(engine.url)] = changes


SUBCOMMANDS = sorted({c.name for c in COMMANDS}) + ["action", "action frobnicate", "rag private"]

OPTION_KEYS = sorted({k for c in COMMANDS for k in c.options}) + ["foo", "Rag", "DUE", "x-y"]

WORDS = [
    "all", "overdue", "mine", "area", "partner", "page", "cyber", "colp", "CoLP", "TS",
    "All partners", "Cyber attack", "fraud", "private", "yes", "no", "none", "red", "orange",
    "done", "blue", "amber", "green", "31/02/2027", "01/02/2027", "next friday", "in 3 weeks",
    "12/25/2027", "<@UCST>", "UNEWBIE", "<@UX1|x>", "chair", "observer", "pursue,prevent",
    "pursue,zzz", ",", "", " ", "'", '"', "“", "”", "\\", "--", ";", "%", "_", "0", "-1",
    "99999999999999999999", "٣", "ｃｙｂｅｒ", "\u200b", "\u2028", "\x00", "\x85", "é" * 300,
]  # fmt: skip

refs = st.one_of(
    st.integers(-3, 40).map(lambda n: f"A-{n}"),
    st.integers(0, 40).map(str),
    st.integers(0, 40).map(lambda n: f"#{n}"),
    st.integers(0, 40).map(lambda n: f"a{n}"),
    st.sampled_from(["A-", "A--1", "A-1.5", "A-1e3", "A-٣", "A-999999999", "A-9999999999"]),
)

punctuation = st.text(alphabet=",;:'\"“”\\-_%#@<>|=\t ", min_size=1, max_size=4)

values = st.one_of(st.sampled_from(WORDS), st.text(max_size=40), refs, punctuation)

option = st.builds(
    lambda key, value, quote: f"{key}={quote[0]}{value}{quote[1]}",
    st.sampled_from(OPTION_KEYS),
    values,
    st.sampled_from([("", ""), ('"', '"'), ("“", "”"), ('"', ""), ("'", "'")]),
)

commands = st.builds(
    lambda sub, parts: " ".join([sub, *parts]),
    st.sampled_from(SUBCOMMANDS),
    st.lists(st.one_of(option, refs, values), max_size=6),
)

LISTING = ["all", "overdue", "mine", "area", "partner", "page", "2", "0", "cyber", "colp", ","]

listings = st.builds(
    lambda parts: " ".join(["action status", *parts]),
    st.lists(st.one_of(st.sampled_from(LISTING), values, refs), max_size=4),
)

# Names as people mistype them: separators alone, quotes, wildcards, near misses.
names = st.one_of(
    st.sampled_from([",", " , ", ",,", "cyber,", ",colp", "colp,ts", "'", '""', "*", "cyb", "c"]),
    values,
)

filters = st.builds(
    lambda kind, value, page: f"action status {kind} {value}{page}",
    st.sampled_from(["area", "partner", "area", "partner", "all", "overdue", "mine"]),
    names,
    st.sampled_from(["", " page 1", " page 2", " page 0", " page x", " page"]),
)

writes = st.builds(
    lambda sub, ref, parts: " ".join([sub, ref, *parts]),
    st.sampled_from(["action update", "action done", "action note", "action", "action history"]),
    refs,
    st.lists(st.one_of(option, values), max_size=4),
)

admin = st.builds(
    lambda sub, name, parts: " ".join([sub, name, *parts]),
    st.sampled_from(["member add", "partner add", "area add", "action add"]),
    st.one_of(values, st.sampled_from(['"New Partner"', "UNEW1", "<@UNEW2>", '"Drugs lines"'])),
    st.lists(option, max_size=5),
)

long_text = st.builds(
    lambda chunk, size: (chunk * (9000 // len(chunk) + 1))[:size],
    st.text(min_size=1, max_size=20),
    st.integers(7900, 9000),
)

long_command = st.builds(
    lambda sub, ref, key, size: f'{sub} {ref} {key}="{"x" * size}"',
    st.sampled_from(["action update", "action add", "action done", "action note", "partner add"]),
    refs,
    st.sampled_from(OPTION_KEYS),
    st.integers(150, 8100),
)

raw_text = st.one_of(
    st.text(),  # includes control characters, unicode, the empty string
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    long_text,
    long_command,
)

composed = st.one_of(commands, listings, filters, filters, writes, admin)
