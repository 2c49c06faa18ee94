"""Teams settings from the environment: the Entra app, anonymous mode and the service-URL check.

The Agents SDK's own names (`CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`, ...) work
too; the shorter `TEAMS_*` names win when both are set. A tenant with an app registration of
its own is one more SDK connection, `CONNECTIONS__<NAME>__SETTINGS__CLIENTID|CLIENTSECRET|
TENANTID`: its requests must be addressed to that app, and its replies use that app's token.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import SettingsError, missing_settings_error

DEFAULT_CONNECTION = "SERVICE_CONNECTION"
SDK_PREFIX = f"CONNECTIONS__{DEFAULT_CONNECTION}__SETTINGS__"
_CONNECTION_KEY = re.compile(r"CONNECTIONS__(\w+?)__SETTINGS__(CLIENTID|CLIENTSECRET|TENANTID)")
DEFAULT_PORT = 3978
LOOPBACK = "127.0.0.1"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class TenantApp:
    """One tenant's own Entra app registration: its own connection to Teams."""

    name: str
    client_id: str
    client_secret: str
    tenant_id: str

    def __repr__(self) -> str:
        return f"TenantApp({self.name!r}, client_id={self.client_id!r}, tenant={self.tenant_id!r})"


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
    # Where Teams clients reach this server (https://host), for the RAG chart's signed links.
    public_url: str = ""
    # Tenants with an app registration of their own (the rest share the app above).
    tenant_apps: tuple[TenantApp, ...] = ()

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
        connections = {DEFAULT_CONNECTION: {"SETTINGS": settings}}
        for app in self.tenant_apps:
            connections[app.name] = {"SETTINGS": {
                **settings, "CLIENTID": app.client_id, "CLIENTSECRET": app.client_secret,
                "TENANTID": app.tenant_id}}  # fmt: skip
        configuration: dict[str, object] = {"CONNECTIONS": connections}
        if self.tenant_apps:
            # Each request's token names the app it was sent to (its audience); the SDK then
            # answers with that app's own token, never another tenant's.
            apps = [(DEFAULT_CONNECTION, self.client_id)] + [
                (app.name, app.client_id) for app in self.tenant_apps
            ]
            configuration["CONNECTIONSMAP"] = [
                {"AUDIENCE": client_id, "SERVICEURL": "*", "CONNECTION": name}
                for name, client_id in apps
                if client_id
            ]
        return configuration

    def connection_for_tenant(self, tenant_id: str) -> tuple[str, str]:
        """(SDK connection name, app id) serving this tenant: its own app, else the shared one."""
        for app in self.tenant_apps:
            if app.tenant_id.casefold() == tenant_id.casefold():
                return app.name, app.client_id
        return DEFAULT_CONNECTION, self.client_id


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
        public_url=_public_url(env.get("TEAMS_PUBLIC_URL") or ""),
        tenant_apps=_tenant_apps(env),
    )


def _tenant_apps(env: Mapping[str, str]) -> tuple[TenantApp, ...]:
    """Every connection besides the default one, each complete and each its own tenant."""
    found: dict[str, dict[str, str]] = {}
    for key, value in env.items():
        match = _CONNECTION_KEY.fullmatch(key)
        if match and match.group(1) != DEFAULT_CONNECTION:
            found.setdefault(match.group(1), {})[match.group(2)] = value.strip()
    apps = []
    for name, values in sorted(found.items()):
        parts = ("CLIENTID", "CLIENTSECRET", "TENANTID")
        missing = [f"CONNECTIONS__{name}__SETTINGS__{p}" for p in parts if not values.get(p)]
        if missing:
            raise missing_settings_error(
                missing, "A tenant's own Teams app needs its client id, secret and tenant id."
            )
        apps.append(TenantApp(name, values["CLIENTID"], values["CLIENTSECRET"],
                              values["TENANTID"]))  # fmt: skip
    tenants = [app.tenant_id.casefold() for app in apps]
    if len(set(tenants)) != len(tenants):
        raise SettingsError("Two Teams connections name the same tenant: keep one per tenant.")
    return tuple(apps)


def _public_url(text: str) -> str:
    """`https://host[/path]` without a trailing slash; plain http only on this machine."""
    url = text.strip().rstrip("/")
    local = url.startswith(("http://127.0.0.1", "http://localhost"))
    if url and not (url.startswith("https://") or local):
        raise SettingsError(
            f"TEAMS_PUBLIC_URL={url!r} is not an https:// address: Teams only shows images "
            "from https."
        )
    return url


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().casefold()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not true or false.")
