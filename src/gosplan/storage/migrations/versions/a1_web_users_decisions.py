"""web: users with roles, decisions (proposals, comments, ballots)

Revision ID: a1web0000001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1web0000001"
down_revision = None
branch_labels = ("web",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("enterprise", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "decision_proposal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("quorum", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("web_user.id"), nullable=False),
        sa.Column("discussion_until", sa.DateTime, nullable=False),
        sa.Column("voting_until", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("outcome", sa.JSON, nullable=True),
    )
    op.create_table(
        "decision_comment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("decision_proposal.id"), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("web_user.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "decision_ballot",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("decision_proposal.id"), nullable=False),
        sa.Column("voter_id", sa.Integer, sa.ForeignKey("web_user.id"), nullable=False),
        sa.Column("choice", sa.JSON, nullable=False),
        sa.Column("cast_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("proposal_id", "voter_id", name="uq_ballot_voter"),
    )


def downgrade() -> None:
    for t in ("decision_ballot", "decision_comment", "decision_proposal", "web_user"):
        op.drop_table(t)
