"""`soc-bot boards list`, `soc-bot board export|delete` and `soc-bot board bind|unbind` for a
Slack workspace, on a deployment hosting two Boards."""

import logging

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from bot.cli.main import main
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from bot.slack.install import install_workspace_board, installation_store
from handlers.run import run_command
from models.boards import get_board
from models.db import make_engine, session_scope
from models.migrate import upgrade
from models.people import find_member_by_identity, list_members
from models.tables import Action, ActionChange, Board, Role
from models.workspaces import SLACK, deactivate, find_binding
from tests.conftest import IMPORTED_AT, NOW
from tests.model_fixtures import db_url  # noqa: F401  (fixture)

ALPHA = "T0ALPHA"
ALPHA_SLUG = "slack-t0alpha"


@pytest.fixture
def two_boards(db_url, monkeypatch):  # noqa: F811
    """The Annex B Board `soc`, and Alpha's Board (installed from Slack) with its own A-1."""
    engine = make_engine(db_url)
    upgrade(engine)
    settings = Settings(database_url=db_url)
    import_file(engine, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    installation = Installation(app_id="A0SOCBOT", team_id=ALPHA, team_name="Alpha Partnership",
                                bot_token="xoxb-alpha", user_id="UALPHAADMIN")  # fmt: skip
    with session_scope(engine) as session:
        install_workspace_board(session, settings, installation, NOW)
    for command in (
        'partner add "Alpha Police"',
        'action add area="Cyber attack" lead="Alpha Police" title="Alpha marker"',
    ):
        reply = run_command(engine=engine, board_slug=ALPHA_SLUG, user_id="UALPHAADMIN",
                            text=command, now=NOW)  # fmt: skip
        assert not reply.error, reply.title
    monkeypatch.setenv("DATABASE_URL", db_url)
    yield engine
    engine.dispose()


def rows(out: str) -> dict[str, list[str]]:
    """`boards list` output by Board slug (header checked)."""
    header, *lines = out.splitlines()
    assert header.split("\t") == ["board", "name", "channels", "active", "members", "actions",
                                  "last activity"]  # fmt: skip
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines}


def count(engine, model, board_id: int) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(model).where(model.board_id == board_id)
        return session.exec(query).one()


def test_boards_list_shows_each_board(two_boards, capsys):
    assert main(["boards", "list"]) == 0
    listed = rows(capsys.readouterr().out)
    with Session(two_boards) as session:
        soc_actions = session.exec(select(func.count()).select_from(Action).where(
            Action.board_id == get_board(session=session, slug="soc").id)).one()  # fmt: skip
    assert listed["soc"][:5] == ["Serious and Organised Crime Partnership Board", "-", "yes",
                                 "0", str(soc_actions)]  # fmt: skip
    assert listed[ALPHA_SLUG] == ["Alpha Partnership", f"slack:{ALPHA}", "yes", "1", "1",
                                  "2027-01-20 10:00"]  # fmt: skip

    with session_scope(two_boards) as session:
        deactivate(session=session, channel=SLACK, workspace_id=ALPHA, now=NOW)
    assert main(["boards", "list"]) == 0
    assert rows(capsys.readouterr().out)[ALPHA_SLUG][1:3] == [f"slack:{ALPHA} (removed)", "no"]


