"""accounts: separation of duties — who recorded each record, memberships, rejections

Revision ID: h4acct000003
Revises: b5acct000002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gosplan.storage.accounts import (
    APPEND_ONLY_SEPARATION,
    append_only_ddl,
    drop_append_only_ddl,
)

revision = "h4acct000003"
down_revision = "b5acct000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acct_work") as batch:
        batch.add_column(
            sa.Column("recorded_by", sa.String(120), nullable=False, server_default="")
        )
    op.create_table(
        "acct_membership",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            sa.ForeignKey("acct_account.id"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "person_id", sa.Integer, sa.ForeignKey("acct_account.id"), nullable=False, index=True
        ),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "acct_rejection",
        sa.Column("work_id", sa.Integer, sa.ForeignKey("acct_work.id"), primary_key=True),
        sa.Column("rejected_by", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    for stmt in append_only_ddl(op.get_bind().dialect.name, APPEND_ONLY_SEPARATION, function=False):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in drop_append_only_ddl(
        op.get_bind().dialect.name, APPEND_ONLY_SEPARATION, function=False
    ):
        op.execute(stmt)
    op.drop_table("acct_rejection")
    op.drop_table("acct_membership")
    with op.batch_alter_table("acct_work") as batch:
        batch.drop_column("recorded_by")
