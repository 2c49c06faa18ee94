"""Many workspaces: installing through Slack's OAuth flow, each request on its Board, uninstall."""

import re
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, func
from sqlmodel import Session, select

from bot.cli.main import main
from bot.config import SettingsError
from bot.slack.app import create_app
from bot.slack.install import installation_store
from bot.slack.server import create_wsgi_app
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from models.people import find_member_by_identity
from models.slack_store import slack_bots, slack_installations, slack_oauth_states
from models.tables import Action, Board, Role
from models.workspaces import SLACK, bindings_of
from tests.conftest import COLP, NOW, SECRETARIAT
from tests.model_fixtures import db_url  # noqa: F401  (fixture)
from tests.slack_stub import (
    BOT_TOKEN,
    CLIENT_ID,
    TEAM,
    SlackHarness,
    install_settings,
)

pytest_plugins = ("tests.slack_fixtures",)

ALPHA, BETA = "T0ALPHA", "T0BETA"
ALPHA_ADMIN, BETA_ADMIN = "UALPHAADMIN", "UBETAADMIN"
NOT_SET_UP = "not set up for this Slack workspace"


@pytest.fixture
def web_app(engine, settings, stub):
    """The real HTTP app for many workspaces, on an empty migrated database."""
    return create_wsgi_app(install_settings(settings, stub), engine=engine, clock=lambda: NOW)


def start_install(browser) -> str:
    """Open the install link in a browser; the `state` Slack's consent screen is sent."""
    started = browser.get("/slack/install")
    assert started.status_code == 302
    target = urlparse(started.headers["Location"])
    assert (target.netloc, target.path) == ("slack.com", "/oauth/v2/authorize")
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert "commands" in query["scope"][0].split(",")
    return query["state"][0]


def install(web_app, stub, team: str, name: str, installer: str):
    """Go through the whole install as the person would; Slack's redirect's answer."""
    browser = web_app.test_client()
    state = start_install(browser)
    stub.grant(f"code-{team}", team, name, installer)
    return browser.get(f"/slack/oauth_redirect?code=code-{team}&state={state}")


def board_of(engine, team: str) -> Board:
    with Session(engine) as session:
        board = get_board(session=session, slug=f"slack-{team.lower()}")
        assert board is not None, team
        return board


def test_installing_two_workspaces_makes_two_boards_with_their_installers(web_app, stub, engine):
    assert install(web_app, stub, ALPHA, "Alpha Partnership", ALPHA_ADMIN).status_code == 200
    assert install(web_app, stub, BETA, "Beta Partnership", BETA_ADMIN).status_code == 200
    alpha, beta = board_of(engine, ALPHA), board_of(engine, BETA)
    assert (alpha.name, beta.name) == ("Alpha Partnership", "Beta Partnership")
    assert alpha.active and beta.active and alpha.timezone == "Europe/London"
    with Session(engine) as session:
        for board, team, admin in ((alpha, ALPHA, ALPHA_ADMIN), (beta, BETA, BETA_ADMIN)):
            [binding] = bindings_of(session=session, board_id=board.id)
            assert (binding.channel, binding.workspace_id, binding.active) == (SLACK, team, True)
            member = find_member_by_identity(session=session, board_id=board.id, channel=SLACK,
                                             external_id=admin)  # fmt: skip
            assert member.role == Role.SECRETARIAT
        # Each installer is nobody on the other Board.
        assert not find_member_by_identity(session=session, board_id=beta.id, channel=SLACK,
                                           external_id=ALPHA_ADMIN)  # fmt: skip
        tokens = session.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token)).all()
    assert sorted(tokens) == [(ALPHA, "xoxb-t0alpha-never-real"), (BETA, "xoxb-t0beta-never-real")]


def test_each_workspace_runs_against_its_own_board(web_app, stub):
    alpha, beta = SlackHarness(web_app, stub, ALPHA), SlackHarness(web_app, stub, BETA)
    for team, name, harness, admin in (
        (ALPHA, "Alpha", alpha, ALPHA_ADMIN), (BETA, "Beta", beta, BETA_ADMIN)
    ):  # fmt: skip
        install(web_app, stub, team, f"{name} Partnership", admin)
        assert harness.command(admin, f'partner add "{name} Police"').status == 200
        added = harness.command(admin, f'action add area="Cyber attack" lead="{name} Police" '
                                       f'title="{name} only marker"')  # fmt: skip
        assert "A-1" in added.everything, added.everything

    seen_by_alpha = alpha.command(ALPHA_ADMIN, "action status A-1").everything
    seen_by_beta = beta.command(BETA_ADMIN, "action status A-1").everything
    assert "Alpha only marker" in seen_by_alpha and "Beta" not in seen_by_alpha
    assert "Beta only marker" in seen_by_beta and "Alpha" not in seen_by_beta
    # Beta's secretariat typing in Alpha's workspace is a stranger to Alpha's Board.
    stranger = alpha.command(BETA_ADMIN, "action status A-1").everything
    assert "marker" not in stranger
    # Each workspace's Web API calls carry its own bot token, never the other's.
    tokens = {(c.data.get("user_id"), c.headers.get("authorization"))
              for c in stub.wait_for("views.publish", 4)}  # fmt: skip
    assert tokens == {(ALPHA_ADMIN, "Bearer xoxb-t0alpha-never-real"),
                      (BETA_ADMIN, "Bearer xoxb-t0beta-never-real")}  # fmt: skip


