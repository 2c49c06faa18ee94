"""Settings from the environment, checked at start-up with messages that name what is missing."""

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.db import normalise_database_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once from the environment."""

    database_url: str
    board_slug: str = "soc"
    board_name: str = "Serious and Organised Crime Partnership Board"
    timezone: str = "Europe/London"
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000

    @property
    def tz(self) -> ZoneInfo:
        """The Board's time zone."""
        return ZoneInfo(self.timezone)

    def require(self, *names: str) -> None:
        """Fail with one message naming every missing setting among `names`."""
        missing = [n.upper() for n in names if not getattr(self, n)]
        if missing:
            raise SettingsError(
                "Missing setting"
                + ("s" if len(missing) > 1 else "")
                + ": "
                + ", ".join(missing)
                + ". Set them in the environment (see the README's configuration table)."
            )

    def __repr__(self) -> str:
        # Never show tokens or secrets, even in a traceback or a debug log.
        return (
            f"Settings(database_url={_redact_url(self.database_url)!r}, board={self.board_slug!r})"
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
        database_url=normalise_database_url(env.get("DATABASE_URL")),
        board_slug=env.get("SOC_BOARD") or "soc",
        board_name=env.get("SOC_BOARD_NAME") or Settings.board_name,
        timezone=timezone,
        slack_bot_token=env.get("SLACK_BOT_TOKEN", ""),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        slack_app_token=env.get("SLACK_APP_TOKEN", ""),
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        port=int(port_text),
    )


def _redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
