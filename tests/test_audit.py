"""History is append-only and hash-chained: the database refuses edits, `audit verify` sees them."""

import ast
import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.cli.main import main
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from models.audit import entry_hash, remove_append_only_guard
from models.boards import get_board
from models.db import make_engine
from models.migrate import downgrade, upgrade
from models.people import find_partner, save_member
from models.tables import ActionChange, Role
from tests.code_fixtures import ROOT, parse, python_files
from tests.conftest import CHAIR, COLP, IMPORTED_AT, NOW
from tests.model_fixtures import ask, db_url  # noqa: F401


@pytest.fixture
def register(db_url, monkeypatch):  # noqa: F811
    """Annex B with some changes on top, in a database of each kind named by DATABASE_URL."""
    engine = make_engine(db_url)
    upgrade(engine)
    import_file(engine, Settings(database_url=db_url), ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug="soc")
        colp = find_partner(session=session, board_id=board.id, text="CoLP").id
        save_member(session=session, board_id=board.id, external_id=COLP,
                    display_name="Rob Ellis", role=Role.MEMBER.value, partner_id=colp)  # fmt: skip
        save_member(session=session, board_id=board.id, external_id=CHAIR,
                    display_name="John Simpson", role=Role.CHAIR.value)  # fmt: skip
        session.commit()
    for n, command in enumerate([
        (COLP, 'action update A-1 rag=green note="Dashboard shared"'),
        (COLP, "action note A-1 Met the NCA"),
        (CHAIR, 'action add area=cyber lead=CoLP title="Phishing drill" due=31/03/2027'),
        (CHAIR, 'action done A-3 note="Closed at the meeting"'),
    ]):  # fmt: skip
        reply = ask(engine, *command, now=NOW + timedelta(minutes=n))
        assert not reply.error, reply.title
    monkeypatch.setenv("DATABASE_URL", db_url)
    yield engine
    engine.dispose()


