"""history hash chain and append-only guard

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

"""

import sqlite3
from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from models.audit import install_append_only_guard, rehash, remove_append_only_guard
from models.columns import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANGE = sa.table(
    "actionchange",
    *(sa.column(name) for name in ("id", "board_id", "action_id", "actor_member_id")),
    sa.column("at", UTCDateTime()),
    *(sa.column(name) for name in ("actor_name", "field", "old_value", "new_value", "note")),
    sa.column("chain_hash"),
)
_BOARD = sa.table("board", sa.column("id"), sa.column("history_head"))


def upgrade() -> None:
    """Add the chain columns, seal the existing history in it, then make the history append-only."""
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_head", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("actionchange", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chain_hash", sa.String(length=64), nullable=False, server_default="")
        )
    connection = op.get_bind()
    for (board_id,) in connection.execute(sa.select(_BOARD.c.id)).all():
        rows = connection.execute(
            sa.select(_CHANGE).where(_CHANGE.c.board_id == board_id).order_by(_CHANGE.c.id)
        ).all()
        sealed = list(rehash(SimpleNamespace(**row._mapping) for row in rows))
        if sealed:
            connection.execute(
                sa.update(_CHANGE).where(_CHANGE.c.id == sa.bindparam("change_id")),
                [{"change_id": i, "chain_hash": h} for i, h in sealed],
            )
            connection.execute(
                sa.update(_BOARD).where(_BOARD.c.id == board_id).values(history_head=sealed[-1][1])
            )
    install_append_only_guard(connection)


def downgrade() -> None:
    """Drop the guard and the chain columns."""
    connection = op.get_bind()
    remove_append_only_guard(connection)
    for table, column in (("actionchange", "chain_hash"), ("board", "history_head")):
        if connection.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column(column)
        else:
            # Not batch mode: SQLite would copy the board table, and dropping the original
            # fails its foreign keys once there are rows.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
