"""Fixtures for the Teams tests (a pytest plugin: `pytest_plugins = ("tests.teams_fixtures",)`)."""

import pytest

from bot.teams.app import create_app
from tests.conftest import CHAIR, COLP, COOPTEE, CST, DEPUTY, NOW, OBSERVER, SECRETARIAT, TRADING
from tests.teams_stub import (
    ConnectorStub,
    TeamsHarness,
    TokenSigner,
    link_teams,
    local_connection_manager,
    object_id,
    point_keys_at,
    teams_settings,
)

# Every member of the test Board has a Teams identity too (their `object_id`).
TEAMS_PEOPLE = (CHAIR, DEPUTY, SECRETARIAT, COLP, CST, TRADING, COOPTEE, OBSERVER)


@pytest.fixture
def connector():
    """The recording Bot Connector stand-in (and JWKS)."""
    stub = ConnectorStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def teams(board_engine, settings, connector, monkeypatch) -> TeamsHarness:
    """The Teams bot over the test Board, every test member linked by `object_id(slack id)`."""
    link_teams(board_engine, settings.board_slug, {p: object_id(p) for p in TEAMS_PEOPLE})
    point_keys_at(monkeypatch, connector)
    config = teams_settings()
    bot = create_app(settings, config, engine=board_engine, clock=lambda: NOW,
                     connection_manager=local_connection_manager(config))  # fmt: skip
    harness = TeamsHarness(bot, connector, TokenSigner(connector))
    yield harness
    harness.close()