def test_board_export_writes_only_that_board(two_boards, capsys, tmp_path):
    assert main(["board", "export", ALPHA_SLUG, "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "Alpha marker" in out and "Cyber" in out
    assert "Engage SMEs" not in out and "CoLP" not in out
    assert main(["board", "export", "soc", "--format", "json"]) == 0
    assert "Alpha marker" not in capsys.readouterr().out
    assert main(["board", "export", "nosuch"]) == 1
    assert "There is no Board 'nosuch'" in capsys.readouterr().err


def test_board_delete_needs_the_slug_twice_then_deletes_everything_of_it(
    two_boards, capsys, caplog
):
    with Session(two_boards) as session:
        alpha_id = get_board(session=session, slug=ALPHA_SLUG).id
        soc_id = get_board(session=session, slug="soc").id
    soc_history = count(two_boards, ActionChange, soc_id)

    assert main(["board", "delete", ALPHA_SLUG]) == 1
    said = capsys.readouterr().out
    assert "1 action," in said and "Nothing was deleted" in said
    assert main(["board", "delete", ALPHA_SLUG, "--confirm", "soc"]) == 1
    assert count(two_boards, Action, alpha_id) == 1

    with caplog.at_level(logging.WARNING):
        assert main(["board", "delete", ALPHA_SLUG, "--confirm", ALPHA_SLUG]) == 0
    assert f"Deleted Board {ALPHA_SLUG}" in capsys.readouterr().out
    assert any(f"deleted Board {ALPHA_SLUG}" in r.getMessage() for r in caplog.records)
    with Session(two_boards) as session:
        assert session.get(Board, alpha_id) is None
        assert session.exec(select(Board.slug)).all() == ["soc"]
    for model in (Action, ActionChange):
        assert count(two_boards, model, alpha_id) == 0
    # The other Board is untouched, its history intact and still append-only.
    assert count(two_boards, ActionChange, soc_id) == soc_history > 0
    assert main(["audit", "verify"]) == 0
    with pytest.raises(DBAPIError), two_boards.begin() as connection:
        connection.execute(text("DELETE FROM actionchange"))
    assert main(["board", "delete", ALPHA_SLUG, "--confirm", ALPHA_SLUG]) == 1


def test_board_delete_removes_an_organisation_wide_installs_tokens(two_boards, db_url):  # noqa: F811
    settings = Settings(database_url=db_url, slack_client_id="1.2")
    org = Installation(app_id="A0SOCBOT", enterprise_id="E0ORG", enterprise_name="Org Grid",
                       is_enterprise_install=True, team_id=None, bot_token="xoxb-org",
                       bot_id="B0ORG", bot_user_id="U0ORGBOT", user_id="UORGADMIN")  # fmt: skip
    store = installation_store(settings, two_boards)
    store.save(org)
    with session_scope(two_boards) as session:
        install_workspace_board(session, settings, org, NOW)
    slug = "slack-e0org"
    assert store.find_bot(enterprise_id="E0ORG", team_id=None, is_enterprise_install=True)
    assert main(["board", "delete", slug, "--confirm", slug]) == 0
    assert store.find_bot(enterprise_id="E0ORG", team_id=None, is_enterprise_install=True) is None


def slack_install(engine, team: str, installer: str) -> str:
    """What the OAuth callback does once `team` has installed the app: its Board's slug."""
    installation = Installation(app_id="A0SOCBOT", team_id=team, team_name=f"{team} Workspace",
                                bot_token=f"xoxb-{team.lower()}", user_id=installer)  # fmt: skip
    settings = Settings(database_url=str(engine.url))
    with session_scope(engine) as session:
        return install_workspace_board(session, settings, installation, NOW).slug


def slack_binding(engine, team: str) -> tuple[str, bool, str] | None:
    """(Board slug, active, enterprise id) of the workspace's binding, if any."""
    with Session(engine) as session:
        binding = find_binding(session=session, channel=SLACK, workspace_id=team)
        if binding is None:
            return None
        return session.get(Board, binding.board_id).slug, binding.active, binding.enterprise_id


def board_slugs(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Board.slug)).all())


def test_a_board_bound_to_a_slack_workspace_is_the_one_its_install_finds(two_boards, capsys):
    with Session(two_boards) as session:
        soc = get_board(session=session, slug="soc")
    assert main(["board", "bind", "soc", "--slack-team", "t0soc", "--enterprise", "E0GUESS"]) == 0
    assert "Bound Board soc to Slack workspace T0SOC" in capsys.readouterr().out
    assert slack_binding(two_boards, "T0SOC") == ("soc", True, "E0GUESS")
    assert main(["boards", "list"]) == 0
    assert rows(capsys.readouterr().out)["soc"][1] == "slack:T0SOC"

    assert slack_install(two_boards, "T0SOC", "USOCADMIN") == "soc"
    assert board_slugs(two_boards) == ["slack-t0alpha", "soc"]  # no slack-t0soc
    # What the install says of the workspace's organisation (none) wins over the operator's guess.
    assert slack_binding(two_boards, "T0SOC") == ("soc", True, "")
    with Session(two_boards) as session:
        kept = get_board(session=session, slug="soc")
        assert (kept.name, kept.active) == (soc.name, True)
        # soc had nobody yet: its installer is its secretariat, as on a new Board.
        [member] = list_members(session=session, board_id=soc.id)
        assert find_member_by_identity(session=session, board_id=soc.id, channel=SLACK,
                                       external_id="USOCADMIN").id == member.id  # fmt: skip
        assert member.role == Role.SECRETARIAT
    assert count(two_boards, Action, soc.id) > 0

    # Someone else installing again changes no one's role, and adds no one.
    assert slack_install(two_boards, "T0SOC", "USOMEONE") == "soc"
    with Session(two_boards) as session:
        assert [m.role for m in list_members(session=session, board_id=soc.id)] == [
            Role.SECRETARIAT
        ]


