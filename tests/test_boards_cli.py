"""`soc-bot boards list` and `soc-bot board export|delete` on a deployment hosting two Boards."""

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
from models.tables import Action, ActionChange, Board
from models.workspaces import SLACK, deactivate
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
