"""accounts: goods provided free for all from a social fund (never sold)

Revision ID: h1acct000004
Revises: h4acct000003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h1acct000004"
down_revision = "h4acct000003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acct_good") as batch:
        batch.add_column(sa.Column("free_fund", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("acct_good") as batch:
        batch.drop_column("free_fund")
