"""Row-level security on PostgreSQL: a transaction sealed to one Board sees and changes only that
Board's rows, so a query that forgot its Board filter finds nothing of another Board's.

The policies (migration 0010) apply to one role, `SEALED_ROLE`. A sealed transaction switches to
it (SET LOCAL ROLE, as a setting) and names its Board in the setting `BOARD_SETTING`; both end
with the transaction. Outside a sealed transaction (migrations, the operator's CLI, the worker's
reads across Boards) the connecting role owns the tables and is not restricted. SQLite has no
row-level security: there the handlers' own Board filters are the only seal.
"""

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

SEALED_ROLE = "soc_sealed"
BOARD_SETTING = "soc.board_id"
# Tables whose rows belong to a Board through a parent row rather than a board_id of their own:
# table -> (parent table, the column naming the parent row).
CHILD_TABLES: dict[str, tuple[str, str]] = {
    "actionlead": ("action", "action_id"),
    "actionstrand": ("action", "action_id"),
    "priorityexercisearea": ("priorityexercise", "exercise_id"),
    "prioritystance": ("priorityanswer", "answer_id"),
}
# Tables that belong to the deployment, not to any Board: a sealed transaction cannot read them
# (the Slack tables hold every workspace's tokens).
DEPLOYMENT_TABLES = frozenset(
    {
        "alembic_version",
        "deployment",
        "seenrequest",
        "slack_bots",
        "slack_installations",
        "slack_oauth_states",
    }
)
PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# The execution option that names the Board a sealed engine's transactions belong to.
SEAL_OPTION = "soc_sealed_board"


def board_predicate(table: str) -> str:
    """The SQL condition a row of `table` meets when it belongs to the sealed Board."""
    board = f"NULLIF(current_setting('{BOARD_SETTING}', true), '')::integer"
    if table == "board":
        return f"id = {board}"
    if table in CHILD_TABLES:
        parent, column = CHILD_TABLES[table]
        # The parent's own policy applies inside the subquery, so this follows its seal.
        return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column})"
    return f"board_id = {board}"


def seal_to_board(session: Session, board_id: int) -> None:
    """Limit the rest of this transaction to one Board's rows (PostgreSQL; SQLite: nothing)."""
    if session.get_bind().dialect.name == "postgresql":
        _seal(session.connection(), board_id)


def sealed_engine(engine: Engine, board_id: int) -> Engine:
    """The same database with every transaction sealed to one Board (PostgreSQL; SQLite: as is)."""
    if engine.dialect.name != "postgresql":
        return engine
    if not event.contains(engine, "begin", _seal_on_begin):
        event.listen(engine, "begin", _seal_on_begin)
    return engine.execution_options(**{SEAL_OPTION: int(board_id)})


def _seal_on_begin(connection: Connection) -> None:
    board_id = connection.get_execution_options().get(SEAL_OPTION)
    if board_id is not None:
        _seal(connection, board_id)


# One round trip: setting "role" for the transaction is SET LOCAL ROLE.
_SEAL = text("SELECT set_config(:name, :value, true), set_config('role', :role, true)")


def _seal(connection: Connection, board_id: int) -> None:
    connection.execute(
        _SEAL, {"name": BOARD_SETTING, "value": str(int(board_id)), "role": SEALED_ROLE}
    )


def seal_table_statements(table: str) -> list[str]:
    """The SQL that seals one table (for migrations that add Board tables)."""
    condition = board_predicate(table)
    return [
        f"GRANT {PRIVILEGES} ON {table} TO {SEALED_ROLE}",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY board_seal ON {table} TO {SEALED_ROLE} "
        f"USING ({condition}) WITH CHECK ({condition})",
    ]


def unseal_table_statements(table: str) -> list[str]:
    """The SQL that undoes `seal_table_statements`."""
    return [
        f"DROP POLICY IF EXISTS board_seal ON {table}",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        f"REVOKE ALL ON {table} FROM {SEALED_ROLE}",
    ]
