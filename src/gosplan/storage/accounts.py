"""Tables of the labour-time accounts: a double-entry, append-only ledger of hours.

Amounts are integers in **micro-hours** (``UNIT`` = 1 000 000 per hour), so
sums are exact.  The ledger tables (``acct_transaction``, ``acct_posting``,
``acct_request``, ``acct_work``, ``acct_approval``, ``acct_stock_move``,
``acct_price``) are append-only: the migration installs triggers that refuse
any UPDATE or DELETE of their rows, on SQLite and on PostgreSQL.

Three columns are caches kept in the same transaction as the rows they
summarise, and checked against them by :meth:`Accounts.check_integrity`:
``acct_account.balance`` (persons and funds only; ``NULL`` for accounts whose
balance is only ever derived), ``acct_good.stock`` and ``acct_good.price``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.clock import utcnow
from gosplan.labourtime.units import UNIT as UNIT  # re-exported: the ledger's unit
from gosplan.storage.base import Base

#: kinds of account
KINDS = ("person", "enterprise", "fund", "system")

#: tables whose rows are never updated or deleted
APPEND_ONLY = (
    "acct_transaction",
    "acct_posting",
    "acct_request",
    "acct_work",
    "acct_approval",
    "acct_stock_move",
    "acct_price",
)

#: append-only tables added later (migration h4acct000003): memberships and rejections
APPEND_ONLY_SEPARATION = ("acct_membership", "acct_rejection")


class Account(Base):
    """A labour-time account: a person, an enterprise, a social fund or a system account.

    ``balance`` caches the sum of the account's postings for persons and
    funds (the accounts that hold hours and may never go negative); it is
    ``NULL`` for enterprises (the source of credited hours) and system
    accounts (``cancelled``: where purchases' hours go), whose balances are
    derived from postings on demand.
    """

    __tablename__ = "acct_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    balance: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Period(Base):
    """An accounting period, with the deduction for social funds in force during it."""

    __tablename__ = "acct_period"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: decimal text, e.g. "0.312500000"
    deduction_rate: Mapped[str] = mapped_column(String(24), nullable=False)
    #: {fund: decimal text}
    deduction_shares: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    deduction_source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: {good code: stock at opening}
    opening_stock: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    #: totals written when the period is closed
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)


class Transaction(Base):
    """One ledger entry: a set of postings that sums to zero."""

    __tablename__ = "acct_transaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("acct_period.id"), nullable=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    memo: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("acct_transaction.id"), nullable=True, unique=True
    )


class Posting(Base):
    """An amount (micro-hours; positive credits the account) of one transaction."""

    __tablename__ = "acct_posting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("acct_transaction.id"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("acct_account.id"), nullable=False, index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Request(Base):
    """An idempotency key: the request it was first used for, and what that returned."""

    __tablename__ = "acct_request"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Work(Base):
    """Hours a person worked in an enterprise during a period, as the enterprise recorded them."""

    __tablename__ = "acct_work"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("acct_period.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("acct_account.id"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("acct_account.id"), nullable=False)
    hours: Mapped[int] = mapped_column(BigInteger, nullable=False)  # micro-hours
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: who recorded the hours (a delegate's user name, or the operator's stated name)
    recorded_by: Mapped[str] = mapped_column(String(120), nullable=False, default="")


class Membership(Base):
    """A person joining or leaving an enterprise (append-only; the latest event counts).

    Hours are recorded only for current members of the recording enterprise.
    """

    __tablename__ = "acct_membership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("acct_account.id"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("acct_account.id"), nullable=False, index=True
    )
    #: "join" or "leave"
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    by: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Rejection(Base):
    """The rejection of one work record, by whom and why (it is never credited)."""

    __tablename__ = "acct_rejection"

    work_id: Mapped[int] = mapped_column(ForeignKey("acct_work.id"), primary_key=True)
    rejected_by: Mapped[str] = mapped_column(String(120), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Approval(Base):
    """The approval of one work record, and the ledger transaction that credited it."""

    __tablename__ = "acct_approval"

    work_id: Mapped[int] = mapped_column(ForeignKey("acct_work.id"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("acct_transaction.id"), nullable=False, index=True
    )
    approver: Mapped[str] = mapped_column(String(120), nullable=False, default="")


class Good(Base):
    """A consumer good in the catalogue, priced in hours: labour value × price/value ratio."""

    __tablename__ = "acct_good"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(80), nullable=False, default="unit")
    #: label of the economy's product this good belongs to (for plan feedback)
    product: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: hours per unit, decimal text
    labour_value: Mapped[str] = mapped_column(String(40), nullable=False)
    #: price/value ratio, decimal text
    ratio: Mapped[str] = mapped_column(String(40), nullable=False, default="1")
    #: cache: round(labour_value × ratio × UNIT), micro-hours per unit
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: cache: sum of the good's stock moves
    stock: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: the social fund(s) that provide this good free for all (comma-separated, e.g.
    #: "health"); such a good is never sold, its stock stays 0 (see ``ProvidedFree``)
    free_fund: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class StockMove(Base):
    """A change of a good's stock: a delivery (+), a sale (−) or a return (+)."""

    __tablename__ = "acct_stock_move"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    good_id: Mapped[int] = mapped_column(ForeignKey("acct_good.id"), nullable=False, index=True)
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("acct_period.id"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: the purchase (or its reversal) for sales and returns
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("acct_transaction.id"), nullable=True, index=True
    )
    #: micro-hours per unit charged (sales and returns)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class PriceChange(Base):
    """The history of a good's price/value ratio (the first row is its listing)."""

    __tablename__ = "acct_price"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    good_id: Mapped[int] = mapped_column(ForeignKey("acct_good.id"), nullable=False, index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("acct_period.id"), nullable=True)
    labour_value: Mapped[str] = mapped_column(String(40), nullable=False)
    ratio: Mapped[str] = mapped_column(String(40), nullable=False)
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


def append_only_ddl(
    dialect: str, tables: tuple[str, ...] = APPEND_ONLY, *, function: bool = True
) -> list[str]:
    """Statements that make every table of ``tables`` refuse UPDATE and DELETE."""
    out: list[str] = []
    if dialect == "postgresql" and function:
        out.append(
            "CREATE OR REPLACE FUNCTION acct_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'ledger table % is append-only: % refused', "
            "TG_TABLE_NAME, TG_OP; END; $$ LANGUAGE plpgsql"
        )
    if dialect == "postgresql":
        for table in tables:
            out.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION acct_refuse_change()"
            )
    elif dialect == "sqlite":
        for table in tables:
            for op in ("UPDATE", "DELETE"):
                out.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: "
                    f"{op} refused'); END"
                )
    return out