@pytest.mark.parametrize(("installer", "role"), [(COLP, Role.MEMBER), ("UITADMIN", None)])
def test_a_single_workspace_board_bound_first_is_the_one_its_install_finds(
    slack, board_engine, settings, stub, monkeypatch, installer, role
):
    # Single-workspace mode (SLACK_BOT_TOKEN, SOC_BOARD): the imported Board gets one more action.
    added = slack.command(SECRETARIAT, 'action add area="Cyber attack" lead="CoLP" '
                                       'title="Single workspace marker"')  # fmt: skip
    ref = re.search(r"A-\d+", added.everything).group()
    with Session(board_engine) as session:
        soc = get_board(session=session, slug="soc")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["board", "bind", "soc", "--slack-team", TEAM]) == 0

    # The deployment moves to installs, and that workspace installs the app.
    web_app = create_wsgi_app(install_settings(settings, stub), engine=board_engine,
                              clock=lambda: NOW)  # fmt: skip
    assert install(web_app, stub, TEAM, "Board Workspace", installer).status_code == 200

    with Session(board_engine) as session:
        assert session.exec(select(Board.slug)).all() == ["soc"]  # no slack-t0board
        kept = get_board(session=session, slug="soc")
        assert (kept.id, kept.name, kept.active) == (soc.id, soc.name, True)
        [binding] = bindings_of(session=session, board_id=soc.id)
        assert (binding.channel, binding.workspace_id, binding.active) == (SLACK, TEAM, True)
        # The Board has people: the installer stays who they were (a member, or nobody).
        member = find_member_by_identity(session=session, board_id=soc.id, channel=SLACK,
                                         external_id=installer)  # fmt: skip
        assert (member.role if member else None) == role
    board = SlackHarness(web_app, stub, TEAM)
    seen = board.command(SECRETARIAT, f"action status {ref}").everything
    assert "Single workspace marker" in seen
    assert "Engaging with businesses" in board.command(COLP, "action status A-2").everything
    # A change made there now goes out with the workspace's installed token.
    published = len(stub.calls_to("views.publish"))
    noted = board.command(SECRETARIAT, f"action note {ref} After the move")
    assert noted.text.startswith(f"Updated {ref}"), noted.text
    newest = stub.wait_for("views.publish", published + 1)[-1]
    assert newest.headers.get("authorization") == "Bearer xoxb-t0board-never-real"


def test_an_install_without_its_state_is_refused(web_app, stub, engine):
    stub.grant("code-x", ALPHA, "Alpha", ALPHA_ADMIN)
    refused = []
    for ask in ("state=forged-state", "", "state={state}"):
        browser = web_app.test_client()
        state = start_install(browser)
        if ask == "state={state}":
            browser = web_app.test_client()  # another browser: without the state's cookie
        redirect = browser.get(f"/slack/oauth_redirect?code=code-x&{ask.format(state=state)}")
        refused.append(redirect.status_code)
    assert refused == [400, 400, 400]
    assert stub.calls_to("oauth.v2.access") == []
    # The right state in the right browser works, once.
    browser = web_app.test_client()
    state = start_install(browser)
    assert browser.get(f"/slack/oauth_redirect?code=code-x&state={state}").status_code == 200
    stub.grant("code-y", BETA, "Beta", BETA_ADMIN)
    browser.set_cookie("slack-app-oauth-state", state)
    again = browser.get(f"/slack/oauth_redirect?code=code-y&state={state}")
    assert again.status_code == 401
    assert [c.data.get("code") for c in stub.calls_to("oauth.v2.access")] == ["code-x"]
    with Session(engine) as session:
        assert session.exec(select(Board.slug)).all() == ["slack-t0alpha"]


def test_a_code_slack_does_not_accept_makes_no_board(web_app, stub, engine):
    browser = web_app.test_client()
    state = start_install(browser)
    answer = browser.get(f"/slack/oauth_redirect?code=never-granted&state={state}")
    assert answer.status_code == 401
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Board)).one() == 0