def test_binding_a_slack_workspace_bound_elsewhere_is_refused_until_it_is_unbound(
    two_boards, capsys
):
    assert main(["board", "bind", "soc", "--slack-team", ALPHA]) == 1
    err = capsys.readouterr().err
    assert f"Slack workspace {ALPHA} is already bound to Board {ALPHA_SLUG}" in err
    assert f"`soc-bot board unbind {ALPHA_SLUG} --slack-team {ALPHA}`" in err
    assert slack_binding(two_boards, ALPHA) == (ALPHA_SLUG, True, "")

    assert main(["board", "unbind", ALPHA_SLUG, "--slack-team", ALPHA]) == 0
    out = capsys.readouterr().out
    assert f"Unbound Board {ALPHA_SLUG} from Slack workspace {ALPHA}" in out
    assert "now inactive" in out
    assert slack_binding(two_boards, ALPHA) is None
    assert main(["board", "bind", "soc", "--slack-team", ALPHA]) == 0
    assert slack_install(two_boards, ALPHA, "UALPHAADMIN") == "soc"
    with Session(two_boards) as session:
        alpha = get_board(session=session, slug=ALPHA_SLUG)
        assert not alpha.active
    assert count(two_boards, Action, alpha.id) == 1  # Alpha's own Board keeps its data


def test_an_unbound_slack_workspace_installing_again_does_not_get_the_board_back(
    two_boards, capsys
):
    assert main(["board", "bind", "soc", "--slack-team", "T0WRONG"]) == 0
    assert main(["board", "unbind", "soc", "--slack-team", "T0WRONG"]) == 0
    assert "will not bring Board soc back" in capsys.readouterr().out
    with Session(two_boards) as session:
        assert not get_board(session=session, slug="soc").active

    assert slack_install(two_boards, "T0WRONG", "UWRONGADMIN") == "slack-t0wrong"
    with Session(two_boards) as session:
        soc = get_board(session=session, slug="soc")
        assert not find_member_by_identity(session=session, board_id=soc.id, channel=SLACK,
                                           external_id="UWRONGADMIN")  # fmt: skip
    # An uninstalled workspace's binding still brings its Board back, until it is unbound.
    with session_scope(two_boards) as session:
        deactivate(session=session, channel=SLACK, workspace_id=ALPHA, now=NOW)
    assert main(["board", "unbind", ALPHA_SLUG, "--slack-team", ALPHA]) == 0
    assert slack_binding(two_boards, ALPHA) is None
    # Released, the Board its own install made is not found again by its slug either: installing
    # again makes a new Board, and the released one stays inactive with its members.
    new_slug = slack_install(two_boards, ALPHA, "UALPHAAGAIN")
    assert new_slug == f"{ALPHA_SLUG}-2"
    with Session(two_boards) as session:
        released = get_board(session=session, slug=ALPHA_SLUG)
        assert not released.active
        assert not find_member_by_identity(session=session, board_id=released.id,
                                           channel=SLACK, external_id="UALPHAAGAIN")  # fmt: skip
    assert slack_binding(two_boards, ALPHA) == (new_slug, True, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["board", "bind", "nosuch", "--slack-team", "T0NEW"], "There is no Board 'nosuch'"),
        (["board", "unbind", "nosuch", "--slack-team", ALPHA], "There is no Board 'nosuch'"),
        (["board", "bind", "soc", "--slack-team", "not a team"], "is not a Slack workspace id"),
        (["board", "bind", "soc", "--slack-team", "T0NEW", "--enterprise", "T0X"],
         "is not a Slack Enterprise Grid id"),
        (["board", "bind", "soc", "--slack-team", "T0NEW", "--team", "T1"], "--team is for"),
        (["board", "bind", "soc", "--teams-tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47",
          "--enterprise", "E0X"], "--enterprise is for a Slack workspace"),
        (["board", "unbind", "soc", "--slack-team", ALPHA], "soc is not bound to Slack"),
        (["board", "unbind", "soc", "--slack-team", "T0NEW"], "soc is not bound to Slack"),
    ],
)  # fmt: skip
def test_slack_bind_refuses_clearly_and_changes_nothing(two_boards, capsys, argv, message):
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert slack_binding(two_boards, "T0NEW") is None
    assert slack_binding(two_boards, ALPHA) == (ALPHA_SLUG, True, "")
    assert board_slugs(two_boards) == ["slack-t0alpha", "soc"]
