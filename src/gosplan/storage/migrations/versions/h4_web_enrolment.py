"""web: enrolment of voters (by a registrar); self-registered people are not enrolled

Revision ID: h4web0000002
Revises: a1web0000001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h4web0000002"
down_revision = "a1web0000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.add_column(sa.Column("enrolled_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("enrolled_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.drop_column("enrolled_by")
        batch.drop_column("enrolled_at")
