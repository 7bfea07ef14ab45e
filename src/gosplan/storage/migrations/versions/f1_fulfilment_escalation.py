"""fulfilment: escalation ladder (alerts and directives, their events)

Revision ID: f1fulf000001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f1fulf000001"
down_revision = None
branch_labels = ("fulfilment",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "esc_item",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("ladder", sa.JSON, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=True),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_esc_item_area", "esc_item", ["area"])
    op.create_index("ix_esc_item_subject", "esc_item", ["subject"])
    op.create_index("ix_esc_item_key", "esc_item", ["key"])
    op.create_index("ix_esc_item_resolved_at", "esc_item", ["resolved_at"])
    op.create_table(
        "esc_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("esc_item.id", name="fk_esc_event_item_id_esc_item"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_esc_event_item_id", "esc_event", ["item_id"])


def downgrade() -> None:
    op.drop_table("esc_event")
    op.drop_table("esc_item")
