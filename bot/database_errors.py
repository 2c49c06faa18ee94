"""A database that cannot be used, explained in one line an operator can act on."""

import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from models.db import CONNECT_TIMEOUT_SECONDS, sqlite_path

DEBUG_HINT = "SOC_LOG_LEVEL=DEBUG shows the traceback"
_POSTGRES_PREFIXES = re.compile(
    r'^(connection failed: )?(connection to server (at "[^"]*"( \([^)]*\))?, port \d+|on socket '
    r'"[^"]*") '
    r"failed: )?(FATAL: +|ERROR: +)?",
)


def explain_database_error(error: BaseException, database_url: str) -> str | None:
    """What is wrong with the database and what to do, in one line without the password;
    None when `error` did not come from the database."""
    if not isinstance(error, SQLAlchemyError):
        return None
    url = make_url(database_url)
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    said, text = str(driver_error).casefold(), _first_line(str(driver_error), url)
    if url.get_backend_name() == "sqlite":
        line = _sqlite_problem(said, text, sqlite_path(url))
    else:
        line = _postgres_problem(said, text, url)
        if line is None and isinstance(error, OperationalError):
            line = f"Cannot use {_postgres_at(url)}: {text}. Check DATABASE_URL and the server."
    return line or f"The database refused: {text} ({DEBUG_HINT})."


def _postgres_at(url: URL) -> str:
    return f"PostgreSQL at {url.host}:{url.port or 5432}" if url.host else "PostgreSQL"


def _postgres_problem(said: str, text: str, url: URL) -> str | None:
    at, where = _postgres_at(url), f"{url.host or 'localhost'}:{url.port or 5432}"
    user, database = url.username or "(your login name)", url.database or url.username
    if "connection refused" in said:
        return (
            f"Cannot reach {at} (connection refused): is the server running, and is "
            "DATABASE_URL right?"
        )
    if "resolve host" in said or "translate host name" in said or "name or service" in said:
        return (
            f"Cannot reach {at} (the host name {url.host} does not resolve): "
            "is the host in DATABASE_URL right?"
        )
    if "timeout expired" in said or "timed out" in said:
        return (
            f"Cannot reach {at} (no answer within {CONNECT_TIMEOUT_SECONDS} seconds): is the "
            "server running, and may this machine reach it through the firewall?"
        )
    if "no such file or directory" in said and not url.host:
        return (
            "Cannot reach PostgreSQL on the local socket (no server listens there): is it "
            "running, or should DATABASE_URL name a host (postgresql://user@host/database)?"
        )
    if re.search(r'role ".*" does not exist', said):
        return (
            f'{at} has no role "{user}": correct the user in DATABASE_URL, or create the role '
            f"(createuser {user})."
        )
    if "password authentication failed" in said:
        return f'{at} refused the password for "{user}": correct the password in DATABASE_URL.'
    if "no password supplied" in said:
        return (
            f'{at} wants a password for "{user}": put it in DATABASE_URL '
            f"(postgresql://{user}:PASSWORD@{where}/{database})."
        )
    if re.search(r'database ".*" does not exist', said):
        return (
            f'{at} has no database "{database}": create it (createdb {database}), '
            "or correct the database name in DATABASE_URL."
        )
    if "pg_hba.conf" in said:
        return (
            f'{at} does not let this machine connect as "{user}" to "{database}" (no pg_hba.conf '
            "entry): allow it in the server's pg_hba.conf, or check DATABASE_URL."
        )
    if "does not support ssl" in said:
        mode = url.query.get("sslmode", "require")
        return (
            f"{at} does not offer TLS, but DATABASE_URL requires it (sslmode={mode}): turn TLS on "
            "at the server, or check that DATABASE_URL names the right server."
        )
    if "permission denied for database" in said:
        return (
            f'The role "{user}" may not connect to the database "{database}" at {where}: '
            f"GRANT CONNECT ON DATABASE {database} TO {user}, or use another role."
        )
    if "too many clients" in said or "too many connections" in said:
        return (
            f"{at} has no connection free: lower WEB_CONCURRENCY or SOC_THREADS, or raise the "
            "server's max_connections."
        )
    if "starting up" in said or "shutting down" in said or "recovery mode" in said:
        return f"{at} is not accepting connections ({text}): try again in a moment."
    return None


def _sqlite_problem(said: str, text: str, path: Path | None) -> str | None:
    if path is None:
        return None
    shown = path.absolute()
    if "unable to open database file" in said:
        if not shown.parent.is_dir():
            return (
                f"Cannot open the SQLite database {shown}: the folder {shown.parent} does not "
                "exist. Create it, or correct DATABASE_URL."
            )
        if shown.is_dir():
            return (
                f"Cannot open the SQLite database {shown}: that is a folder. Point DATABASE_URL "
                f"at a file in it (sqlite:///{shown / 'soc.db'})."
            )
        return (
            f"Cannot open the SQLite database {shown}: let this user read and write the file "
            "and its folder, or correct DATABASE_URL."
        )
    if "file is not a database" in said or "file is encrypted" in said:
        return (
            f"{shown} is not a SQLite database: point DATABASE_URL at soc-bot's database, or at "
            "a new file name to start one (then run `soc-bot db upgrade`)."
        )
    if "readonly database" in said:
        return (
            f"The SQLite database {shown} is read-only for this user: let it write the file "
            "and its folder (SQLite keeps -wal and -shm files beside it)."
        )
    if "database is locked" in said:
        return (
            f"The SQLite database {shown} stayed locked by another process for 30 seconds: is "
            "another soc-bot command (a restore, an import) still running?"
        )
    if "disk is full" in said or "disk i/o error" in said:
        return f"Cannot write the SQLite database {shown} ({text}): check the disk it is on."
    return None


def _first_line(text: str, url: URL) -> str:
    """The driver's message: its first line, without libpq's preamble, never the password."""
    line = text.strip().splitlines()[0] if text.strip() else "no message"
    if url.password:
        line = line.replace(str(url.password), "***")
    return _POSTGRES_PREFIXES.sub("", line).strip().rstrip(".")
