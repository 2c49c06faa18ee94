"""The RAG chart in a Teams card: a signed, short-lived link the bot serves, with no secrets."""

import urllib.error
import urllib.request
import warnings
from datetime import timedelta

import pytest
from aiohttp import web

from bot.config import SettingsError
from bot.teams.charts import ChartLinks
from bot.teams.config import load_teams_settings
from bot.teams.server import SDK_CONFIGURATION, create_web_app
from tests.conftest import CHAIR, NOW
from tests.teams_stub import object_id, valid_card

pytest_plugins = ("tests.teams_fixtures",)

PNG = b"\x89PNG\r\n\x1a\n"
ADD = 'action add area="Cyber attack" lead=CoLP title="{title}" rag=red confidential={secret}'


def _chart_card(harness, connector, validator) -> tuple[dict, str]:
    """The chair's `@soc rag chart` in the channel: its card and the chart's link path."""
    before = len(connector.sent())
    harness.post(harness.channel_message(object_id(CHAIR), "rag chart"))
    [message] = connector.sent()[before:]  # the chart is in the card, not a message of its own
    card = valid_card(validator, message.card)
    [image] = [e for e in card["body"] if e["type"] == "Image"]
    assert image["url"].startswith(harness.url + "/charts/") and image["url"].endswith(".png")
    assert image["altText"].startswith("RAG chart, ")
    return card, image["url"].removeprefix(harness.url)


def _fetch(harness, path: str):
    """GET a chart link as a Teams client does (no token): (status, body bytes, headers)."""
    try:
        with urllib.request.urlopen(harness.url + path, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_the_chart_is_an_image_in_the_card_served_from_a_signed_link(
    charted_teams, connector, validator
):
    _, path = _chart_card(charted_teams, connector, validator)
    status, body, headers = _fetch(charted_teams, path)
    assert status == 200
    assert headers["Content-Type"] == "image/png" and body.startswith(PNG)
    assert headers["Cache-Control"] == "private, max-age=600"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_tampered_or_foreign_link_is_refused_with_no_data(charted_teams, connector, validator):
    _, path = _chart_card(charted_teams, connector, validator)
    token = path.removeprefix("/charts/").removesuffix(".png")
    payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other = ChartLinks(b"another key" * 3, charted_teams.url, lambda: NOW)
    forged = other.url("soc", 1).removeprefix(charted_teams.url)
    for bad in (f"/charts/{payload}.{flipped}.png", f"/charts/{payload[:-2]}.{signature}.png",
                forged, "/charts/nonsense.png", "/charts/..png"):  # fmt: skip
        status, body, _ = _fetch(charted_teams, bad)
        assert (status, body) == (404, b""), bad


def test_a_link_expires_after_ten_minutes(charted_teams, connector, validator, teams_clock):
    _, path = _chart_card(charted_teams, connector, validator)
    teams_clock.now = NOW + timedelta(minutes=9, seconds=59)
    status, _, headers = _fetch(charted_teams, path)
    assert status == 200 and headers["Cache-Control"] == "private, max-age=1"
    teams_clock.now = NOW + timedelta(minutes=10)
    status, body, _ = _fetch(charted_teams, path)
    assert (status, body) == (403, b"")


def test_the_chart_never_counts_a_confidential_action(charted_teams, connector, validator, console):
    _, first = _chart_card(charted_teams, connector, validator)
    chair = console.as_user(CHAIR)
    assert not chair.ask(ADD.format(title="Covert operation", secret="yes")).error
    _, with_secret = _chart_card(charted_teams, connector, validator)
    assert with_secret != first  # a new register version, a new link
    assert _fetch(charted_teams, with_secret)[1] == _fetch(charted_teams, first)[1]
    # The comparison can fail: an action anyone may see changes the picture.
    assert not chair.ask(ADD.format(title="Open operation", secret="no")).error
    _, with_open = _chart_card(charted_teams, connector, validator)
    assert _fetch(charted_teams, with_open)[1] != _fetch(charted_teams, first)[1]


def test_without_a_public_address_the_chart_follows_as_its_own_image(teams, connector):
    teams.post(teams.channel_message(object_id(CHAIR), "rag chart"))
    summary, image = connector.sent()
    assert not [e for e in summary.card["body"] if e["type"] == "Image"]
    assert image.body["attachments"][0]["contentType"] == "image/png"


def test_the_public_address_must_be_https():
    assert load_teams_settings({"TEAMS_PUBLIC_URL": "https://soc.example.org/"}).public_url == (
        "https://soc.example.org"
    )
    assert load_teams_settings({}).public_url == ""
    with pytest.raises(SettingsError, match="https"):
        load_teams_settings({"TEAMS_PUBLIC_URL": "http://soc.example.org"})


def test_no_string_keys_on_the_application_but_the_sdks_own(teams):
    with warnings.catch_warnings(record=True) as seen:
        application = create_web_app(teams.bot)
        status, _ = teams.post(teams.personal_message(object_id(CHAIR), "help"))
    assert status == 202
    assert [key for key in application if isinstance(key, str)] == [SDK_CONFIGURATION]
    assert not [w for w in seen if issubclass(w.category, web.NotAppKeyWarning)]
