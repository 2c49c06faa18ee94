"""board seal

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 05:00:00

Row-level security on PostgreSQL (models.board_seal): every Board table gets a policy for the role
soc_sealed that shows only the Board named in the transaction's soc.board_id setting. Nothing on
SQLite. The role is shared by every database on the server, so the downgrade leaves it in place.

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from models.board_seal import (
    CHILD_TABLES,
    SEALED_ROLE,
    seal_table_statements,
    unseal_table_statements,
)


# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

def board_tables(connection: sa.Connection) -> list[str]:
    """The board table, every table with a board_id column, and the child tables."""
    owned = connection.execute(
        sa.text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'board_id'"
        )
    ).scalars()
    return sorted({"board", *owned, *CHILD_TABLES})


def upgrade() -> None:
    """Upgrade schema."""
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    # Several databases on one server may create the shared role at the same moment.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SEALED_ROLE}') THEN
                CREATE ROLE {SEALED_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT pg_has_role(current_user, '{SEALED_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {SEALED_ROLE} TO %I', current_user);
            END IF;
        END $$
        """
    )
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {SEALED_ROLE}')
    # Sequences only: tables are granted one by one as they are sealed, so a sealed transaction
    # cannot read the deployment's own tables (the Slack tokens among them).
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {SEALED_ROLE}')
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT USAGE, SELECT ON SEQUENCES '
        f"TO {SEALED_ROLE}"
    )
    # The deployment id marks every message a sealed sender sends; it is not a secret.
    op.execute(f"GRANT SELECT ON deployment TO {SEALED_ROLE}")
    for table in board_tables(connection):
        for statement in seal_table_statements(table):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for table in board_tables(connection):
        for statement in unseal_table_statements(table):
            op.execute(statement)
    op.execute(f"REVOKE ALL ON deployment FROM {SEALED_ROLE}")
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE USAGE, SELECT ON SEQUENCES '
        f"FROM {SEALED_ROLE}"
    )
    op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {SEALED_ROLE}')
    op.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {SEALED_ROLE}')
