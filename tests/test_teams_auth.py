"""Teams requests are authenticated by the SDK's JWT check, with keys from a local JWKS."""

import pytest
from sqlmodel import Session, select

from bot.config import SettingsError
from bot.teams.app import create_app
from bot.teams.config import load_teams_settings
from bot.teams.server import listen_host
from models.tables import Action, ActionChange
from tests.conftest import COLP, NOW
from tests.teams_stub import (
    TeamsHarness,
    TokenSigner,
    local_connection_manager,
    object_id,
    teams_settings,
)

pytest_plugins = ("tests.teams_fixtures",)


def _changes(engine) -> int:
    with Session(engine) as session:
        return len(list(session.exec(select(ActionChange))))


def _rag(engine, number: int) -> str:
    with Session(engine) as session:
        return session.exec(select(Action).where(Action.number == number)).one().rag


@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        "forged",
        "expired",
        "wrong-audience",
        "wrong-issuer",
    ],
)
def test_bad_or_missing_tokens_are_refused_and_change_nothing(
    teams, connector, board_engine, token
):
    signer = teams.signer
    tokens = {
        None: None,
        "not-a-jwt": "not-a-jwt",
        "forged": signer.token(forged=True),
        # The SDK allows five minutes of clock skew.
        "expired": signer.token(expires_in=-600),
        "wrong-audience": signer.token(audience="someone-elses-bot"),
        "wrong-issuer": signer.token(issuer="https://evil.example.com"),
    }
    before = _changes(board_engine)
    activity = teams.personal_message(object_id(COLP), "action update A-1 rag=red note=x")
    status, _ = teams.post(activity, token=tokens[token])
    assert status == 401
    assert _changes(board_engine) == before
    assert _rag(board_engine, 1) == "amber"
    assert connector.calls == []


def test_a_valid_token_is_accepted(teams, board_engine):
    activity = teams.personal_message(object_id(COLP), "action update A-1 rag=red note=x")
    status, _ = teams.post(activity)
    assert status == 202
    assert _rag(board_engine, 1) == "red"


def test_an_invoke_without_a_token_is_refused(teams, board_engine):
    activity = teams.invoke(object_id(COLP), "soc.rag",
                            {"target": "A-1:1", "input": "rag.0", "rag.0": "red"})  # fmt: skip
    assert teams.post(activity, token=None)[0] == 401
    assert _rag(board_engine, 1) == "amber"


def test_the_server_refuses_to_start_without_credentials(settings, board_engine):
    with pytest.raises(SettingsError) as refused:
        create_app(settings, load_teams_settings({}), engine=board_engine)
    message = str(refused.value)
    for name in ("TEAMS_CLIENT_ID", "TEAMS_CLIENT_SECRET", "TEAMS_TENANT_ID", "TEAMS_ANONYMOUS"):
        assert name in message
    with pytest.raises(SettingsError):
        create_app(settings, teams_settings(client_secret=""), engine=board_engine)


def test_anonymous_mode_is_explicit_and_listens_on_loopback_only():
    anonymous = load_teams_settings({"TEAMS_ANONYMOUS": "true"})
    anonymous.require_credentials()  # allowed: asked for
    assert listen_host(anonymous, "0.0.0.0") == "127.0.0.1"
    production = load_teams_settings({"TEAMS_CLIENT_ID": "a", "TEAMS_CLIENT_SECRET": "b",
                                      "TEAMS_TENANT_ID": "c"})  # fmt: skip
    assert listen_host(production, "0.0.0.0") == "0.0.0.0"
    assert production.check_service_url is True
    assert "b" not in repr(production)
    config = production.sdk_configuration()["CONNECTIONS"]["SERVICE_CONNECTION"]["SETTINGS"]
    assert config["VALIDATE_ISSUER"] == "true"
    assert config["ANONYMOUS_ALLOWED"] == "false"
    with pytest.raises(SettingsError):
        load_teams_settings({"TEAMS_ANONYMOUS": "maybe"})


def test_anonymous_mode_still_refuses_a_bad_token(settings, board_engine, connector, monkeypatch):
    from tests.teams_stub import point_keys_at

    point_keys_at(monkeypatch, connector)
    config = teams_settings(anonymous=True)
    bot = create_app(settings, config, engine=board_engine, clock=lambda: NOW,
                     connection_manager=local_connection_manager(config))  # fmt: skip
    harness = TeamsHarness(bot, connector, TokenSigner(connector))
    try:
        activity = harness.personal_message(object_id(COLP), "help")
        assert harness.post(activity, token=harness.signer.token(forged=True))[0] == 401
        assert harness.post(activity, token=None)[0] == 202
    finally:
        harness.close()


def test_production_refuses_a_service_url_that_is_not_microsofts(
    settings, board_engine, connector, monkeypatch
):
    from tests.teams_stub import point_keys_at

    point_keys_at(monkeypatch, connector)
    config = teams_settings(check_service_url=True)
    bot = create_app(settings, config, engine=board_engine, clock=lambda: NOW,
                     connection_manager=local_connection_manager(config))  # fmt: skip
    harness = TeamsHarness(bot, connector, TokenSigner(connector))
    try:
        activity = harness.personal_message(object_id(COLP), "action update A-1 rag=red note=x")
        assert harness.post(activity)[0] == 401
        assert connector.calls == []
        assert _rag(board_engine, 1) == "amber"
    finally:
        harness.close()
