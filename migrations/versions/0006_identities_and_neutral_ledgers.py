"""identities per channel, channel-neutral ledgers, deployment id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 22:00:00

A member's Slack user id moves to an `identity` row (channel "slack"), so a member may also be
known on Teams or by e-mail; a member gets a preferred channel. Both delivery ledgers store a
channel-neutral `address` ("slack::U123") and `message_ref` ("D123:1700000000.000100") instead of
Slack's user id, channel and ts. The `deployment` table holds this database's random id, which
marks the messages it sends.

Downgrade refuses (and changes nothing) when the data cannot go back into the Slack-only columns:
a member without exactly one Slack identity, an identity on another channel, or a ledger row
addressed to another channel.
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from models.columns import UTCDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGERS = ("reminderdelivery", "prioritydelivery")
SLACK = "slack"


def upgrade() -> None:
    """Create identity and deployment, move Slack ids into identities and ledger columns."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    deployment = op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("random_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(deployment, [{"id": 1, "random_id": secrets.token_hex(16), "created_at": now}])

    op.create_table(
        "identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("tenant", sa.String(length=255), server_default="", nullable=False),
        sa.Column("conversation", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "channel", "tenant", "external_id"),
    )
    op.create_index("ix_identity_member", "identity", ["member_id"], unique=False)
    member = sa.table("member", sa.column("id"), sa.column("board_id"), sa.column("slack_user_id"))
    identity = sa.table(
        "identity",
        *(sa.column(c) for c in ("board_id", "member_id", "channel", "external_id", "tenant")),
        sa.column("created_at", UTCDateTime()),
    )
    members = connection.execute(sa.select(member).order_by(member.c.id)).all()
    if members:
        connection.execute(
            identity.insert(),
            [
                {"board_id": m.board_id, "member_id": m.id, "channel": SLACK,
                 "external_id": m.slack_user_id, "tenant": "", "created_at": now}
                for m in members
            ],
        )  # fmt: skip

    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default=SLACK, nullable=False)
        )
        batch_op.drop_column("slack_user_id")

    for name in LEDGERS:
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("address", sa.Text(), server_default="", nullable=False))
            batch_op.add_column(
                sa.Column("message_ref", sa.Text(), server_default="", nullable=False)
            )
        ledger = _ledger(name, "sent_to_user_id", "channel", "ts", "address", "message_ref")
        rows = connection.execute(
            sa.select(ledger.c.id, ledger.c.sent_to_user_id, ledger.c.channel, ledger.c.ts)
        ).all()
        moved = [
            {"row_id": r.id, "new_address": f"{SLACK}::{r.sent_to_user_id}" if r.sent_to_user_id
             else "", "new_ref": f"{r.channel}:{r.ts}" if r.ts else ""}
            for r in rows
        ]  # fmt: skip
        if moved:
            connection.execute(
                sa.update(ledger)
                .where(ledger.c.id == sa.bindparam("row_id"))
                .values(address=sa.bindparam("new_address"), message_ref=sa.bindparam("new_ref")),
                moved,
            )
        _drop_columns(name, ("sent_to_user_id", "channel", "ts"))


def downgrade() -> None:
    """Put Slack ids back into member and the ledgers, or refuse if some would not fit."""
    connection = op.get_bind()
    _refuse_what_cannot_go_back(connection)
    for name in LEDGERS:
        with op.batch_alter_table(name) as batch_op:
            for column in ("sent_to_user_id", "channel", "ts"):
                batch_op.add_column(
                    sa.Column(column, sa.String(length=32), server_default="", nullable=False)
                )
        ledger = _ledger(name, "sent_to_user_id", "channel", "ts", "address", "message_ref")
        rows = connection.execute(
            sa.select(ledger.c.id, ledger.c.address, ledger.c.message_ref)
        ).all()
        moved = []
        for r in rows:
            channel, _, ts = r.message_ref.partition(":")
            moved.append({"row_id": r.id, "new_user": r.address.split(":", 2)[-1]
                          if r.address else "", "new_channel": channel, "new_ts": ts})  # fmt: skip
        if moved:
            connection.execute(
                sa.update(ledger)
                .where(ledger.c.id == sa.bindparam("row_id"))
                .values(
                    sent_to_user_id=sa.bindparam("new_user"),
                    channel=sa.bindparam("new_channel"),
                    ts=sa.bindparam("new_ts"),
                ),
                moved,
            )
        _drop_columns(name, ("address", "message_ref"))

    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(
            sa.Column("slack_user_id", sa.String(length=32), server_default="", nullable=False)
        )
    member = sa.table("member", sa.column("id"), sa.column("slack_user_id"))
    slack_ids = connection.execute(
        sa.text("SELECT member_id, external_id FROM identity WHERE channel = :slack"),
        {"slack": SLACK},
    ).all()
    if slack_ids:
        connection.execute(
            sa.update(member)
            .where(member.c.id == sa.bindparam("member_id"))
            .values(slack_user_id=sa.bindparam("user_id")),
            [{"member_id": m, "user_id": u} for m, u in slack_ids],
        )
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("channel")
        batch_op.create_unique_constraint("uq_member_board_id_slack_user_id",
                                          ["board_id", "slack_user_id"])  # fmt: skip
    op.drop_index("ix_identity_member", table_name="identity")
    op.drop_table("identity")
    op.drop_table("deployment")


def _refuse_what_cannot_go_back(connection: sa.Connection) -> None:
    problems = []
    other = connection.execute(
        sa.text("SELECT COUNT(*) FROM identity WHERE channel <> :slack"), {"slack": SLACK}
    ).scalar_one()
    if other:
        problems.append(f"{other} identities on channels other than Slack")
    counts = sa.text(
        "SELECT COUNT(*) FROM member m WHERE (SELECT COUNT(*) FROM identity i "
        "WHERE i.member_id = m.id AND i.channel = :slack) <> 1"
    )
    unmatched = connection.execute(counts, {"slack": SLACK}).scalar_one()
    if unmatched:
        problems.append(f"{unmatched} members without exactly one Slack id")
    too_long = connection.execute(
        sa.text("SELECT COUNT(*) FROM identity WHERE LENGTH(external_id) > 32")
    ).scalar_one()
    if too_long:
        problems.append(f"{too_long} ids longer than 32 characters")
    for name in LEDGERS:
        foreign = connection.execute(
            sa.text(
                f"SELECT COUNT(*) FROM {name} WHERE address <> '' AND address NOT LIKE 'slack::%'"
            )
        ).scalar_one()
        if foreign:
            problems.append(f"{foreign} {name} rows addressed to another channel")
    if problems:
        raise RuntimeError(
            "Cannot downgrade below 0006 without losing who is who: "
            + "; ".join(problems)
            + ". Nothing was changed. Remove those identities (or members) first, or keep 0006."
        )


def _ledger(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, sa.column("id"), *(sa.column(c) for c in columns))


def _drop_columns(table: str, columns: Sequence[str]) -> None:
    """Drop plain columns in place (no table copy: copying breaks the foreign keys of rows)."""
    for column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
