"""fulfilment: register, norms, plans, versioned reports, check runs and flags

Revision ID: f2fulf000002
Revises: f1fulf000001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f2fulf000002"
down_revision = "f1fulf000001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "ful_sector",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(300), nullable=False),
        sa.Column("hours_per_unit", sa.Float, nullable=True),
        sa.Column("output_unit", sa.String(64), nullable=False),
        sa.Column("hours_unit", sa.String(64), nullable=False),
        sa.UniqueConstraint("code", name="uq_ful_sector_code"),
    )
    op.create_table(
        "ful_enterprise",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "sector_id",
            sa.Integer,
            _fk("ful_enterprise", "sector_id", "ful_sector"),
            nullable=False,
        ),
        sa.Column("capacity", sa.Float, nullable=False),
        sa.Column("hours_norm", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("code", name="uq_ful_enterprise_code"),
    )
    op.create_index("ix_ful_enterprise_sector_id", "ful_enterprise", ["sector_id"])
    op.create_table(
        "ful_norm",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "sector_id", sa.Integer, _fk("ful_norm", "sector_id", "ful_sector"), nullable=False
        ),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            _fk("ful_norm", "enterprise_id", "ful_enterprise"),
            nullable=True,
        ),
        sa.Column(
            "product_id", sa.Integer, _fk("ful_norm", "product_id", "ful_sector"), nullable=False
        ),
        sa.Column("per_unit", sa.Float, nullable=False),
    )
    op.create_index("ix_ful_norm_sector_id", "ful_norm", ["sector_id"])
    op.create_index("ix_ful_norm_enterprise_id", "ful_norm", ["enterprise_id"])
    op.create_table(
        "ful_plan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("freq", sa.String(8), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("periods", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "ful_plan_sector",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "plan_id", sa.Integer, _fk("ful_plan_sector", "plan_id", "ful_plan"), nullable=False
        ),
        sa.Column(
            "sector_id",
            sa.Integer,
            _fk("ful_plan_sector", "sector_id", "ful_sector"),
            nullable=False,
        ),
        sa.Column("per_period", sa.JSON, nullable=False),
        sa.UniqueConstraint("plan_id", "sector_id", name="uq_ful_plan_sector_plan_id"),
    )
    op.create_table(
        "ful_target",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, _fk("ful_target", "plan_id", "ful_plan"), nullable=False),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            _fk("ful_target", "enterprise_id", "ful_enterprise"),
            nullable=False,
        ),
        sa.Column("share", sa.Float, nullable=False),
        sa.UniqueConstraint("plan_id", "enterprise_id", name="uq_ful_target_plan_id"),
    )
    op.create_table(
        "ful_report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            _fk("ful_report", "enterprise_id", "ful_enterprise"),
            nullable=False,
        ),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("output", sa.Float, nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.UniqueConstraint(
            "enterprise_id", "period", "version", name="uq_ful_report_enterprise_id"
        ),
    )
    op.create_index("ix_ful_report_enterprise_id", "ful_report", ["enterprise_id"])
    op.create_index("ix_ful_report_period", "ful_report", ["period"])
    op.create_table(
        "ful_report_line",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            _fk("ful_report_line", "report_id", "ful_report"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column(
            "counterparty_id",
            sa.Integer,
            _fk("ful_report_line", "counterparty_id", "ful_enterprise"),
            nullable=False,
        ),
        sa.Column(
            "product_id",
            sa.Integer,
            _fk("ful_report_line", "product_id", "ful_sector"),
            nullable=False,
        ),
        sa.Column("quantity", sa.Float, nullable=False),
    )
    op.create_index("ix_ful_report_line_report_id", "ful_report_line", ["report_id"])
    op.create_table(
        "ful_check_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "plan_id", sa.Integer, _fk("ful_check_run", "plan_id", "ful_plan"), nullable=False
        ),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )
    op.create_table(
        "ful_flag",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, _fk("ful_flag", "run_id", "ful_check_run"), nullable=False),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            _fk("ful_flag", "enterprise_id", "ful_enterprise"),
            nullable=False,
        ),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("check", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("alert_id", sa.Integer, _fk("ful_flag", "alert_id", "esc_item"), nullable=True),
    )
    op.create_index("ix_ful_flag_run_id", "ful_flag", ["run_id"])
    op.create_index("ix_ful_flag_enterprise_id", "ful_flag", ["enterprise_id"])


def downgrade() -> None:
    for table in (
        "ful_flag",
        "ful_check_run",
        "ful_report_line",
        "ful_report",
        "ful_target",
        "ful_plan_sector",
        "ful_plan",
        "ful_norm",
        "ful_enterprise",
        "ful_sector",
    ):
        op.drop_table(table)
