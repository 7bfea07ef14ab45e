"""control: public log (entries, subtree hashes, counter, signed tree heads), append-only

Revision ID: c1ctrl000001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gosplan.storage.publiclog import (
    append_only_ddl,
    drop_append_only_ddl,
    pg_function_ddl,
)

#: the tables this revision made append-only (frozen: later revisions add their own)
APPEND_ONLY_TABLES = ("publiclog_entry", "publiclog_node", "publiclog_tree_head")

revision = "c1ctrl000001"
down_revision = None
branch_labels = ("control",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publiclog_entry",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("logged_at", sa.String(32), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_publiclog_entry_kind", "publiclog_entry", ["kind"])
    op.create_table(
        "publiclog_node",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("pos", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "publiclog_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO publiclog_state (id, size) VALUES (1, 0)")
    op.create_table(
        "publiclog_tree_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(pg_function_ddl())
    for table in APPEND_ONLY_TABLES:
        for stmt in append_only_ddl(dialect, table):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in drop_append_only_ddl(dialect, table):
            op.execute(stmt)
    for table in ("publiclog_tree_head", "publiclog_state", "publiclog_node", "publiclog_entry"):
        op.drop_table(table)
