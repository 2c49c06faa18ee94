"""register version on boards

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add board.register_version (bumped by every change to the register)."""
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("register_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop board.register_version."""
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("register_version")
