"""board history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 06:00:00

The Board's own history (`boardchange`, models.board_history): who changed a Board setting, the
priorities exercise's closing day or a member's role, when, from what to what. Append-only like
the action history (models.audit's triggers), and sealed to its Board on PostgreSQL
(models.board_seal).

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate writes AutoString)

import models.columns  # noqa: F401
from models.audit import install_append_only_guard, remove_append_only_guard
from models.board_seal import seal_table_statements, unseal_table_statements

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLE = 'boardchange'


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('at', models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_member_id', sa.Integer(), nullable=True),
    sa.Column('by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['board.id'], ),
    sa.ForeignKeyConstraint(['by_member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index('ix_boardchange_board_id_id', ['board_id', 'id'], unique=False)
    connection = op.get_bind()
    install_append_only_guard(connection, [TABLE])
    if connection.dialect.name == 'postgresql':
        for statement in seal_table_statements(TABLE):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        for statement in unseal_table_statements(TABLE):
            op.execute(statement)
    remove_append_only_guard(connection, [TABLE])
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index('ix_boardchange_board_id_id')
    op.drop_table(TABLE)
