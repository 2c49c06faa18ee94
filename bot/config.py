"""Settings from the environment, checked at start-up with messages that name what is missing."""

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.db import SUPPORTED_DRIVERS, normalise_database_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# The bot scopes a workspace grants when it installs the app (manifest.yml asks for the same).
DEFAULT_SLACK_SCOPES = ("commands", "chat:write", "im:write", "files:write", "im:history")
DATABASE_URL_EXAMPLES = "sqlite:///path/to/soc.db or postgresql://user:password@host:5432/database"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once from the environment."""

    database_url: str
    board_slug: str = "soc"
    # A new Board's first name and time zone; after that they are the Board's own settings.
    board_name: str = "Serious and Organised Crime Partnership Board"
    timezone: str = "Europe/London"
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Many workspaces (OAuth installs): the app's credentials instead of one SLACK_BOT_TOKEN.
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_scopes: tuple[str, ...] = DEFAULT_SLACK_SCOPES
    slack_redirect_uri: str = ""
    port: int = 3000
    log_level: str = "WARNING"

    @property
    def slack_installs(self) -> bool:
        """Whether Slack runs for many workspaces, each installing the app (OAuth)."""
        return bool(self.slack_client_id)

    @property
    def tz(self) -> ZoneInfo:
        """The default time zone: a new Board's first, and for replies made outside any Board."""
        return ZoneInfo(self.timezone)

    def require(self, *names: str) -> None:
        """Fail with one message naming every missing setting among `names`."""
        missing = [n.upper() for n in names if not getattr(self, n)]
        if missing:
            raise missing_settings_error(
                missing, "Set them in the environment (see the README's configuration table)."
            )

    def __repr__(self) -> str:
        # Never show tokens or secrets, even in a traceback or a debug log.
        return (
            f"Settings(database_url={_redact_url(self.database_url)!r}, board={self.board_slug!r})"
        )


def missing_settings_error(missing: list[str], advice: str) -> SettingsError:
    """One error naming every missing setting, then `advice` on where to set them."""
    return SettingsError(
        "Missing setting"
        + ("s" if len(missing) > 1 else "")
        + ": "
        + ", ".join(missing)
        + ". "
        + advice
    )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate settings (from `os.environ` unless a mapping is given)."""
    env = os.environ if environ is None else environ
    timezone = env.get("SOC_TIMEZONE") or "Europe/London"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"SOC_TIMEZONE={timezone!r} is not a time zone (e.g. Europe/London)."
        ) from None
    port_text = env.get("PORT") or "3000"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"PORT={port_text!r} is not a port number.")
    api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    return Settings(
        database_url=check_database_url(env.get("DATABASE_URL") or ""),
        board_slug=env.get("SOC_BOARD") or "soc",
        board_name=env.get("SOC_BOARD_NAME") or Settings.board_name,
        timezone=timezone,
        slack_bot_token=env.get("SLACK_BOT_TOKEN", ""),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        slack_app_token=env.get("SLACK_APP_TOKEN", ""),
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        slack_client_id=env.get("SLACK_CLIENT_ID", ""),
        slack_client_secret=env.get("SLACK_CLIENT_SECRET", ""),
        slack_scopes=slack_scopes(env),
        slack_redirect_uri=env.get("SLACK_REDIRECT_URI", ""),
        port=int(port_text),
        log_level=log_level(env),
    )


def check_database_url(text: str) -> str:
    """DATABASE_URL normalised, or a SettingsError saying why soc-bot cannot use it."""
    url = normalise_database_url(text)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Not echoed: a mangled URL may still hold a password.
        raise SettingsError(
            f"DATABASE_URL is not a database URL: write {DATABASE_URL_EXAMPLES}."
        ) from None
    scheme = text.partition("://")[0]  # shown: the password, if any, comes after "://"
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in SUPPORTED_DRIVERS:
        raise SettingsError(
            f"soc-bot supports SQLite and PostgreSQL; DATABASE_URL starts with {scheme}://. "
            f"Write {DATABASE_URL_EXAMPLES}."
        )
    if driver != SUPPORTED_DRIVERS[backend]:
        raise SettingsError(
            f"soc-bot reaches {backend} through {SUPPORTED_DRIVERS[backend]}, but DATABASE_URL "
            f"starts with {scheme}://: write {backend}:// instead."
        )
    return url


def slack_scopes(environ: dict[str, str]) -> tuple[str, ...]:
    """SLACK_SCOPES (comma-separated bot scopes), or the ones the app needs."""
    scopes = tuple(s.strip() for s in (environ.get("SLACK_SCOPES") or "").split(",") if s.strip())
    return scopes or DEFAULT_SLACK_SCOPES


def log_level(environ: dict[str, str]) -> str:
    """SOC_LOG_LEVEL, checked: WARNING unless set (DEBUG shows the traceback behind an error)."""
    level = (environ.get("SOC_LOG_LEVEL") or "WARNING").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"SOC_LOG_LEVEL={environ.get('SOC_LOG_LEVEL')!r} is not one of {', '.join(LOG_LEVELS)}."
        )
    return level


def _redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
