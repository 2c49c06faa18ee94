"""`soc-bot backup` and `restore`: the whole register, history and ledger, across databases."""

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.backup import FORMAT_VERSION, backup_document
from bot.cli.main import main
from handlers.register.import_export import export_records
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import CHAIR, COLP, NOW, SECRETARIAT
from tests.postgres_fixtures import fresh_postgres, postgres
from tests.worker_fixtures import FIVE_DAYS, make_sender

pytest_plugins = ("tests.slack_fixtures",)


@pytest.fixture
def lived_in(console, settings, stub):
    """The test Board after a month of use: changes, a confidential action, meetings, reminders."""
    console.as_user(SECRETARIAT)
    for user, command in [
        (SECRETARIAT, 'meeting schedule "second tuesday 10:00"'),
        (COLP, 'action update A-1 rag=green due=31/03/2027 note="Dashboard “shared” — ok"'),
        (COLP, "action note A-1 Met the NCA; ünïcödé and emoji 🚓"),
        (CHAIR, 'action add area=cyber lead=CoLP title="Covert op" confidential=yes rag=red'),
        (SECRETARIAT, 'member add UDEP2 name="Deputy Two" role=member partner=CoLP'),
        (SECRETARIAT, f"member add {COLP} deputy=UDEP2"),
        (SECRETARIAT, 'area add "Drugs supply lines"'),
    ]:
        assert not console.as_user(user).ask(command).error, command
    make_sender(console.engine, settings, stub).run_pass(FIVE_DAYS)
    return console.engine


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`soc-bot ...`: exit code, standard output, standard error."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tables_of(engine) -> dict:
    """Every table's rows, as a backup holds them."""
    return backup_document(engine, NOW)["tables"]


def exported(engine) -> list[dict]:
    """The register as `soc-bot export --format json` writes it."""
    with Session(engine) as session:
        return export_records(session, get_board(session=session, slug="soc"))


def restore_into(url: str, backup: Path, capsys, monkeypatch, *extra: str) -> tuple[int, str]:
    """Restore `backup` into the database at `url` with the CLI; exit code and messages."""
    monkeypatch.setenv("DATABASE_URL", url)
    code, out, err = run(capsys, "restore", str(backup), *extra)
    return code, out + err


def test_backup_restores_into_an_empty_sqlite_file_exactly(lived_in, tmp_path, capsys, monkeypatch):
    backup = tmp_path / "register.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    code, out, _ = run(capsys, "backup", str(backup))
    assert code == 0 and "history entries" in out
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds confidential actions
    document = json.loads(backup.read_text(encoding="utf-8"))
    assert document["format"] == "soc-bot-backup" and document["version"] == FORMAT_VERSION
    assert document["tables"]["reminderdelivery"]["rows"], "the ledger is in the backup"
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    code, said = restore_into(target, backup, capsys, monkeypatch)
    assert code == 0, said
    restored = make_engine(target)
    try:
        assert tables_of(restored) == tables_of(lived_in)
        assert exported(restored) == exported(lived_in)
        assert run(capsys, "audit", "verify")[0] == 0
    finally:
        restored.dispose()


@postgres
def test_sqlite_to_postgresql_and_back_round_trips(lived_in, tmp_path, capsys, monkeypatch):
    first = tmp_path / "from-sqlite.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    assert run(capsys, "backup", str(first))[0] == 0
    with fresh_postgres() as pg_url:
        code, said = restore_into(pg_url, first, capsys, monkeypatch)
        assert code == 0, said
        pg = make_engine(pg_url)
        try:
            assert tables_of(pg) == tables_of(lived_in)
            assert exported(pg) == exported(lived_in)
            assert run(capsys, "audit", "verify")[0] == 0
            # Sequences follow the restored ids: new rows get new ids.
            monkeypatch.setenv("DATABASE_URL", pg_url)
            assert run(capsys, "run", "--as", CHAIR, "action", "note", "A-2", "after")[0] == 0
            assert run(capsys, "audit", "verify")[0] == 0
            second = tmp_path / "from-postgresql.json"
            assert run(capsys, "backup", str(second))[0] == 0
        finally:
            pg.dispose()
    back = f"sqlite:///{tmp_path / 'back.db'}"
    code, said = restore_into(back, second, capsys, monkeypatch)
    assert code == 0, said
    again = make_engine(back)
    try:
        assert json.loads(second.read_text())["tables"] == tables_of(again)
        assert run(capsys, "audit", "verify")[0] == 0
    finally:
        again.dispose()