@pytest.mark.parametrize("event", [
    {"type": "app_uninstalled"},
    {"type": "tokens_revoked", "tokens": {"bot": ["UBOTSOC"]}},
])  # fmt: skip
def test_uninstalling_deactivates_the_board_and_keeps_its_data(web_app, stub, engine, event):
    alpha, beta = SlackHarness(web_app, stub, ALPHA), SlackHarness(web_app, stub, BETA)
    install(web_app, stub, ALPHA, "Alpha Partnership", ALPHA_ADMIN)
    install(web_app, stub, BETA, "Beta Partnership", BETA_ADMIN)
    alpha.command(ALPHA_ADMIN, 'partner add "Alpha Police"')
    alpha.command(ALPHA_ADMIN, 'action add area="Cyber attack" lead="Alpha Police" title="Kept"')

    assert alpha.event(event).status == 200

    board = board_of(engine, ALPHA)
    assert board.active is False
    with Session(engine) as session:
        [binding] = bindings_of(session=session, board_id=board.id)
        assert binding.active is False and binding.deactivated_at == NOW
        kept = session.exec(select(Action.number).where(Action.board_id == board.id)).all()
        teams = session.execute(select(slack_bots.c.team_id)).scalars().all()
    assert kept == [1]
    assert teams == [BETA]  # Alpha's token is gone, Beta's is not
    answer = alpha.command(ALPHA_ADMIN, "action status A-1")
    told = stub.wait_for_path(urlparse(answer.response_url).path).data.get("text", "")
    assert NOT_SET_UP in told and "Kept" not in answer.body + told
    assert board_of(engine, BETA).active
    assert "Secretariat" in beta.command(BETA_ADMIN, "member list").everything

    # Installing again finds the same Board, with its data and its people as they were.
    assert install(web_app, stub, ALPHA, "Alpha Renamed", ALPHA_ADMIN).status_code == 200
    again = board_of(engine, ALPHA)
    assert (again.id, again.active, again.name) == (board.id, True, "Alpha Partnership")
    assert "Kept" in alpha.command(ALPHA_ADMIN, "action status A-1").everything
    with Session(engine) as session:
        assert len(bindings_of(session=session, board_id=board.id)) == 1
        assert session.exec(select(func.count()).select_from(Board)).one() == 2


def test_a_workspace_with_tokens_but_no_board_gets_one_clear_answer(web_app, stub, engine,
                                                                    settings):  # fmt: skip
    installation_store(install_settings(settings, stub), engine).save(Installation(
        app_id="A0SOCBOT", team_id="T0STRAY", bot_token="xoxb-stray", bot_id="BSOC",
        bot_user_id="UBOTSOC", user_id="USTRAY"))  # fmt: skip
    stray = SlackHarness(web_app, stub, "T0STRAY")
    answer = stray.command("USTRAY", "action status all")
    assert answer.status == 200 and NOT_SET_UP in answer.text
    assert answer.json["response_type"] == "ephemeral"
    assert stub.calls_to("views.publish") == []


def test_settings_name_one_mode(settings, stub, engine):
    both = replace(install_settings(settings, stub), slack_bot_token=BOT_TOKEN)
    with pytest.raises(SettingsError, match="both set"):
        create_app(both, engine=engine)
    no_secret = replace(install_settings(settings, stub), slack_client_secret="")
    with pytest.raises(SettingsError, match="SLACK_CLIENT_SECRET"):
        create_wsgi_app(no_secret, engine=engine)
    no_signing = replace(install_settings(settings, stub), slack_signing_secret="")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        create_wsgi_app(no_signing, engine=engine)


def test_single_token_mode_has_no_install_link(slack):
    assert slack.client.get("/slack/install").status_code == 404


def test_store_tables_match_slack_sdks_own():
    """models.slack_store copies slack_sdk's layout; a new slack_sdk column must be migrated."""
    theirs = MetaData()
    expected = [
        SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations"),
        SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots"),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states"),
    ]

    def shape(table):
        columns = [(c.name, type(c.type).__name__, getattr(c.type, "length", None), c.nullable,
                    c.primary_key) for c in table.columns]  # fmt: skip
        indexes = sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes)
        return table.name, columns, indexes

    ours = [slack_installations, slack_bots, slack_oauth_states]
    assert [shape(t) for t in ours] == [shape(t) for t in expected]


def test_slack_sdk_stores_work_on_the_migrated_tables(db_url, settings, stub):  # noqa: F811
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        store = installation_store(install_settings(settings, stub), engine)
        store.save(Installation(app_id="A0SOCBOT", team_id=ALPHA, bot_token="xoxb-alpha",
                                bot_id="BSOC", user_id=ALPHA_ADMIN))  # fmt: skip
        assert store.find_bot(enterprise_id=None, team_id=ALPHA).bot_token == "xoxb-alpha"
        store.delete_all(enterprise_id=None, team_id=ALPHA)
        assert store.find_bot(enterprise_id=None, team_id=ALPHA) is None
        states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine)
        state = states.issue()
        assert states.consume(state) is True and states.consume(state) is False
    finally:
        engine.dispose()
