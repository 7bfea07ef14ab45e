"""control: criticisms (sealed identities, statuses, accesses; append-only), people,
units, positions, tenures, ties, appointments, interactions, personnel events, alerts

Revision ID: c2ctrl000002
Revises: c1ctrl000001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gosplan.storage.control import APPEND_ONLY_TABLES
from gosplan.storage.publiclog import append_only_ddl, drop_append_only_ddl

revision = "c2ctrl000002"
down_revision = "c1ctrl000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "criticism",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("filed_on", sa.Date, nullable=False),
        sa.Column("attachment_name", sa.String(200), nullable=True),
        sa.Column("attachment_sha256", sa.String(64), nullable=True),
        sa.Column("attachment_size", sa.BigInteger, nullable=True),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "criticism_attachment",
        sa.Column("criticism_id", sa.Integer, sa.ForeignKey("criticism.id"), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "criticism_identity",
        sa.Column("criticism_id", sa.Integer, sa.ForeignKey("criticism.id"), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("watch_tag", sa.String(64), nullable=True, index=True),
    )
    op.create_table(
        "criticism_status",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "criticism_id", sa.Integer, sa.ForeignKey("criticism.id"), nullable=False, index=True
        ),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "criticism_identity_access",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("criticism_id", sa.Integer, sa.ForeignKey("criticism.id"), nullable=False),
        sa.Column("accessor", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_person",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("hometown", sa.String(120), nullable=True, index=True),
    )
    op.create_table(
        "control_unit",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "control_position",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("control_unit.id"), nullable=False),
        sa.Column("reports_to", sa.String(64), sa.ForeignKey("control_position.id"), nullable=True),
    )
    op.create_table(
        "control_tenure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id",
            sa.String(64),
            sa.ForeignKey("control_person.id"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "position_id",
            sa.String(64),
            sa.ForeignKey("control_position.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("started", sa.Date, nullable=False),
        sa.Column("ended", sa.Date, nullable=True),
    )
    op.create_table(
        "control_tie",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "a", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False, index=True
        ),
        sa.Column(
            "b", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "control_appointment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "position_id", sa.String(64), sa.ForeignKey("control_position.id"), nullable=False
        ),
        sa.Column("appointee", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False),
        sa.Column("appointer", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False),
        sa.Column("panel", sa.JSON, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_interaction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "actor", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False, index=True
        ),
        sa.Column(
            "subject", sa.String(64), sa.ForeignKey("control_person.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
    )
    op.create_table(
        "control_personnel_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id",
            sa.String(64),
            sa.ForeignKey("control_person.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), sa.ForeignKey("control_person.id"), nullable=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_alert",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, nullable=False, index=True),
        sa.Column(
            "event_id", sa.Integer, sa.ForeignKey("control_personnel_event.id"), nullable=False
        ),
        sa.Column("criticism_id", sa.Integer, sa.ForeignKey("criticism.id"), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in append_only_ddl(dialect, table):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in drop_append_only_ddl(dialect, table):
            op.execute(stmt)
    for table in (
        "control_alert",
        "control_personnel_event",
        "control_interaction",
        "control_appointment",
        "control_tie",
        "control_tenure",
        "control_position",
        "control_unit",
        "control_person",
        "criticism_identity_access",
        "criticism_status",
        "criticism_identity",
        "criticism_attachment",
        "criticism",
    ):
        op.drop_table(table)
