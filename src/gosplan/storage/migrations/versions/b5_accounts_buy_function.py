"""accounts: the system:cancelled account; on PostgreSQL a one-round-trip purchase function

Revision ID: b5acct000002
Revises: b5acct000001
Create Date: 2026-11-27
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from gosplan.storage.accounts import BUY_FUNCTION_SQL

revision = "b5acct000002"
down_revision = "b5acct000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    have = bind.execute(
        sa.text("SELECT count(*) FROM acct_account WHERE code = 'system:cancelled'")
    ).scalar()
    if not have:
        bind.execute(
            sa.text(
                "INSERT INTO acct_account (code, kind, name, created_at, balance) "
                "VALUES ('system:cancelled', 'system', 'cancelled', :t, NULL)"
            ),
            {"t": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
        )
    if bind.dialect.name == "postgresql":
        op.execute(BUY_FUNCTION_SQL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS acct_buy(text, text, bigint, text, text)")
