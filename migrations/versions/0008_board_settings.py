"""board settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 04:20:00

The Board's own settings live on the Board: its time zone (already there), bank-holiday region,
reminder points and time (moved from the meeting schedule, values copied) and the channels the
chair's summary goes to. The meeting schedule keeps only the rule.

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate writes AutoString)


# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (column, length, default) moved from the meeting schedule to the Board.
_MOVED = (
    ("holiday_region", 16, "GB-ENG"),
    ("reminder_days", 50, "5,1"),
    ("reminder_time", 5, "09:00"),
)


def _column(name: str, length: int, default: str) -> sa.Column:
    return sa.Column(
        name,
        sqlmodel.sql.sqltypes.AutoString(length=length),
        nullable=False,
        server_default=default,
    )


def _copy(target: str, source: str, names: list[str]) -> None:
    """Set each target row's columns from the source row of the same Board, where there is one."""
    key = "id" if target == "board" else "board_id"
    other = "board_id" if target == "board" else "id"
    match = f"{source}.{other} = {target}.{key}"
    sets = ", ".join(
        f"{name} = (SELECT {source}.{name} FROM {source} WHERE {match})" for name in names
    )
    op.execute(f"UPDATE {target} SET {sets} WHERE EXISTS (SELECT 1 FROM {source} WHERE {match})")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("board", schema=None) as batch_op:
        for name, length, default in _MOVED:
            batch_op.add_column(_column(name, length, default))
        batch_op.add_column(
            sa.Column("summary_channels", sa.JSON(), nullable=False, server_default="[]")
        )
    # The schedule's zone was the one its meetings were made in: it becomes the Board's.
    _copy("board", "meetingschedule", ["timezone", *(name for name, _, _ in _MOVED)])
    with op.batch_alter_table("meetingschedule", schema=None) as batch_op:
        for name, _, _ in _MOVED:
            batch_op.drop_column(name)
        batch_op.drop_column("timezone")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("meetingschedule", schema=None) as batch_op:
        batch_op.add_column(_column("timezone", 64, "Europe/London"))
        for name, length, default in _MOVED:
            batch_op.add_column(_column(name, length, default))
    _copy("meetingschedule", "board", ["timezone", *(name for name, _, _ in _MOVED)])
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("summary_channels")
        for name, _, _ in _MOVED:
            batch_op.drop_column(name)
