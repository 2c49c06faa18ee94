"""Row-level security on PostgreSQL: a transaction sealed to one Board finds nothing of another's,
even through a query that forgot its Board filter."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session, select

from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from models.board_seal import CHILD_TABLES, DEPLOYMENT_TABLES, seal_to_board, sealed_engine
from models.boards import get_board
from models.db import make_engine, reader
from models.migrate import upgrade
from models.tables import Action, ActionChange, ActionLead, Board, Partner
from tests.conftest import IMPORTED_AT
from tests.postgres_fixtures import fresh_postgres, postgres

pytestmark = postgres


@pytest.fixture(scope="module")
def two_boards():
    """A database holding two Boards imported from the same Annex B (both have A-1 to A-11)."""
    with fresh_postgres() as url:
        engine = make_engine(url)
        upgrade(engine)
        for slug in ("north", "south"):
            settings = Settings(database_url=url, board_slug=slug, board_name=slug.title())
            import_file(engine, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
        with Session(engine) as session:
            ids = {slug: get_board(session=session, slug=slug).id for slug in ("north", "south")}
        yield engine, ids
        engine.dispose()


def test_an_unfiltered_query_in_a_sealed_transaction_sees_one_board(two_boards) -> None:
    engine, ids = two_boards
    with Session(engine) as session:
        everything = session.exec(select(Action.board_id)).all()
        assert set(everything) == set(ids.values())  # unsealed: both Boards are there
        seal_to_board(session, ids["north"])
        assert set(session.exec(select(Action.board_id)).all()) == {ids["north"]}
        assert len(session.exec(select(Action)).all()) == len(everything) // 2
        assert {b.id for b in session.exec(select(Board))} == {ids["north"]}
        assert set(session.exec(select(Partner.board_id)).all()) == {ids["north"]}
        assert set(session.exec(select(ActionChange.board_id)).all()) == {ids["north"]}
        # Rows without a board_id of their own follow their parent's seal.
        leads = session.exec(select(ActionLead.action_id)).all()
        north_actions = set(session.exec(select(Action.id)).all())
        assert leads and set(leads) <= north_actions


def test_an_unfiltered_update_in_a_sealed_transaction_changes_one_board(two_boards) -> None:
    engine, ids = two_boards
    with Session(engine) as session:
        seal_to_board(session, ids["south"])
        changed = session.execute(sa.update(Partner).values(aliases="sealed")).rowcount
        session.rollback()
    with Session(engine) as session:
        per_board = session.exec(select(Partner.board_id)).all()
    assert changed == per_board.count(ids["south"]) > 0


def test_a_sealed_transaction_cannot_write_into_another_board(two_boards) -> None:
    engine, ids = two_boards
    with Session(engine) as session:
        seal_to_board(session, ids["north"])
        with pytest.raises(ProgrammingError, match="row-level security"):
            session.execute(
                sa.insert(Partner).values(board_id=ids["south"], name="Intruder", aliases="")
            )
        session.rollback()
    with Session(engine) as session:
        names = session.exec(select(Partner.name).where(Partner.board_id == ids["south"])).all()
    assert "Intruder" not in names


def test_the_seal_ends_with_the_transaction(two_boards) -> None:
    engine, ids = two_boards
    with Session(engine) as session:
        seal_to_board(session, ids["north"])
        session.commit()
        assert set(session.exec(select(Action.board_id)).all()) == set(ids.values())


def test_every_table_is_sealed_or_belongs_to_the_deployment(two_boards) -> None:
    engine, _ = two_boards
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        sealed = set(
            connection.execute(
                sa.text(
                    "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
                    "WHERE c.relrowsecurity AND p.polname = 'board_seal'"
                )
            ).scalars()
        )
        owned = set(
            connection.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND column_name = 'board_id'"
                )
            ).scalars()
        )
    assert owned | set(CHILD_TABLES) | {"board"} <= sealed
    assert tables - sealed == DEPLOYMENT_TABLES & tables
    assert tables - sealed - DEPLOYMENT_TABLES == set()


def test_a_sealed_transaction_cannot_read_the_deployments_tables(two_boards) -> None:
    engine, ids = two_boards
    with Session(engine) as session:
        seal_to_board(session, ids["north"])
        with pytest.raises(ProgrammingError, match="permission denied"):
            session.execute(sa.text("SELECT * FROM slack_bots"))
        session.rollback()


def test_a_sealed_engine_seals_every_transaction(two_boards) -> None:
    engine, ids = two_boards
    sealed = sealed_engine(engine, ids["south"])
    for bind in (sealed, reader(sealed)):
        with Session(bind) as session:
            assert set(session.exec(select(Action.board_id)).all()) == {ids["south"]}
            session.commit()
            # A new transaction of the same session is sealed again.
            assert set(session.exec(select(Partner.board_id)).all()) == {ids["south"]}
    with Session(engine) as session:
        assert set(session.exec(select(Action.board_id)).all()) == set(ids.values())
