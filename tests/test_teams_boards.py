"""Teams with many Boards: each activity runs against the Board its tenant and team are bound to,
through that tenant's own app, and an unbound tenant or team is told so and changes nothing."""

import logging
from dataclasses import replace

import pytest
from microsoft_agents.hosting.core import ConnectionManager
from sqlmodel import Session, select

from bot.cli.main import main
from bot.config import SettingsError
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.teams import ids
from bot.teams.app import create_app
from bot.teams.config import TenantApp, load_teams_settings
from handlers.run import run_command
from models.boards import get_board
from models.db import session_scope
from models.people import attach_identity, find_member_by_identity, find_partner
from models.tables import Action, ActionChange, Role
from models.workspaces import TEAMS, bind, find_binding
from tests.conftest import CHAIR, COLP, IMPORTED_AT, NOW, seed_members
from tests.teams_stub import (
    APP_ID,
    CHANNEL_ID,
    SECRET,
    TENANT,
    TeamsHarness,
    TokenSigner,
    control,
    link_teams,
    object_id,
    point_keys_at,
    teams_settings,
    texts_of,
)

pytest_plugins = ("tests.teams_fixtures",)

BETA = "beta"
APP_B = "bbbbbbbb-2222-3333-4444-555555555555"
TENANT_B = "bbbbbbbb-8888-7777-6666-555555555555"
TEAM_B = "19:betateam@thread.tacv2"
UNBOUND = "cccccccc-8888-7777-6666-555555555555"
BETA_MARKER = "Beta marker"
# A-1 as each Board's status shows it (Beta's history still names its old title).
ALPHA_LINE, BETA_LINE = "A-1 [AMBER] Dashboard of Serious", f"A-1 [RED] {BETA_MARKER}"
# Beta's people: Slack ids of its own (it is another Board), Teams ids in tenant B.
B_CHAIR, B_SECRETARIAT, B_COLP = "UBCHAIR", "UBSECRET", "UBCOLP"


class _TokensOf:
    """Outgoing tokens that say which app (connection) they belong to; never calls Entra."""

    def __init__(self, configuration) -> None:
        self.configuration = configuration

    async def get_access_token(self, resource_url, scopes, force_refresh=False) -> str:
        return f"token-for-{self.configuration.CLIENT_ID}"

    def get_token_credential(self):
        raise NotImplementedError