def drop_append_only_ddl(
    dialect: str, tables: tuple[str, ...] = APPEND_ONLY, *, function: bool = True
) -> list[str]:
    out: list[str] = []
    if dialect == "postgresql":
        for table in tables:
            out.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        if function:
            out.append("DROP FUNCTION IF EXISTS acct_refuse_change()")
    elif dialect == "sqlite":
        for table in tables:
            for op in ("update", "delete"):
                out.append(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
    return out


#: PostgreSQL: one purchase in one statement (the service's ``_buy`` on SQLite does the same
#: steps in Python).  Refusals raise ``acct:<reason>`` with the numbers in DETAIL; the service
#: turns them into its own errors and messages.  The result is the purchase as JSON.
BUY_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION acct_buy(p_person text, p_good text, p_qty bigint, p_key text,
                                    p_digest text) RETURNS json AS $$
DECLARE
    req record;
    g_id integer;
    g_price bigint;
    g_stock bigint;
    per record;
    buyer record;
    b_id integer;
    sink integer;
    cost bigint;
    tx integer;
    now_utc timestamp := (now() AT TIME ZONE 'utc');
    out json;
BEGIN
    SELECT r.kind, r.digest, r.result, r.created_at INTO req FROM acct_request r
        WHERE r.key = p_key;
    IF FOUND THEN
        IF req.kind = 'buy' AND req.digest = p_digest THEN
            RETURN json_build_object('replayed', true, 'result', req.result);
        END IF;
        RAISE EXCEPTION 'acct:conflict' USING DETAIL =
            req.kind || ' at ' || to_char(req.created_at, 'YYYY-MM-DD HH24:MI:SS');
    END IF;
    UPDATE acct_good SET stock = stock - p_qty WHERE code = p_good AND stock >= p_qty
        RETURNING id, price INTO g_id, g_price;
    IF NOT FOUND THEN
        PERFORM 1 FROM acct_period WHERE status = 'open';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'acct:no_period';
        END IF;
        SELECT stock INTO g_stock FROM acct_good WHERE code = p_good;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'acct:unknown_good';
        END IF;
        RAISE EXCEPTION 'acct:out_of_stock' USING DETAIL = g_stock::text;
    END IF;
    -- read after the good's row lock (a close holds SHARE on acct_good)
    SELECT id, code INTO per FROM acct_period WHERE status = 'open';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'acct:no_period';
    END IF;
    cost := g_price * p_qty;
    UPDATE acct_account SET balance = balance - cost
        WHERE code = p_person AND kind = 'person' AND balance >= cost RETURNING id INTO b_id;
    IF NOT FOUND THEN
        SELECT kind, balance INTO buyer FROM acct_account WHERE code = p_person;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'acct:unknown_account';
        ELSIF buyer.kind <> 'person' THEN
            RAISE EXCEPTION 'acct:wrong_kind' USING DETAIL = buyer.kind;
        END IF;
        RAISE EXCEPTION 'acct:insufficient' USING DETAIL =
            coalesce(buyer.balance, 0)::text || ' ' || cost::text;
    END IF;
    SELECT id INTO sink FROM acct_account WHERE code = 'system:cancelled';
    INSERT INTO acct_transaction (kind, period_id, created_at, memo)
        VALUES ('purchase', per.id, now_utc,
                'bought ' || p_qty || ' × ' || p_good || ' at '
                || ((g_price::numeric / 1000000)::numeric(30, 6))::text || ' h')
        RETURNING id INTO tx;
    INSERT INTO acct_posting (transaction_id, account_id, amount)
        VALUES (tx, b_id, -cost), (tx, sink, cost);
    INSERT INTO acct_stock_move (good_id, period_id, kind, quantity, transaction_id, price,
                                 created_at)
        VALUES (g_id, per.id, 'sale', -p_qty, tx, g_price, now_utc);
    out := json_build_object(
        'transaction_id', tx, 'person', p_person, 'good', p_good, 'quantity', p_qty,
        'price', ((g_price::numeric / 1000000)::numeric(30, 6))::text,
        'cost', ((cost::numeric / 1000000)::numeric(30, 6))::text, 'period', per.code);
    INSERT INTO acct_request (key, kind, digest, result, created_at)
        VALUES (p_key, 'buy', p_digest, out, now_utc);
    RETURN json_build_object('replayed', false, 'result', out);
END;
$$ LANGUAGE plpgsql
"""
