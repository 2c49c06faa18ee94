"""Fixtures for the Slack tests (a pytest plugin: `pytest_plugins = ("tests.slack_fixtures",)`)."""

import pytest

from bot.slack.server import create_wsgi_app
from tests.conftest import NOW
from tests.slack_stub import SlackHarness, SlackStub, slack_settings


@pytest.fixture
def stub():
    """The running Slack stand-in."""
    server = SlackStub().start()
    yield server
    server.stop()


@pytest.fixture
def slack(board_engine, settings, stub) -> SlackHarness:
    """The real HTTP app over the test Board at NOW, talking to the stand-in."""
    web_app = create_wsgi_app(slack_settings(settings, stub), engine=board_engine,
                              clock=lambda: NOW)  # fmt: skip
    return SlackHarness(web_app, stub)
