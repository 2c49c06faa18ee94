"""An operator's mistakes get one line saying what is wrong and what to do: never a traceback,
never the password, and nothing written anywhere. Each case runs the real `soc-bot`."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.cli.main import main
from bot.config import SettingsError, load_settings
from bot.database_errors import explain_database_error
from models.db import normalise_database_url
from tests.conftest import PG_URL, SECRETARIAT, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Zq7-never-shown"
NEEDS_POSTGRES = pytest.mark.skipif(not PG_URL, reason="SOC_TEST_POSTGRES_URL is not set")


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_url(**parts) -> str:
    """SOC_TEST_POSTGRES_URL with some parts replaced, and a password it does not need."""
    url = make_url(normalise_database_url(PG_URL)).set(password=PASSWORD, **parts)
    return url.render_as_string(hide_password=False)


def files_under(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under `root`, with its bytes (None for a folder)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty working folder (`cwd`) and home folder (`home`) for `soc-bot`."""
    for folder in ("cwd", "home"):
        (tmp_path / "workspace" / folder).mkdir(parents=True)
    return tmp_path / "workspace"


EMPTY = {"cwd": None, "home": None}


def soc_bot(workspace: Path, database_url: str, *args: str, **env: str):
    """Run `python -m bot ARGS` in `workspace/cwd` with HOME in `workspace/home`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "SOC_", "DATABASE_URL"))
        and name.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    environment.update(
        DATABASE_URL=database_url,
        HOME=str(workspace / "home"),
        # matplotlib keeps a font cache when it is first imported; that is not the database's.
        MPLCONFIGDIR=str(workspace.parent / "matplotlib"),
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workspace / "cwd",
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(result, expected: str, exit_code: int = 2) -> str:
    """The command failed with exactly one line on stderr that contains `expected`."""
    everything = result.stdout + result.stderr
    assert result.returncode == exit_code, everything
    assert "Traceback" not in everything
    assert PASSWORD not in everything
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == "", everything
    assert lines[0].startswith("soc-bot: ") and expected in lines[0], lines[0]
    return lines[0]


# --- one line per mistake, from the real entry point ------------------------------------------


def test_nothing_listening(workspace):
    port = closed_port()
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/soc"
    result = soc_bot(workspace, url, "db", "upgrade")
    assert_one_line(
        result,
        f"Cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused): is the server "
        "running, and is DATABASE_URL right?",
    )
    assert files_under(workspace) == EMPTY


def test_a_host_that_does_not_resolve(workspace):
    url = f"postgres://soc:{PASSWORD}@soc-database.invalid/soc"  # Heroku's spelling
    result = soc_bot(workspace, url, "run", "--as", SECRETARIAT, "action", "status")
    assert_one_line(
        result, "Cannot reach PostgreSQL at soc-database.invalid:5432 (the host name "
        "soc-database.invalid does not resolve): is the host in DATABASE_URL right?"
    )  # fmt: skip
    assert files_under(workspace) == EMPTY


def test_a_sqlite_folder_that_does_not_exist(workspace):
    missing = workspace / "cwd" / "no" / "such" / "folder"
    result = soc_bot(workspace, "sqlite:///no/such/folder/soc.db", "import", "annex_b.csv")
    assert_one_line(
        result, f"Cannot open the SQLite database {missing / 'soc.db'}: the folder {missing} "
        "does not exist. Create it, or correct DATABASE_URL."
    )  # fmt: skip
    assert files_under(workspace) == EMPTY


def test_a_file_that_is_not_a_database(workspace):
    notes = workspace / "cwd" / "notes.db"
    notes.write_text("Board minutes, not a database\n")
    before = files_under(workspace)
    result = soc_bot(workspace, f"sqlite:///{notes}", "db", "upgrade")
    assert_one_line(result, f"{notes} is not a SQLite database: point DATABASE_URL at")
    assert files_under(workspace) == before  # the file unchanged, no -wal or -shm beside it


def test_an_unsupported_database(workspace):
    url = f"mysql://root:{PASSWORD}@localhost/soc"
    result = soc_bot(workspace, url, "db", "upgrade")
    line = assert_one_line(
        result, "soc-bot supports SQLite and PostgreSQL; DATABASE_URL starts with mysql://."
    )
    assert "sqlite:///" in line and "postgresql://" in line
    assert files_under(workspace) == EMPTY


@NEEDS_POSTGRES
def test_a_role_postgresql_refuses(workspace):
    role = f"soc_nobody_{uuid.uuid4().hex[:8]}"
    result = soc_bot(workspace, postgres_url(username=role), "db", "upgrade")
    assert_one_line(result, f'has no role "{role}": correct the user in DATABASE_URL')
    assert not _exists("SELECT 1 FROM pg_roles WHERE rolname = :name", role)


@NEEDS_POSTGRES
def test_a_database_that_does_not_exist(workspace):
    name = f"soc_missing_{uuid.uuid4().hex[:8]}"
    result = soc_bot(workspace, postgres_url(database=name), "db", "upgrade")
    assert_one_line(result, f'has no database "{name}": create it (createdb {name})')
    assert not _exists("SELECT 1 FROM pg_database WHERE datname = :name", name)


@NEEDS_POSTGRES
def test_tls_required_by_a_server_without_it(workspace):
    if _server_setting("ssl") == "on":
        pytest.skip("this PostgreSQL server offers TLS")
    with fresh_postgres_database("soc_tls") as url:
        with_tls = make_url(url).set(password=PASSWORD).update_query_dict({"sslmode": "require"})
        result = soc_bot(workspace, with_tls.render_as_string(hide_password=False), "db", "upgrade")
        assert_one_line(
            result, "does not offer TLS, but DATABASE_URL requires it (sslmode=require)"
        )
        server = create_engine(normalise_database_url(url))
        assert inspect(server).get_table_names() == []  # nothing created
        server.dispose()


def _exists(query: str, name: str) -> bool:
    server = create_engine(normalise_database_url(PG_URL))
    with server.connect() as connection:
        found = connection.execute(text(query), {"name": name}).first() is not None
    server.dispose()
    return found


def _server_setting(name: str) -> str:
    server = create_engine(normalise_database_url(PG_URL))
    with server.connect() as connection:
        value = connection.exec_driver_sql(f"SHOW {name}").scalar_one()
    server.dispose()
    return value


# --- the servers and the worker refuse to start ------------------------------------------------


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["socket"], ["worker"]])
def test_servers_and_worker_refuse_to_start(workspace, command):
    port = closed_port()
    result = soc_bot(
        workspace, f"postgresql://soc:{PASSWORD}@127.0.0.1:{port}/soc", *command,
        SLACK_BOT_TOKEN="xoxb-not-real", SLACK_SIGNING_SECRET="not-real",
        SLACK_APP_TOKEN="xapp-not-real", SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
    )  # fmt: skip
    assert_one_line(result, f"Cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused)")
    assert "Booting worker" not in result.stderr and "Listening at" not in result.stderr
    assert files_under(workspace) == EMPTY


def test_the_traceback_is_there_at_debug(workspace):
    url = f"postgresql://soc:{PASSWORD}@127.0.0.1:{closed_port()}/soc"
    result = soc_bot(workspace, url, "db", "current", SOC_LOG_LEVEL="debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "psycopg.OperationalError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("soc-bot: Cannot reach PostgreSQL")
    assert PASSWORD not in result.stderr + result.stdout


def test_a_cli_refusal_shows_the_cli_syntax(workspace, engine, database_url):
    result = soc_bot(workspace, database_url, "member", "add", "U0X", "--name", "")
    line = assert_one_line(result, "Give the member's name.", exit_code=1)
    assert 'soc-bot member add U0123ABC --name "Jane Anson" --role member' in line
    assert "name=" not in line


# --- every command, in process ----------------------------------------------------------------

EVERY_COMMAND = [
    ["db", "upgrade"], ["db", "current"], ["db", "downgrade", "base"],
    ["run", "--as", "U1", "help"], ["console", "--as", "U1"], ["import", "annex_b.csv"], ["export"],
    ["export", "--format", "xlsx", "--output", "register.xlsx"], ["member", "list"],
    ["member", "add", "U0X", "--name", "Jane Anson"], ["partner", "list"],
    ["partner", "add", "Trading Standards"], ["meeting", "next"], ["remind", "--dry-run"],
    ["reminders", "status"], ["report", "quarterly"], ["report", "pack"], ["report", "chart"],
    ["audit", "verify"], ["backup", "backup.json"],
]  # fmt: skip


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_every_command_gives_the_one_line(command, tmp_path, monkeypatch, capsys):
    port = closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://soc:{PASSWORD}@127.0.0.1:{port}/soc")
    monkeypatch.chdir(tmp_path)
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and PASSWORD not in err
    assert err == (
        f"soc-bot: Cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused): is the "
        "server running, and is DATABASE_URL right?\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_restore_gives_the_one_line(board_engine, settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["backup", str(tmp_path / "backup.json")]) == 0
    monkeypatch.setenv("DATABASE_URL", f"postgresql://soc:{PASSWORD}@127.0.0.1:{closed_port()}/x")
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "backup.json")]) == 2
    assert capsys.readouterr().err.startswith("soc-bot: Cannot reach PostgreSQL at 127.0.0.1:")


def test_a_missing_sqlite_file_is_not_created(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'typo.db'}")
    assert main(["run", "--as", "U1", "action", "status"]) == 2
    assert capsys.readouterr().err == (
        f"soc-bot: There is no database at {tmp_path / 'typo.db'} yet: run `soc-bot db upgrade` "
        "first.\n"
    )
    assert list(tmp_path.iterdir()) == []


# --- the words for what could not be staged here ----------------------------------------------

POSTGRES = f"postgresql+psycopg://soc:{PASSWORD}@db.example.org:6543/board"


@pytest.mark.parametrize(
    ("driver_says", "expected"),
    [
        ('connection to server at "10.0.0.5", port 6543 failed: FATAL:  password authentication '
         'failed for user "soc"', 'PostgreSQL at db.example.org:6543 refused the password for '
         '"soc": correct the password in DATABASE_URL.'),
        ("connection to server at \"10.0.0.5\", port 6543 failed: fe_sendauth: no password "
         "supplied", 'wants a password for "soc"'),
        ('connection to server at "10.0.0.5", port 6543 failed: FATAL:  no pg_hba.conf entry for '
         'host "10.0.0.9", user "soc", database "board", no encryption',
         'does not let this machine connect as "soc" to "board"'),
        ("connection to server at \"10.0.0.5\", port 6543 failed: timeout expired",
         "Cannot reach PostgreSQL at db.example.org:6543 (no answer within 10 seconds)"),
        ("connection to server at \"10.0.0.5\", port 6543 failed: FATAL:  sorry, too many "
         "clients already", "has no connection free: lower WEB_CONCURRENCY or SOC_THREADS"),
        ("connection to server at \"10.0.0.5\", port 6543 failed: FATAL:  the database system "
         "is starting up", "is not accepting connections (the database system is starting up)"),
        (f"connection to server at \"10.0.0.5\", port 6543 failed: something new {PASSWORD}",
         "Cannot use PostgreSQL at db.example.org:6543: something new ***. Check DATABASE_URL"),
    ],
)  # fmt: skip
def test_postgres_refusals_in_words(driver_says, expected):
    error = OperationalError("SELECT 1", {}, Exception(f"connection failed: {driver_says}"))
    line = explain_database_error(error, POSTGRES)
    assert expected in line and PASSWORD not in line and "\n" not in line


@pytest.mark.parametrize(
    ("driver_says", "expected"),
    [
        ("database is locked", "stayed locked by another process for 30 seconds"),
        ("attempt to write a readonly database", "is read-only for this user"),
    ],
)
def test_sqlite_refusals_in_words(driver_says, expected, tmp_path):
    error = OperationalError("BEGIN IMMEDIATE", {}, Exception(driver_says))
    line = explain_database_error(error, f"sqlite:///{tmp_path / 'soc.db'}")
    assert expected in line and str(tmp_path / "soc.db") in line


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("soc.db", "DATABASE_URL is not a database URL: write sqlite:///"),
        (f"postgresql://soc:{PASSWORD}@db:notaport/soc", "DATABASE_URL is not a database URL"),
        (f"postgresql+psycopg2://soc:{PASSWORD}@db/soc", "starts with postgresql+psycopg2://"),
        (f"oracle://soc:{PASSWORD}@db/soc", "DATABASE_URL starts with oracle://"),
    ],
)
def test_database_urls_soc_bot_cannot_use(database_url, expected):
    with pytest.raises(SettingsError, match=expected.replace("+", r"\+")) as refused:
        load_settings({"DATABASE_URL": database_url})
    assert PASSWORD not in str(refused.value)


def test_database_urls_soc_bot_can_use():
    for given, used in [
        ("", "sqlite:///soc.db"),
        ("sqlite://", "sqlite://"),
        ("postgres://soc@db/soc", "postgresql+psycopg://soc@db/soc"),
        ("postgresql+psycopg://soc:***@db/soc?sslmode=require",
         "postgresql+psycopg://soc:***@db/soc?sslmode=require"),
    ]:  # fmt: skip
        assert load_settings({"DATABASE_URL": given}).database_url == used
    with pytest.raises(SettingsError, match="SOC_LOG_LEVEL='loud'"):
        load_settings({"SOC_LOG_LEVEL": "loud"})


def test_cli_hints_show_the_cli_form(board_engine, database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    two_partners = "CoLP, Trading Standards"
    assert main(["member", "add", "U0X", "--name", "Jane", "--partner", two_partners]) == 1
    err = capsys.readouterr().err
    assert err.startswith("soc-bot: A member belongs to one partner. Usage: soc-bot member add")
    assert "`soc-bot partner list`" in err and "partner=" not in err
    pack = ["report", "pack", "--meeting", "01/01/2030", "--output", str(tmp_path / "pack.md")]
    assert main([*pack, "--format", "md"]) == 1
    assert "See the meetings with `soc-bot meeting list`" in capsys.readouterr().err
    assert main(["run", "--as", SECRETARIAT, "action", "status", "all"]) == 0
    assert f"`soc-bot run --as {SECRETARIAT} action status all page 2`" in capsys.readouterr().out
