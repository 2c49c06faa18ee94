"""Migration 0006 on a register built at 0005 with real rows: Slack ids move into identities and
the ledgers' channel-neutral columns, and back down again (or the downgrade refuses)."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Boolean, Date, Integer

from models.columns import UTCDateTime
from models.db import make_engine
from models.migrate import current_revision, downgrade, upgrade
from tests.conftest import PG_URL, fresh_postgres_database

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0005(request, tmp_path):
    """A database at revision 0005 holding a small register: members, history and ledger rows."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield _filled(engine)
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("SOC_TEST_POSTGRES_URL is not set")
    with fresh_postgres_database("soc_migrate") as url:
        engine = make_engine(url)
        yield _filled(engine)
        engine.dispose()


def _filled(engine):
    upgrade(engine, "0005")
    tables = sa.MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:

        def add(table_name: str, /, **values) -> None:
            table = tables.tables[table_name]
            connection.execute(table.insert().values(**_complete(table, values)))

        add("board", id=1, slug="soc", name="SOC Board")
        add("partner", id=1, board_id=1, name="CoLP")
        add("crimearea", id=1, board_id=1, name="Fraud")
        add("member", id=1, board_id=1, slack_user_id="UCHAIR", display_name="John", role="chair")
        add("member", id=2, board_id=1, slack_user_id="UCOLP", display_name="Rob", partner_id=1)
        add("member", id=3, board_id=1, slack_user_id="UDEP", display_name="Deb", deputy_id=None)
        connection.execute(sa.text("UPDATE member SET deputy_id = 3 WHERE id = 2"))
        add("action", id=1, board_id=1, number=1, area_id=1, version=1)
        add("actionchange", id=1, board_id=1, action_id=1, actor_member_id=2, actor_name="Rob",
            field="rag", old_value="none", new_value="red")  # fmt: skip
        add("meeting", id=1, board_id=1)
        add("reminderdelivery", id=1, board_id=1, meeting_id=1, point="2026-12-01",
            recipient_member_id=2, kind="reminder", status="sent", sent_to_user_id="UDEP",
            channel="D0DEP", ts="1764579600.000100", on_behalf_of="Rob")  # fmt: skip
        add("reminderdelivery", id=2, board_id=1, meeting_id=1, point="2026-12-01",
            recipient_member_id=1, kind="digest", status="failed", sent_to_user_id="UCHAIR",
            error="user_not_found")  # fmt: skip
        add("reminderdelivery", id=3, board_id=1, meeting_id=1, point="2026-12-01",
            recipient_member_id=3, kind="reminder", status="nothing")  # fmt: skip
        add("priorityexercise", id=1, board_id=1, closes_on=date(2026, 12, 10))
        add("prioritydelivery", id=1, board_id=1, exercise_id=1, partner_id=1, point="open",
            recipient_member_id=2, kind="invitation", status="sent", sent_to_user_id="UCOLP",
            channel="D0COLP", ts="1764579700.000200")  # fmt: skip
    return engine


def _complete(table: sa.Table, values: dict) -> dict:
    """`values` plus a plain value for every other required column."""
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, UTCDateTime | sa.DateTime):
            values[column.name] = AT
        elif isinstance(kind, Date):
            values[column.name] = AT.date()
        elif isinstance(kind, Boolean):
            values[column.name] = False
        elif isinstance(kind, Integer):
            values[column.name] = 0
        else:
            values[column.name] = ""
    return values


def _rows(engine, query: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query))]


def _records(engine, table: str) -> list[dict]:
    """Every row of `table` as {column: value} (a rebuilt table may order its columns anew)."""
    with engine.connect() as connection:
        query = sa.text(f"SELECT * FROM {table} ORDER BY id")
        return [dict(row._mapping) for row in connection.execute(query)]


def test_upgrade_moves_slack_ids_into_identities_and_ledger_addresses(engine_at_0005):
    engine = engine_at_0005
    upgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    assert _rows(
        engine, "SELECT member_id, channel, tenant, external_id FROM identity ORDER BY member_id"
    ) == [(1, "slack", "", "UCHAIR"), (2, "slack", "", "UCOLP"), (3, "slack", "", "UDEP")]
    assert _rows(engine, "SELECT id, display_name, channel, deputy_id FROM member ORDER BY id") == [
        (1, "John", "slack", None),
        (2, "Rob", "slack", 3),
        (3, "Deb", "slack", None),
    ]
    assert "slack_user_id" not in {c["name"] for c in sa.inspect(engine).get_columns("member")}
    assert _rows(
        engine, "SELECT id, status, address, message_ref FROM reminderdelivery ORDER BY id"
    ) == [
        (1, "sent", "slack::UDEP", "D0DEP:1764579600.000100"),
        (2, "failed", "slack::UCHAIR", ""),
        (3, "nothing", "", ""),
    ]
    assert _rows(engine, "SELECT address, message_ref FROM prioritydelivery") == [
        ("slack::UCOLP", "D0COLP:1764579700.000200")
    ]
    # The history and its author survive the member table being rebuilt.
    assert _rows(engine, "SELECT actor_member_id, new_value FROM actionchange") == [(2, "red")]
    (deployment,) = _rows(engine, "SELECT random_id FROM deployment")
    assert len(deployment[0]) == 32 and int(deployment[0], 16) >= 0
    if engine.dialect.name == "sqlite":
        assert _rows(engine, "PRAGMA foreign_key_check") == []


def test_each_database_gets_its_own_deployment_id(tmp_path):
    ids = set()
    for name in ("staging.db", "production.db"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade(engine)
        ids.update(_rows(engine, "SELECT random_id FROM deployment"))
        engine.dispose()
    assert len(ids) == 2


def test_downgrade_puts_the_slack_ids_back(engine_at_0005):
    engine = engine_at_0005
    before = {
        name: _records(engine, name)
        for name in ("member", "reminderdelivery", "prioritydelivery", "actionchange")
    }
    upgrade(engine, "0006")
    downgrade(engine, "0005")
    assert current_revision(engine) == "0005"
    for name, rows in before.items():
        assert _records(engine, name) == rows, name
    assert "identity" not in sa.inspect(engine).get_table_names()
    # The Slack id is unique per board again.
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO member (board_id, slack_user_id, display_name, role, away) "
                "VALUES (1, 'UCOLP', 'Twin', 'member', false)"
            )
        )


def test_downgrade_refuses_a_member_known_on_another_channel(engine_at_0005):
    engine = engine_at_0005
    upgrade(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO identity (board_id, member_id, channel, external_id, tenant, "
                "conversation, created_at) VALUES (1, 2, 'teams', "
                "'0b3c7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 'tenant-1', '', :at)"
            ),
            {"at": AT},
        )
    with pytest.raises(RuntimeError, match="1 identities on channels other than Slack"):
        downgrade(engine, "0005")
    assert current_revision(engine) == "0006"
    assert len(_rows(engine, "SELECT id FROM identity")) == 4