def history_ids(engine) -> list[int]:
    """Every history entry's id, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(ActionChange.id).order_by(ActionChange.id)))


def audit(capsys) -> tuple[int, str, str]:
    """Run `soc-bot audit verify`: exit code, standard output, standard error."""
    code = main(["audit", "verify"])
    out, err = capsys.readouterr()
    return code, out, err


def behind_the_apps_back(engine, *statements: str) -> None:
    """Change the history as someone with database access could: guard dropped first."""
    with engine.begin() as connection:
        remove_append_only_guard(connection)
        for statement in statements:
            connection.execute(text(statement))


def test_every_change_extends_the_chain_and_verify_passes(register, capsys):
    code, out, err = audit(capsys)
    assert code == 0, err
    count = len(history_ids(register))
    assert f"Board soc: {count} history entries, chain intact; head " in out
    with Session(register) as session:
        board = get_board(session=session, slug="soc")
        hashes = list(session.exec(select(ActionChange.chain_hash).order_by(ActionChange.id)))
        assert board.history_head == hashes[-1]
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
        assert len(set(hashes)) == len(hashes)


@pytest.mark.parametrize(
    "column, value",
    [("note", "'Nothing to see here'"), ("new_value", "'red'"), ("actor_name", "'Someone else'")],
)
def test_an_altered_entry_is_named_by_verify(register, capsys, column, value):
    ids = history_ids(register)
    target = ids[len(ids) // 2]
    behind_the_apps_back(
        register, f"UPDATE actionchange SET {column} = {value} WHERE id = {target}"
    )
    code, out, err = audit(capsys)
    assert code == 1
    assert f"history entry {target} is the first that fails" in err


def test_a_removed_entry_is_caught_at_the_one_after_it(register, capsys):
    ids = history_ids(register)
    gone, after = ids[5], ids[6]
    behind_the_apps_back(register, f"DELETE FROM actionchange WHERE id = {gone}")
    code, _, err = audit(capsys)
    assert code == 1
    assert f"history entry {after} is the first that fails" in err


def test_removing_the_newest_entries_is_caught_too(register, capsys):
    last = history_ids(register)[-2:]
    behind_the_apps_back(register, f"DELETE FROM actionchange WHERE id IN ({last[0]}, {last[1]})")
    code, _, err = audit(capsys)
    assert code == 1
    assert "the last entry is not the recorded head" in err


def test_a_forgery_with_its_own_hash_recomputed_still_fails_at_the_head(register, capsys):
    """Recomputing the forged entry's hash is not enough: the board's head no longer matches."""
    ids = history_ids(register)
    with Session(register) as session:
        previous = session.get(ActionChange, ids[-2]).chain_hash
        change = session.get(ActionChange, ids[-1])
        session.expunge(change)
    change.note = "forged"
    forged = entry_hash(previous, change)
    behind_the_apps_back(
        register,
        f"UPDATE actionchange SET note = 'forged', chain_hash = '{forged}' WHERE id = {ids[-1]}",
    )
    code, _, err = audit(capsys)
    assert code == 1
    assert "the last entry is not the recorded head" in err


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE actionchange SET note = 'edited'",
        "UPDATE actionchange SET chain_hash = ''",
        "DELETE FROM actionchange",
    ],
)
def test_the_database_refuses_to_change_history(register, statement, capsys):
    before = history_ids(register)
    with pytest.raises(DBAPIError, match="append-only"), register.begin() as connection:
        connection.execute(text(statement))
    assert history_ids(register) == before
    assert audit(capsys)[0] == 0


def test_postgresql_refuses_truncating_history(register, db_url):  # noqa: F811
    if not db_url.startswith("postgresql"):
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"), register.begin() as connection:
        connection.execute(text("TRUNCATE actionchange CASCADE"))


def test_the_orm_cannot_edit_history_either(register):
    with Session(register) as session:
        change = session.exec(select(ActionChange)).first()
        change.note = "quietly edited"
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()


def test_upgrading_seals_history_written_before_the_chain(db_url, capsys, monkeypatch):  # noqa: F811
    engine = make_engine(db_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO board (id, slug, name, timezone, created_at, register_version) "
                "VALUES (1, 'soc', 'Board', 'Europe/London', '2027-01-02 09:00:00', 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO crimearea (id, board_id, name, source, priority, position) "
                "VALUES (1, 1, 'Cyber attack', 'board', false, 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO action (id, board_id, number, area_id, issue, action_text, barriers, "
                "outcomes, rag, confidential, created_at, updated_at, version) VALUES (1, 1, 1, 1, "
                "'Old', '', '', '', 'red', false, '2027-01-02 09:00:00', '2027-01-02 09:00:00', 1)"
            )
        )
        for n, field in enumerate(["created", "rag", "note"], start=1):
            connection.execute(
                text(
                    "INSERT INTO actionchange (id, board_id, action_id, at, actor_name, field, "
                    f"note) VALUES ({n}, 1, 1, '2027-01-02 09:00:0{n}', 'import', '{field}', "
                    f"'n{n}')"
                )
            )
    upgrade(engine)
    monkeypatch.setenv("DATABASE_URL", db_url)
    code, out, err = audit(capsys)
    assert code == 0, err
    assert "Board soc: 3 history entries, chain intact" in out
    ask(engine, "UNKNOWN", "help")
    engine.dispose()


def test_the_guard_goes_down_with_the_migration_and_back(register, capsys):
    downgrade(register, "0003")
    with register.begin() as connection:
        connection.execute(text("UPDATE actionchange SET note = note"))  # no guard at 0003
    upgrade(register)
    with pytest.raises(DBAPIError, match="append-only"), register.begin() as connection:
        connection.execute(text("UPDATE actionchange SET note = note"))
    assert audit(capsys)[0] == 0


def test_a_second_board_has_its_own_chain(register, db_url, capsys):  # noqa: F811
    other = Settings(database_url=db_url, board_slug="other", board_name="Other Board")
    import_file(register, other, ANNEX_B, now=NOW, partners=PARTNERS)
    assert not ask(register, COLP, "action note A-2 still chained").error
    code, out, _ = audit(capsys)
    assert code == 0
    assert "Board soc:" in out and "Board other:" in out


# --- No code path edits history ----------------------------------------------------------------

HISTORY_SQL = re.compile(
    r"\b(UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?)\s+\"?(actionchange|boardchange)\b", re.I
)
# The append-only tables' models: the action history and the Board's own history.
HISTORY_MODELS = ("ActionChange", "BoardChange")
# Defines it; restore --replace; `board delete --confirm` (the whole Board, in one transaction).
GUARD_REMOVERS = {"models/audit.py", "bot/backup.py", "models/hosting.py"}


def history_edits(path, root=ROOT) -> list[str]:
    """Statements in a file that would update, delete or unguard the history."""
    found = []
    name = str(path.relative_to(root))
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            target = getattr(first, "id", getattr(first, "attr", ""))
            if called in ("update", "delete") and target in HISTORY_MODELS:
                found.append(f"{name}:{node.lineno} {called}({target})")
            if called == "remove_append_only_guard" and name not in GUARD_REMOVERS:
                found.append(f"{name}:{node.lineno} removes the append-only guard")
        if isinstance(node, ast.Constant) and HISTORY_SQL.search(str(node.value)):
            found.append(f"{name}:{node.lineno} SQL edits the history")
    return found


def test_no_code_path_updates_or_deletes_history():
    edits = [e for package in ("models", "handlers", "bot") for p in python_files(package)
             for e in history_edits(p)]  # fmt: skip
    assert edits == []


def test_the_history_edit_check_sees_each_way_of_editing(tmp_path):
    """The checker itself."""
    source = tmp_path / "handlers" / "x.py"
    source.parent.mkdir()
    source.write_text(
        "from sqlalchemy import update, delete\n"
        "a = update(ActionChange).values(note='')\n"
        "b = delete(models.ActionChange)\n"
        "c = text('delete from actionchange where id = 1')\n"
        "d = 'TRUNCATE TABLE actionchange'\n"
        "remove_append_only_guard(connection)\n"
        "e = update(Action)\n"
        "f = update(BoardChange).values(details='')\n"
        "g = delete(models.BoardChange)\n"
        "h = text('UPDATE boardchange SET details = 1')\n"
        "i = 'truncate boardchange'\n",
        encoding="utf-8",
    )
    assert len(history_edits(source, root=tmp_path)) == 9