def _board_b(engine, settings) -> None:
    """Board `beta`: Annex B too, its A-1 retitled and Red, its own people in tenant B."""
    beta = replace(settings, board_slug=BETA, board_name="Beta Partnership")
    import_file(engine, beta, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    with Session(engine) as session:
        board = get_board(session=session, slug=BETA)
        colp = find_partner(session=session, board_id=board.id, text="CoLP").id
        seed_members(session, board, [(B_CHAIR, "Beta Chair", Role.CHAIR, None),
                                      (B_SECRETARIAT, "Beta Secretary", Role.SECRETARIAT, None),
                                      (B_COLP, "Beta Lead", Role.MEMBER, colp)])  # fmt: skip
        session.commit()
        for slack_id in (B_CHAIR, B_SECRETARIAT, B_COLP):
            member = find_member_by_identity(session=session, board_id=board.id,
                                             channel="slack", external_id=slack_id)  # fmt: skip
            attach_identity(session=session, member=member, channel=TEAMS,
                            external_id=object_id(slack_id), tenant=TENANT_B)  # fmt: skip
        session.commit()
    reply = run_command(engine=engine, board_slug=BETA, user_id=B_SECRETARIAT, now=NOW,
                        text=f'action update A-1 title="{BETA_MARKER}" rag=red')  # fmt: skip
    assert not reply.error, reply.title


@pytest.fixture
def boards(board_engine, settings, connector, monkeypatch) -> TeamsHarness:
    """Board `soc` bound to (TENANT, its team) with the default app; `beta` to (TENANT_B,
    TEAM_B) with tenant B's own app; the bot serving both."""
    link_teams(board_engine, settings.board_slug, {p: object_id(p) for p in (CHAIR, COLP)})
    _board_b(board_engine, settings)
    with session_scope(board_engine) as session:
        for slug, tenant, team in ((settings.board_slug, TENANT, CHANNEL_ID),
                                   (BETA, TENANT_B, TEAM_B)):  # fmt: skip
            board = get_board(session=session, slug=slug)
            bind(session=session, board=board, channel=TEAMS, workspace_id=tenant, team_id=team,
                 now=NOW)  # fmt: skip
    point_keys_at(monkeypatch, connector)
    config = teams_settings(tenant_apps=(TenantApp("BETA", APP_B, "beta-secret", TENANT_B),))
    manager = ConnectionManager(provider_factory=_TokensOf, **config.sdk_configuration())
    bot = create_app(settings, config, engine=board_engine, clock=lambda: NOW,
                     connection_manager=manager)  # fmt: skip
    harness = TeamsHarness(bot, connector, TokenSigner(connector))
    yield harness
    harness.close()


def _in(activity: dict, tenant: str, team: str | None = None) -> dict:
    """The activity as Teams sends it from another tenant (and team)."""
    activity["conversation"]["tenantId"] = tenant
    activity["channelData"]["tenant"] = {"id": tenant}
    if team is not None:
        activity["channelData"]["team"] = {"id": team}
        activity["channelData"]["channel"] = {"id": team}
    return activity


def _post_b(teams: TeamsHarness, activity: dict, audience: str = APP_B) -> tuple[int, dict]:
    """Post an activity from tenant B, its token issued to `audience` (B's own app by default)."""
    return teams.post(_in(activity, TENANT_B, TEAM_B if _is_channel(activity) else None),
                      token=teams.signer.token(audience=audience))  # fmt: skip


def _is_channel(activity: dict) -> bool:
    return activity["conversation"].get("conversationType") == "channel"


def _action_1(engine, slug: str) -> Action:
    with Session(engine) as session:
        board = get_board(session=session, slug=slug)
        query = select(Action).where(Action.board_id == board.id, Action.number == 1)
        return session.exec(query).one()


def _changes(engine, action: Action) -> int:
    with Session(engine) as session:
        query = select(ActionChange).where(ActionChange.action_id == action.id)
        return len(list(session.exec(query)))


def test_personal_status_from_each_tenant_sees_only_its_own_board(boards, connector):
    boards.post(boards.personal_message(object_id(COLP), "action status A-1"))
    [alpha] = connector.sent()
    assert ALPHA_LINE in alpha.text and BETA_MARKER not in alpha.raw.decode()
    assert alpha.headers["Authorization"] == f"Bearer token-for-{APP_ID}"

    status, _ = _post_b(boards, boards.personal_message(object_id(B_COLP), "action status A-1"))
    assert status == 202
    beta = connector.sent()[-1]
    assert BETA_LINE in beta.text and ALPHA_LINE not in beta.raw.decode()
    # Tenant B's reply goes out with tenant B's own app, never the default one.
    assert beta.headers["Authorization"] == f"Bearer token-for-{APP_B}"


def test_a_channel_rag_posts_only_its_own_boards_summary(boards, connector):
    boards.post(boards.channel_message(object_id(CHAIR), "rag"))
    alpha = connector.sent()[-1]
    assert alpha.path.startswith(f"/v3/conversations/{CHANNEL_ID}")
    assert "1 Red" not in alpha.text and "Beta Partnership" not in alpha.raw.decode()

    _post_b(boards, boards.channel_message(object_id(B_CHAIR), "rag"))
    beta = connector.sent()[-1]
    assert "1 Red" in beta.text
    assert beta.headers["Authorization"] == f"Bearer token-for-{APP_B}"
    assert alpha.text.replace("0 Red", "") != beta.text.replace("1 Red", "")


def test_an_unbound_tenant_is_told_how_to_bind_it_and_nothing_changes(boards, connector):
    before = {slug: _action_1(boards.bot.runtime.engine, slug) for slug in ("soc", BETA)}
    activity = _in(boards.personal_message(object_id(COLP), "action update A-1 rag=green"),
                   UNBOUND)  # fmt: skip
    status, _ = boards.post(activity)
    assert status == 202
    [reply] = connector.sent()
    assert "has no Board here, so nothing was done" in reply.text
    assert f"soc-bot board bind <board> --teams-tenant {UNBOUND}" in reply.text

    invoke = _in(boards.invoke(object_id(COLP), ids.VERB_RAG,
                               {"target": "A-1:1", "input": "rag.0", "rag.0": "green"}),
                 UNBOUND)  # fmt: skip
    status, body = boards.post(invoke)
    assert status == 200 and "has no Board here" in str(body["value"])
    assert len(connector.sent()) == 1
    for slug, action in before.items():
        now = _action_1(boards.bot.runtime.engine, slug)
        assert (now.rag, now.version) == (action.rag, action.version), slug


def test_a_team_not_bound_in_a_bound_tenant_is_refused(boards, connector):
    activity = _in(boards.channel_message(object_id(CHAIR), "rag"), TENANT,
                   "19:otherteam@thread.tacv2")  # fmt: skip
    boards.post(activity)
    [reply] = connector.sent()
    assert "This team has no Board here" in reply.text
    assert "--team 19:otherteam@thread.tacv2" in reply.text


def test_a_forged_control_from_tenant_b_cannot_touch_board_a(boards, connector):
    engine = boards.bot.runtime.engine
    boards.post(boards.personal_message(object_id(COLP), "action status A-1"))
    forged = control(connector.sent()[-1].card, ids.VERB_RAG, "A-1")  # Board A's A-1 and version
    alpha = _action_1(engine, "soc")
    changes = _changes(engine, alpha)

    status, body = click_b(boards, object_id(B_COLP), forged, "green")
    assert status == 200 and body["statusCode"] == 200
    now = _action_1(engine, "soc")
    assert (now.rag, now.version, _changes(engine, now)) == (alpha.rag, alpha.version, changes)
    # Run against Board B, where its own A-1 is at another version: refused, saying by whom.
    assert "A-1 was changed by Beta Secretary" in texts_of(body["value"])

    # The same click through the default app (not tenant B's own) is refused before anything.
    sent = len(connector.calls)
    status, body = click_b(boards, object_id(B_COLP), forged, "green", audience=APP_ID)
    assert status == 200 and "own soc-bot app" in str(body["value"])
    assert len(connector.calls) == sent
    assert _action_1(engine, "soc").version == alpha.version


def click_b(teams, teams_id, action, value, *, audience=APP_B):
    """A control clicked in tenant B (as `click`), its token issued to `audience`."""
    data = {**action["data"], action["data"]["input"]: value}
    return _post_b(teams, teams.invoke(teams_id, action["verb"], data), audience)


def test_a_message_for_tenant_b_through_another_app_is_dropped_and_logged(
    boards, connector, caplog
):
    caplog.set_level(logging.WARNING)
    activity = boards.personal_message(object_id(B_COLP), "action update A-1 rag=green")
    status, _ = _post_b(boards, activity, audience=APP_ID)
    assert status == 202
    assert connector.sent() == []
    assert _action_1(boards.bot.runtime.engine, BETA).rag == "red"
    assert "its token is for another app" in caplog.text


def test_a_personal_chat_in_a_tenant_of_two_boards_finds_the_persons_board(boards, connector):
    with session_scope(boards.bot.runtime.engine) as session:
        beta = get_board(session=session, slug=BETA)
        bind(session=session, board=beta, channel=TEAMS, workspace_id=TENANT,
             team_id="19:betaalso@thread.tacv2", now=NOW)  # fmt: skip
    boards.post(boards.personal_message(object_id(COLP), "action status A-1"))
    assert ALPHA_LINE in connector.sent()[-1].text
    stranger = _in(boards.personal_message(object_id("UNOBODY"), "help"), TENANT)
    boards.post(stranger)
    assert "has no Board here" in connector.sent()[-1].text


# Settings: a tenant's own app


def test_a_tenants_own_app_comes_from_the_sdk_connection_settings():
    env = {"TEAMS_CLIENT_ID": APP_ID, "TEAMS_CLIENT_SECRET": SECRET, "TEAMS_TENANT_ID": TENANT,
           "CONNECTIONS__BETA__SETTINGS__CLIENTID": APP_B,
           "CONNECTIONS__BETA__SETTINGS__CLIENTSECRET": "beta-secret",
           "CONNECTIONS__BETA__SETTINGS__TENANTID": TENANT_B}  # fmt: skip
    teams = load_teams_settings(env)
    assert teams.connection_for_tenant(TENANT_B) == ("BETA", APP_B)
    assert teams.connection_for_tenant(UNBOUND) == ("SERVICE_CONNECTION", APP_ID)
    routes = teams.sdk_configuration()["CONNECTIONSMAP"]
    assert {(r["AUDIENCE"], r["CONNECTION"]) for r in routes} == {
        (APP_ID, "SERVICE_CONNECTION"), (APP_B, "BETA")}  # fmt: skip
    assert "beta-secret" not in repr(teams)
    del env["CONNECTIONS__BETA__SETTINGS__CLIENTSECRET"]
    with pytest.raises(SettingsError, match="CONNECTIONS__BETA__SETTINGS__CLIENTSECRET"):
        load_teams_settings(env)


# The operator's CLI


@pytest.fixture
def cli(board_engine, settings, monkeypatch):
    """`soc-bot` over the test database, with Board `beta` beside `soc`."""
    _board_b(board_engine, settings)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    return board_engine


def _binding(engine, tenant: str, team: str = ""):
    with Session(engine) as session:
        binding = find_binding(session=session, channel=TEAMS, workspace_id=tenant, team_id=team)
        return None if binding is None else (binding.board_id, binding.active)


def _board_id(engine, slug: str) -> int:
    with Session(engine) as session:
        return get_board(session=session, slug=slug).id


def test_bind_and_unbind_a_teams_tenant_from_the_cli(cli, capsys):
    assert main(["board", "bind", BETA, "--teams-tenant", TENANT_B.upper(), "--team", TEAM_B]) == 0
    assert f"Bound Board beta to Teams tenant {TENANT_B}, team {TEAM_B}." in capsys.readouterr().out
    assert _binding(cli, TENANT_B, TEAM_B) == (_board_id(cli, BETA), True)

    assert main(["boards", "list"]) == 0
    listed = {
        line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()
    }
    assert listed[BETA][2] == f"teams:{TENANT_B}/{TEAM_B}"

    # Taken by beta: soc cannot have it, and is told how to free it.
    assert main(["board", "bind", "soc", "--teams-tenant", TENANT_B, "--team", TEAM_B]) == 1
    err = capsys.readouterr().err
    assert "already bound to Board beta" in err and "soc-bot board unbind beta" in err

    assert main(["board", "unbind", BETA, "--teams-tenant", TENANT_B, "--team", TEAM_B]) == 0
    out = capsys.readouterr().out
    assert "Unbound Board beta" in out and "now inactive" in out
    assert _binding(cli, TENANT_B, TEAM_B) == (_board_id(cli, BETA), False)
    with Session(cli) as session:
        assert not get_board(session=session, slug=BETA).active

    # Freed: another Board may take it now, and is active with it.
    assert main(["board", "bind", "soc", "--teams-tenant", TENANT_B, "--team", TEAM_B]) == 0
    assert _binding(cli, TENANT_B, TEAM_B) == (_board_id(cli, "soc"), True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["board", "bind", "nosuch", "--teams-tenant", TENANT_B], "There is no Board 'nosuch'"),
        (["board", "bind", BETA, "--teams-tenant", "not-a-guid"], "is not a tenant id"),
        (
            ["board", "bind", BETA, "--teams-tenant", TENANT_B, "--team", "a b"],
            "is not a Teams team id",
        ),  # fmt: skip
        (["board", "unbind", BETA, "--teams-tenant", TENANT_B], "is not bound to Teams tenant"),
    ],
)
def test_bind_refuses_bad_input_clearly(cli, capsys, argv, message):
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert _binding(cli, TENANT_B) is None


def test_binding_a_tenant_ends_single_board_mode_for_it(cli, settings, connector, monkeypatch):
    point_keys_at(monkeypatch, connector)
    config = teams_settings()
    manager = ConnectionManager(provider_factory=_TokensOf, **config.sdk_configuration())
    bot = create_app(settings, config, engine=cli, clock=lambda: NOW, connection_manager=manager)
    teams = TeamsHarness(bot, connector, TokenSigner(connector))
    try:
        link_teams(cli, settings.board_slug, {COLP: object_id(COLP)})
        teams.post(teams.personal_message(object_id(COLP), "action status A-1"))
        assert ALPHA_LINE in connector.sent()[-1].text  # no binding: SOC_BOARD
        assert main(["board", "bind", BETA, "--teams-tenant", TENANT]) == 0
        teams.post(teams.personal_message(object_id(B_COLP), "action status A-1"))
        assert BETA_LINE in connector.sent()[-1].text  # the tenant's one Board now
    finally:
        teams.close()