def test_restore_refuses_a_database_that_holds_a_register(
    lived_in, board_engine, tmp_path, capsys, monkeypatch
):
    backup = tmp_path / "register.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    assert run(capsys, "backup", str(backup))[0] == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    engine = make_engine(other)
    upgrade(engine)
    monkeypatch.setenv("DATABASE_URL", other)
    assert run(capsys, "member", "add", "UONLY", "--name", "Only One", "--role", "chair")[0] == 0
    before = tables_of(engine)
    code, said = restore_into(other, backup, capsys, monkeypatch)
    assert code == 1
    assert "already holds a register" in said and "--replace" in said
    assert "Traceback" not in said
    assert tables_of(engine) == before
    code, said = restore_into(other, backup, capsys, monkeypatch, "--replace")
    assert code == 0, said
    assert tables_of(engine) == tables_of(lived_in)
    engine.dispose()


def test_a_freshly_upgraded_database_counts_as_empty(lived_in, tmp_path, capsys, monkeypatch):
    backup = tmp_path / "register.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    assert run(capsys, "backup", str(backup))[0] == 0
    target = f"sqlite:///{tmp_path / 'upgraded.db'}"
    monkeypatch.setenv("DATABASE_URL", target)
    assert run(capsys, "db", "upgrade")[0] == 0  # makes the Board and the standard areas
    code, said = restore_into(target, backup, capsys, monkeypatch)
    assert code == 0, said


def test_restore_is_all_or_nothing(lived_in, tmp_path, capsys, monkeypatch):
    """A backup whose last table cannot be loaded leaves the database as it was."""
    backup = tmp_path / "register.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    assert run(capsys, "backup", str(backup))[0] == 0
    document = json.loads(backup.read_text())
    body = document["tables"]["reminderdelivery"]  # the last table loaded
    body["rows"].append(list(body["rows"][0]))  # a duplicate id: the insert fails at the end
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert restore_into(target, backup, capsys, monkeypatch)[0] == 0
    engine = make_engine(target)
    before = tables_of(engine)
    code, said = restore_into(target, broken, capsys, monkeypatch, "--replace")
    assert code == 1
    assert "could not be loaded" in said and "Nothing was restored" in said
    assert "Traceback" not in said
    assert tables_of(engine) == before
    engine.dispose()


def test_a_backup_with_edited_history_is_refused(lived_in, tmp_path, capsys, monkeypatch):
    backup = tmp_path / "register.json"
    monkeypatch.setenv("DATABASE_URL", str(lived_in.url))
    assert run(capsys, "backup", str(backup))[0] == 0
    document = json.loads(backup.read_text())
    history = document["tables"]["actionchange"]
    note = history["columns"].index("note")
    history["rows"][3][note] = "rewritten after the fact"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    target = f"sqlite:///{tmp_path / 'target.db'}"
    code, said = restore_into(target, edited, capsys, monkeypatch)
    assert code == 1
    entry = history["rows"][3][history["columns"].index("id")]
    assert f"fails its check at entry {entry}" in said and "Nothing was restored" in said
    engine = make_engine(target)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM action")).scalar_one() == 0
    engine.dispose()


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json at all", "not a soc-bot backup"),
        ('{"format": "something-else"}', "not a soc-bot backup"),
        ('{"format": "soc-bot-backup", "version": 99}', "backup format 99"),
        ('{"format": "soc-bot-backup", "version": 1, "schema": "0001"}', "made at schema 0001"),
    ],
)
def test_restore_explains_a_file_it_cannot_use(tmp_path, capsys, monkeypatch, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, said = restore_into(f"sqlite:///{tmp_path / 'x.db'}", path, capsys, monkeypatch)
    assert code == 1
    assert message in said and "Traceback" not in said
