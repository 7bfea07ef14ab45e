"""Fixtures of the labour-time accounts tests: a migrated store on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

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
from gosplan.storage.base import make_engine, normalise_url, upgrade
from tests.conftest import copy_postgres_template, terminate_connections

DEDUCTION = Deduction(
    Decimal("0.3"),
    {"health": Decimal("0.5"), "education": Decimal("0.3"), "investment": Decimal("0.2")},
)


DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class Templates:
    """A migrated store made once per test session and per dialect, copied for each test.

    Migrating every branch takes about a second; copying a SQLite file or
    creating a PostgreSQL database ``TEMPLATE`` a migrated one takes a fraction
    of that, so each test still gets a store of its own.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[str, str] = {}
        self.admin: Engine | None = None

    def postgres_base(self) -> str:
        base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
        if not base:
            if os.environ.get("CI"):
                raise RuntimeError(
                    "CI must provide GOSPLAN_TEST_POSTGRES_URL (see scripts/ci-services.sh)"
                )
            pytest.skip("no PostgreSQL server (set GOSPLAN_TEST_POSTGRES_URL)")
        return normalise_url(base)

    def template(self, dialect: str) -> str:
        if dialect not in self.made:
            if dialect == "sqlite":
                url = f"sqlite:///{self.root / 'template.db'}"
            else:
                base = make_url(self.postgres_base())
                self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
                name = f"gosplan_acct_tmpl_{uuid.uuid4().hex[:10]}"
                with self.admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = base.set(database=name).render_as_string(hide_password=False)
            upgrade(url)
            self.made[dialect] = url
        return self.made[dialect]

    def copy(self, dialect: str, tmp: Path) -> tuple[str, Callable[[], None]]:
        template = self.template(dialect)
        if dialect == "sqlite":
            target = tmp / "accounts.db"
            shutil.copyfile(template.removeprefix("sqlite:///"), target)
            return f"sqlite:///{target}", lambda: None
        assert self.admin is not None
        tmpl = make_url(template)
        name = f"gosplan_acct_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            copy_postgres_template(conn, name, str(tmpl.database))
        admin = self.admin

        def drop() -> None:
            with admin.connect() as conn:
                terminate_connections(conn, name)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))

        return tmpl.set(database=name).render_as_string(hide_password=False), drop

    def close(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for url in self.made.values():
                if url.startswith("postgresql"):
                    name = str(make_url(url).database)
                    terminate_connections(conn, name)
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("accounts-templates"))
    yield t
    t.close()


@pytest.fixture(params=DIALECTS)
def store_url(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[str]:
    """A migrated, empty store of its own: a SQLite file, then a PostgreSQL database."""
    url, drop = templates.copy(request.param, tmp_path)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def ledger(store_url: str) -> Iterator[Accounts]:
    """An empty, migrated store (every branch, as `gosplan db upgrade` does)."""
    acc = Accounts(make_engine(store_url))
    try:
        yield acc
    finally:
        acc.close()


def build_shop(ledger: Accounts) -> Accounts:
    """Two workers of one enterprise credited for a period, and a catalogue of two goods."""
    ledger.open_account("ana", "person")
    ledger.open_account("bea", "person")
    ledger.open_account("mill", "enterprise")
    ledger.open_period("p1", DEDUCTION)
    ledger.join("mill", "ana", by="registry")
    ledger.join("mill", "bea", by="registry")
    ledger.record_hours("mill", "ana", "p1", "10", recorded_by="delegate", key="w-ana")
    ledger.record_hours("mill", "bea", "p1", "20", recorded_by="delegate", key="w-bea")
    ledger.approve("mill", "p1", approver="planner", key="ap-mill")
    ledger.add_good("bread", "bread", "0.5", unit="loaf", stock=20)
    ledger.add_good("shoes", "shoes", "3.25", unit="pair", stock=2)
    return ledger


@pytest.fixture
def shop(ledger: Accounts) -> Accounts:
    return build_shop(ledger)


TABLES = (
    Account,
    Period,
    Transaction,
    Posting,
    Request,
    Work,
    Approval,
    Good,
    StockMove,
    PriceChange,
)


def snapshot(acc: Accounts) -> dict[str, object]:
    """Everything a refused operation must leave as it was: row counts, balances, stocks."""
    from sqlalchemy.orm import Session

    with Session(acc.engine) as s:
        out: dict[str, object] = {
            t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in TABLES
        }
        out["balances"] = dict(s.execute(select(Account.code, Account.balance)).all())
        out["stocks"] = dict(s.execute(select(Good.code, Good.stock)).all())
        out["periods"] = dict(s.execute(select(Period.code, Period.status)).all())
        out["ratios"] = dict(s.execute(select(Good.code, Good.ratio)).all())
    return out
