"""accounts: labour-time ledger (accounts, periods, transactions, postings, goods)

Revision ID: b5acct000001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gosplan.storage.accounts import append_only_ddl, drop_append_only_ddl

revision = "b5acct000001"
down_revision = None
branch_labels = ("accounts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acct_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("code", name="uq_acct_account_code"),
    )
    op.create_table(
        "acct_period",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("deduction_rate", sa.String(24), nullable=False),
        sa.Column("deduction_shares", sa.JSON, nullable=False),
        sa.Column("deduction_source", sa.Text, nullable=False),
        sa.Column("opening_stock", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.UniqueConstraint("code", name="uq_acct_period_code"),
    )
    op.create_table(
        "acct_transaction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "period_id",
            sa.Integer,
            sa.ForeignKey("acct_period.id", name="fk_acct_transaction_period_id_acct_period"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("memo", sa.Text, nullable=False),
        sa.Column(
            "reverses_id",
            sa.Integer,
            sa.ForeignKey(
                "acct_transaction.id", name="fk_acct_transaction_reverses_id_acct_transaction"
            ),
            nullable=True,
        ),
        sa.UniqueConstraint("reverses_id", name="uq_acct_transaction_reverses_id"),
    )
    op.create_index("ix_acct_transaction_period_id", "acct_transaction", ["period_id"])
    op.create_table(
        "acct_posting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "transaction_id",
            sa.Integer,
            sa.ForeignKey(
                "acct_transaction.id", name="fk_acct_posting_transaction_id_acct_transaction"
            ),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("acct_account.id", name="fk_acct_posting_account_id_acct_account"),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_acct_posting_transaction_id", "acct_posting", ["transaction_id"])
    op.create_index("ix_acct_posting_account_id", "acct_posting", ["account_id"])
    op.create_table(
        "acct_request",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "acct_work",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "period_id",
            sa.Integer,
            sa.ForeignKey("acct_period.id", name="fk_acct_work_period_id_acct_period"),
            nullable=False,
        ),
        sa.Column(
            "enterprise_id",
            sa.Integer,
            sa.ForeignKey("acct_account.id", name="fk_acct_work_enterprise_id_acct_account"),
            nullable=False,
        ),
        sa.Column(
            "person_id",
            sa.Integer,
            sa.ForeignKey("acct_account.id", name="fk_acct_work_person_id_acct_account"),
            nullable=False,
        ),
        sa.Column("hours", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_acct_work_period_id", "acct_work", ["period_id"])
    op.create_index("ix_acct_work_enterprise_id", "acct_work", ["enterprise_id"])
    op.create_table(
        "acct_approval",
        sa.Column(
            "work_id",
            sa.Integer,
            sa.ForeignKey("acct_work.id", name="fk_acct_approval_work_id_acct_work"),
            primary_key=True,
        ),
        sa.Column(
            "transaction_id",
            sa.Integer,
            sa.ForeignKey(
                "acct_transaction.id", name="fk_acct_approval_transaction_id_acct_transaction"
            ),
            nullable=False,
        ),
        sa.Column("approver", sa.String(120), nullable=False),
    )
    op.create_index("ix_acct_approval_transaction_id", "acct_approval", ["transaction_id"])
    op.create_table(
        "acct_good",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(80), nullable=False),
        sa.Column("product", sa.String(200), nullable=True),
        sa.Column("labour_value", sa.String(40), nullable=False),
        sa.Column("ratio", sa.String(40), nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("stock", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("code", name="uq_acct_good_code"),
    )
    op.create_table(
        "acct_stock_move",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "good_id",
            sa.Integer,
            sa.ForeignKey("acct_good.id", name="fk_acct_stock_move_good_id_acct_good"),
            nullable=False,
        ),
        sa.Column(
            "period_id",
            sa.Integer,
            sa.ForeignKey("acct_period.id", name="fk_acct_stock_move_period_id_acct_period"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column(
            "transaction_id",
            sa.Integer,
            sa.ForeignKey(
                "acct_transaction.id", name="fk_acct_stock_move_transaction_id_acct_transaction"
            ),
            nullable=True,
        ),
        sa.Column("price", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_acct_stock_move_good_id", "acct_stock_move", ["good_id"])
    op.create_index("ix_acct_stock_move_period_id", "acct_stock_move", ["period_id"])
    op.create_index("ix_acct_stock_move_transaction_id", "acct_stock_move", ["transaction_id"])
    op.create_table(
        "acct_price",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "good_id",
            sa.Integer,
            sa.ForeignKey("acct_good.id", name="fk_acct_price_good_id_acct_good"),
            nullable=False,
        ),
        sa.Column(
            "period_id",
            sa.Integer,
            sa.ForeignKey("acct_period.id", name="fk_acct_price_period_id_acct_period"),
            nullable=True,
        ),
        sa.Column("labour_value", sa.String(40), nullable=False),
        sa.Column("ratio", sa.String(40), nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_acct_price_good_id", "acct_price", ["good_id"])
    dialect = op.get_bind().dialect.name
    for stmt in append_only_ddl(dialect):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in drop_append_only_ddl(dialect):
        op.execute(stmt)
    for table in (
        "acct_price",
        "acct_stock_move",
        "acct_good",
        "acct_approval",
        "acct_work",
        "acct_request",
        "acct_posting",
        "acct_transaction",
        "acct_period",
        "acct_account",
    ):
        op.drop_table(table)
