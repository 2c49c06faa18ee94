"""Teams settings from the environment: the Entra app, anonymous mode and the service-URL check.

The Agents SDK's own names (`CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`, ...) work
too; the shorter `TEAMS_*` names win when both are set.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import SettingsError, missing_settings_error

SDK_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
DEFAULT_PORT = 3978
LOOPBACK = "127.0.0.1"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class TeamsSettings:
    """How the Teams bot authenticates and where it listens."""

    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""
    # Local testing only: no Authorization header is required, and the server binds loopback.
    anonymous: bool = False
    # Refuse activities whose serviceUrl is not a Microsoft connector (off only for local tests).
    check_service_url: bool = True
    port: int = DEFAULT_PORT

    def __repr__(self) -> str:
        # Never show the secret, even in a traceback.
        return f"TeamsSettings(client_id={self.client_id!r}, anonymous={self.anonymous})"

    def require_credentials(self) -> None:
        """Refuse to run without the app's id, secret and tenant, unless anonymous on purpose."""
        if self.anonymous:
            return
        missing = [
            name
            for name, value in (
                ("TEAMS_CLIENT_ID", self.client_id),
                ("TEAMS_CLIENT_SECRET", self.client_secret),
                ("TEAMS_TENANT_ID", self.tenant_id),
            )  # fmt: skip
            if not value
        ]
        if missing:
            raise missing_settings_error(
                missing,
                "Teams requests are authenticated with the Entra app registration (see the "
                'README\'s "Run it in Teams"); for a local test without Teams, set '
                "TEAMS_ANONYMOUS=true.",
            )

    def sdk_configuration(self) -> dict:
        """The Agents SDK's connection settings: issuer checked, anonymous only if asked."""
        settings: dict[str, object] = {
            "AUTHTYPE": "ClientSecret",
            "VALIDATE_ISSUER": "true",
            "ANONYMOUS_ALLOWED": "true" if self.anonymous else "false",
        }
        for key, value in (("CLIENTID", self.client_id), ("CLIENTSECRET", self.client_secret),
                           ("TENANTID", self.tenant_id)):  # fmt: skip
            if value:
                settings[key] = value
        return {"CONNECTIONS": {"SERVICE_CONNECTION": {"SETTINGS": settings}}}


def load_teams_settings(environ: Mapping[str, str] | None = None) -> TeamsSettings:
    """Read the Teams settings (from `os.environ` unless a mapping is given)."""
    env = os.environ if environ is None else environ

    def text(name: str, sdk_name: str) -> str:
        return (env.get(name) or env.get(SDK_PREFIX + sdk_name) or "").strip()

    anonymous = _flag(env, "TEAMS_ANONYMOUS", False) or _flag(
        env, SDK_PREFIX + "ANONYMOUS_ALLOWED", False
    )
    port_text = (env.get("TEAMS_PORT") or str(DEFAULT_PORT)).strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"TEAMS_PORT={port_text!r} is not a port number.")
    return TeamsSettings(
        client_id=text("TEAMS_CLIENT_ID", "CLIENTID"),
        client_secret=text("TEAMS_CLIENT_SECRET", "CLIENTSECRET"),
        tenant_id=text("TEAMS_TENANT_ID", "TENANTID"),
        anonymous=anonymous,
        check_service_url=_flag(env, "TEAMS_CHECK_SERVICE_URL", True),
        port=int(port_text),
    )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().casefold()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not true or false.")
