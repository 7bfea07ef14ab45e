"""Fixtures of the labour-time accounts tests: a migrated store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gosplan.services.accounts import Accounts, Deduction
from gosplan.storage.accounts import (
    Account,
    Approval,
    Good,
    Period,
    Posting,
    PriceChange,
    Request,
    StockMove,
    Transaction,
    Work,
)
from gosplan.storage.base import make_engine, upgrade

DEDUCTION = Deduction(Decimal("0.3"), {"health": Decimal("0.5"), "education": Decimal("0.3"),
                                       "investment": Decimal("0.2")})


@pytest.fixture
def ledger(database_url: str) -> Iterator[Accounts]:
    """An empty, migrated store (every branch, as `gosplan db upgrade` does)."""
    upgrade(database_url)
    acc = Accounts(make_engine(database_url))
    try:
        yield acc
    finally:
        acc.close()


@pytest.fixture
def shop(ledger: Accounts) -> Accounts:
    """Two workers of one enterprise credited for a period, and a catalogue of two goods."""
    ledger.open_account("ana", "person")
    ledger.open_account("bea", "person")
    ledger.open_account("mill", "enterprise")
    ledger.open_period("p1", DEDUCTION)
    ledger.record_hours("mill", "ana", "p1", "10", key="w-ana")
    ledger.record_hours("mill", "bea", "p1", "20", key="w-bea")
    ledger.approve("mill", "p1", key="ap-mill")
    ledger.add_good("bread", "bread", "0.5", unit="loaf", stock=10)
    ledger.add_good("shoes", "shoes", "3.25", unit="pair", stock=2)
    return ledger


TABLES = (Account, Period, Transaction, Posting, Request, Work, Approval, Good, StockMove,
          PriceChange)


def snapshot(acc: Accounts) -> dict[str, object]:
    """Everything a refused operation must leave as it was: row counts, balances, stocks."""
    from sqlalchemy.orm import Session

    with Session(acc.engine) as s:
        out: dict[str, object] = {t.__tablename__: s.scalar(select(func.count()).select_from(t))
                                  for t in TABLES}
        out["balances"] = dict(s.execute(select(Account.code, Account.balance)).all())
        out["stocks"] = dict(s.execute(select(Good.code, Good.stock)).all())
        out["periods"] = dict(s.execute(select(Period.code, Period.status)).all())
        out["ratios"] = dict(s.execute(select(Good.code, Good.ratio)).all())
    return out
