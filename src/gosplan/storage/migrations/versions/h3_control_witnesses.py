"""control: checkpoint origins on signed tree heads; witness cosignatures (append-only)

Revision ID: h3ctrl000003
Revises: c2ctrl000002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gosplan.storage.publiclog import append_only_ddl, drop_append_only_ddl

revision = "h3ctrl000003"
down_revision = "c2ctrl000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # the tree-head table is append-only: lift its triggers for the one schema change
    for stmt in drop_append_only_ddl(dialect, "publiclog_tree_head"):
        op.execute(stmt)
    with op.batch_alter_table("publiclog_tree_head") as batch:
        batch.add_column(sa.Column("origin", sa.String(255), nullable=True))
    for stmt in append_only_ddl(dialect, "publiclog_tree_head"):
        op.execute(stmt)
    op.create_table(
        "publiclog_cosignature",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "tree_head_id",
            sa.Integer,
            sa.ForeignKey("publiclog_tree_head.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("key_id", sa.LargeBinary(4), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )
    for stmt in append_only_ddl(dialect, "publiclog_cosignature"):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in drop_append_only_ddl(dialect, "publiclog_cosignature"):
        op.execute(stmt)
    op.drop_table("publiclog_cosignature")
    for stmt in drop_append_only_ddl(dialect, "publiclog_tree_head"):
        op.execute(stmt)
    with op.batch_alter_table("publiclog_tree_head") as batch:
        batch.drop_column("origin")
    for stmt in append_only_ddl(dialect, "publiclog_tree_head"):
        op.execute(stmt)
