"""The labour-time ledger's use cases over a store: :class:`Accounts` and :class:`Batch`.

Each public method runs one transaction (``_run``) over the repository functions of
``storage/accounts_*`` and, where the accounts policy makes an event public,
appends it to the public log in that same transaction (:func:`_publish`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gosplan.labourtime.deduction import Deduction
from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.feedback import FeedbackReport
from gosplan.labourtime.records import (
    AccountInfo,
    Basket,
    GoodInfo,
    GoodSpec,
    PeriodInfo,
    Posted,
    Purchase,
    Statement,
    WorkRecord,
)
from gosplan.labourtime.units import (
    DEFAULT_MAX_HOURS_PER_PERIOD,
    MAX_HOURS_PER_RECORD,
    NINE,
    check_quantity,
    to_decimal,
    to_hours,
)
from gosplan.services.accounts.batch import Batch, _publish, _publisher, _publisher_many
from gosplan.services.accounts.group_commit import GroupCommit
from gosplan.storage import accounts_grants as grants_sql
from gosplan.storage import accounts_ledger as ledger_sql
from gosplan.storage import accounts_reports as reports_sql
from gosplan.storage import accounts_shop as shop_sql
from gosplan.storage import accounts_work as work_sql
from gosplan.storage.accounts import Account, Good, Period

T = TypeVar("T")


class Accounts:
    """The labour-time ledger over a store (SQLite or PostgreSQL).

    Every public write runs in one transaction: it either happens completely
    or not at all.  :meth:`batch` runs several writes in one transaction.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_hours_per_period: Decimal | int | str | None = DEFAULT_MAX_HOURS_PER_PERIOD,
        max_hours_per_record: int = MAX_HOURS_PER_RECORD,
    ) -> None:
        self.engine = engine
        #: cap on one person's hours in one period, over every enterprise (``None``: no cap)
        self.max_hours_per_period = _cap(max_hours_per_period)
        #: cap on one work record (an account holding a cohort of n persons: n × the default)
        self.max_hours_per_record = int(_cap(max_hours_per_record) or MAX_HOURS_PER_RECORD)
        self.sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time; threads of this process queue here (in order)
        # instead of polling the file lock, which keeps the tail latency short
        self._writer: threading.RLock | None = threading.RLock() if self.sqlite else None
        self._group: GroupCommit | None = None

    @classmethod
    def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        echo: bool = False,
        max_hours_per_period: Decimal | int | str | None = DEFAULT_MAX_HOURS_PER_PERIOD,
        max_hours_per_record: int = MAX_HOURS_PER_RECORD,
    ) -> Accounts:
        """An :class:`Accounts` over the store at ``url``, migrated to the newest schema."""
        from gosplan.storage.base import make_engine, upgrade

        engine = make_engine(url, echo=echo)
        if migrate and not ledger_sql.at_heads(engine):
            upgrade(url)
        return cls(
            engine,
            max_hours_per_period=max_hours_per_period,
            max_hours_per_record=max_hours_per_record,
        )

    def close(self) -> None:
        if self._group is not None:
            self._group.stop()
            self._group = None
        self.engine.dispose()

    # ------------------------------------------------------------------ plumbing
    def _run(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``fn`` in one transaction, retrying on deadlock or a concurrent duplicate."""
        attempts = 8
        for attempt in range(attempts):
            with (
                self._writing(write),
                Session(self.engine, expire_on_commit=False, autoflush=False) as s,
            ):
                try:
                    if write and self.sqlite:
                        s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    out = fn(s)
                    if write:
                        s.commit()
                    return out
                except DBAPIError as exc:
                    s.rollback()
                    if attempt < attempts - 1 and ledger_sql.retryable(exc):
                        continue
                    raise
                except BaseException:
                    s.rollback()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _writing(self, write: bool) -> Iterator[None]:
        if write and self._writer is not None:
            with self._writer:
                yield
        else:
            yield

    def _read(self, fn: Callable[[Session], T]) -> T:
        return self._run(fn, write=False)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Several writes in one transaction: all of them are kept, or none.

        ``with accounts.batch() as b: b.buy(...); b.record_hours(...)``
        """
        with (
            self._writing(True),
            Session(self.engine, expire_on_commit=False, autoflush=False) as s,
        ):
            try:
                if self.sqlite:
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield Batch(s, self.max_hours_per_period, self.max_hours_per_record)
                s.commit()
            except BaseException:
                s.rollback()
                raise

    # ------------------------------------------------------------------ accounts
    def open_account(self, code: str, kind: str, name: str = "") -> AccountInfo:
        """Open an account: ``kind`` is person, enterprise or fund (``fund:<name>``)."""
        return self._run(lambda s: ledger_sql.open_account(s, code, kind, name))

    def account(self, code: str) -> AccountInfo:
        return self._read(lambda s: ledger_sql.account_info(s, ledger_sql.get_account(s, code)))

    def accounts(self, kind: str | None = None) -> list[AccountInfo]:
        def q(s: Session) -> list[AccountInfo]:
            stmt = select(Account).order_by(Account.code)
            if kind is not None:
                stmt = stmt.where(Account.kind == kind)
            return [ledger_sql.account_info(s, a) for a in s.scalars(stmt)]

        return self._read(q)

    def balances(self, kind: str = "person", *, derived: bool = False) -> dict[str, Decimal]:
        """Every account of ``kind``'s balance by code, in one read: the cached balances of
        persons and funds (which :meth:`check_integrity` holds equal to their postings),
        or with ``derived`` (and always for enterprise and system accounts) the sums of
        their postings, as :meth:`balance` gives them."""
        return self._read(lambda s: ledger_sql.balances(s, kind, derived=derived))

    def balance(self, code: str) -> Decimal:
        """Hours held by the account (derived from its postings)."""
        return self._read(
            lambda s: to_hours(ledger_sql.derived_balance(s, ledger_sql.get_account(s, code).id))
        )

    # ------------------------------------------------------------------ periods
    def open_period(self, code: str, deduction: Deduction) -> PeriodInfo:
        """Open a period with the deduction in force; only one period is open at a time."""

        def do(s: Session) -> PeriodInfo:
            info = ledger_sql.open_period(s, code, deduction)
            _publish(
                s,
                "accounts.period_opened",
                {
                    "period": code,
                    "deduction": {
                        "rate": str(deduction.rate),
                        "shares": {k: str(v) for k, v in deduction.shares.items()},
                        "source": deduction.source,
                    },
                },
            )
            return info

        return self._run(do)

    def close_period(self, code: str) -> PeriodInfo:
        """Close a period (refused while hours await approval); its totals are kept."""
        return self._run(lambda s: reports_sql.close_period(s, code, _publisher(s)))

    def period(self, code: str) -> PeriodInfo:
        return self._read(lambda s: ledger_sql.period_info(ledger_sql.get_period(s, code)))

    def current_period(self) -> PeriodInfo | None:
        def q(s: Session) -> PeriodInfo | None:
            p = s.scalar(select(Period).where(Period.status == "open"))
            return None if p is None else ledger_sql.period_info(p)

        return self._read(q)

    def periods(self) -> list[PeriodInfo]:
        return self._read(
            lambda s: [
                ledger_sql.period_info(p) for p in s.scalars(select(Period).order_by(Period.id))
            ]
        )

    # ------------------------------------------------------------------ membership
    def join(self, enterprise: str, person: str, *, by: str) -> bool:
        """``person`` becomes a member of ``enterprise`` (a public event); ``False`` if already."""
        return self._run(
            lambda s: work_sql.change_membership(s, enterprise, person, "join", by, _publisher(s))
        )

    def leave(self, enterprise: str, person: str, *, by: str) -> bool:
        """``person`` leaves ``enterprise`` (a public event); ``False`` if not a member."""
        return self._run(
            lambda s: work_sql.change_membership(s, enterprise, person, "leave", by, _publisher(s))
        )

    def members(self, enterprise: str) -> list[str]:
        """Codes of the enterprise's current members."""
        return self._read(lambda s: work_sql.members(s, enterprise))

    def enterprises_of(self, person: str) -> list[str]:
        """Codes of the enterprises ``person`` is a member of."""
        return self._read(lambda s: work_sql.enterprises_of(s, person))

    # ------------------------------------------------------------------ work
    def record_hours(
        self,
        enterprise: str,
        person: str,
        period: str,
        hours: Decimal | int | str | float,
        *,
        key: str,
        recorded_by: str,
    ) -> WorkRecord:
        """An enterprise records hours a member worked in a period (credited on approval).

        Refused for a person who is not a member of the enterprise, and beyond the cap
        of hours per person and period (:attr:`max_hours_per_period`)."""
        return self._run(
            lambda s: work_sql.record_hours(
                s,
                enterprise,
                person,
                period,
                hours,
                key,
                recorded_by,
                self.max_hours_per_period,
                max_record=self.max_hours_per_record,
            )
        )

    def record_hours_many(
        self,
        enterprise: str,
        period: str,
        rows: Iterable[tuple[str, Decimal | int | str | float]],
        *,
        key: str,
        recorded_by: str,
    ) -> list[WorkRecord]:
        """Hours of a whole workforce, ``[(person, hours), ...]``, in one transaction."""
        rows = list(rows)
        return self._run(
            lambda s: work_sql.record_hours_many(
                s,
                enterprise,
                period,
                rows,
                key,
                recorded_by,
                self.max_hours_per_period,
                max_record=self.max_hours_per_record,
            )
        )

    def approve_record(
        self, record: int, *, key: str, approver: str, approver_account: str | None = None
    ) -> Posted:
        """Approve one work record: its person and the funds are credited.

        Refused (:class:`SeparationOfDuties`) when the record credits the approver
        (``approver`` or ``approver_account`` is the person) or the approver recorded it."""
        return self._run(
            lambda s: work_sql.approve_record(
                s, record, key, approver, approver_account, _publisher(s)
            )
        )

    def reject_record(
        self, record: int, *, key: str, by: str, reason: str, by_account: str | None = None
    ) -> WorkRecord:
        """Reject one work record with a stated reason (same separation as approving)."""
        return self._run(
            lambda s: work_sql.reject_record(s, record, key, by, by_account, reason, _publisher(s))
        )

    def approve(
        self,
        enterprise: str,
        period: str,
        *,
        key: str,
        approver: str,
        approver_account: str | None = None,
    ) -> Posted:
        """Approve every pending record of ``enterprise`` in ``period`` in one transaction
        (the separation of :meth:`approve_record` holds for each; one breach refuses all)."""
        return self._run(
            lambda s: work_sql.approve_enterprise(
                s, enterprise, period, key, approver, approver_account, _publisher(s)
            )
        )

    def work_record(self, record: int) -> WorkRecord:
        """One work record by its number."""
        return self._read(lambda s: work_sql.work_record(s, work_sql.work_by_id(s, record)))

    def work(self, period: str, enterprise: str | None = None) -> list[WorkRecord]:
        return self._read(lambda s: work_sql.work_records(s, period, enterprise))

    # ------------------------------------------------------------------ goods
    def add_goods(self, specs: Iterable[GoodSpec], *, reason: str = "listed") -> list[GoodInfo]:
        specs = list(specs)
        return self._run(lambda s: [shop_sql.add_good(s, g, reason) for g in specs])

    def add_good(
        self,
        code: str,
        name: str,
        labour_value: Decimal | str | float,
        *,
        unit: str = "unit",
        product: str | None = None,
        ratio: Decimal | str | float = 1,
        stock: int = 0,
    ) -> GoodInfo:
        spec = GoodSpec(
            code=code,
            name=name,
            labour_value=to_decimal(labour_value, field="labour_value", what=code),
            unit=unit,
            product=product,
            ratio=to_decimal(ratio, field="ratio", what=code),
            stock=stock,
        )
        return self._run(lambda s: shop_sql.add_good(s, spec, "listed"))

    def deliver(self, good: str, quantity: int, *, key: str) -> GoodInfo:
        """Goods delivered to the shops: stock rises."""
        return self._run(lambda s: shop_sql.deliver(s, good, quantity, key))

    def reprice(
        self,
        good: str,
        *,
        ratio: Decimal | str | float | None = None,
        labour_value: Decimal | str | float | None = None,
        reason: str,
    ) -> GoodInfo:
        """Change a good's price/value ratio or labour value (recorded, with a reason)."""
        return self._run(
            lambda s: shop_sql.reprice(s, good, ratio, labour_value, reason, _publisher(s))
        )

    def good(self, code: str) -> GoodInfo:
        return self._read(lambda s: shop_sql.good_info(shop_sql.get_good(s, code)))

    def goods(self) -> list[GoodInfo]:
        return self._read(shop_sql.all_goods)

    def catalogue(self) -> pd.DataFrame:
        rows = [asdict(g) for g in self.goods()]
        cols = [f.name for f in GoodInfo.__dataclass_fields__.values()]
        return pd.DataFrame(rows, columns=cols).set_index("code")

    # ------------------------------------------------------------------ buying
    def buy(self, person: str, good: str, quantity: int = 1, *, key: str) -> Purchase:
        """A person buys goods: their hours are cancelled, the stock falls.

        On SQLite, purchases from the threads of this process are committed
        in groups (see :class:`GroupCommit`): each is atomic on its own and
        returns only once it is durable, but many share one commit.  On
        PostgreSQL a purchase is one call of the server-side ``acct_buy()``.
        """
        if self.sqlite:
            if self._group is None:
                with self._writer or threading.RLock():
                    if self._group is None:
                        self._group = GroupCommit(self)
            return self._group.submit(person, good, quantity, key)
        if self.engine.dialect.name == "postgresql":
            return self._buy_postgres(person, good, quantity, key)
        return self._run(lambda s: shop_sql.buy(s, person, good, quantity, key))

    def buy_basket(self, person: str, lines: Iterable[tuple[str, int]], *, key: str) -> Basket:
        """A person's basket at the till, ``[(good, quantity), ...]``: one transaction for
        all of it (the basket's cost cancelled, a stock move a good).  Each line is checked
        as :meth:`buy` checks it, and the balance must cover the whole basket; a refused
        line refuses the basket."""
        from gosplan.storage.accounts_basket import buy_baskets

        basket = list(lines)
        return self._run(lambda s: buy_baskets(s, [(person, basket, key)])[0])

    def _buy_postgres(self, person: str, good: str, quantity: int, key: str) -> Purchase:
        """One ``SELECT acct_buy(…)`` in autocommit: one statement, atomic on its own."""
        q = check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
        ledger_sql.check_key(key)
        digest = ledger_sql.digest_of("buy", {"person": person, "good": good, "quantity": q})
        ctx: dict[str, Any] = {"person": person, "good": good, "q": q, "key": key}
        for attempt in range(8):
            try:
                with self.engine.connect() as conn:
                    auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                    return shop_sql.call_acct_buy(auto, digest, ctx)
            except DBAPIError as exc:
                if attempt < 7 and ledger_sql.retryable(exc):
                    continue  # a concurrent request with the same key: it is found now
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ social funds
    def grant(
        self,
        fund: str,
        person: str,
        period: str,
        hours: Decimal | int | str | float,
        *,
        key: str,
        granted_by: str,
        reason: str,
    ) -> Posted:
        """Transfer hours from a social fund to a person (one who cannot work, say): the
        fund is debited, the person credited, in an open period; never below zero."""
        return self._run(
            lambda s: grants_sql.grant(
                s, fund, person, period, hours, key, granted_by, reason, _publisher(s)
            )
        )

    # ------------------------------------------------------------------ corrections
    def reverse(self, transaction_id: int, *, reason: str, key: str) -> Posted:
        """Correct a mistake with a new transaction that reverses an earlier one."""
        return self._run(lambda s: shop_sql.reverse_transaction(s, transaction_id, reason, key))

    # ------------------------------------------------------------------ reports
    def statement(self, code: str) -> Statement:
        return self._read(lambda s: reports_sql.account_statement(s, code))

    def statement_and_period(self, code: str) -> tuple[Statement, PeriodInfo | None]:
        """The account's statement and the open period, read in one transaction."""
        return self._read(lambda s: reports_sql.account_statement_and_period(s, code))

    def totals(self, period: str | None = None) -> dict[str, Decimal]:
        """Hours approved, credited to persons and to funds, cancelled, and sales at price."""
        return self._read(lambda s: reports_sql.period_totals(s, period))

    def feedback(
        self,
        period: str,
        *,
        elasticity: float = 1.0,
        target_sell_through: float = 0.9,
        max_step: float = 0.25,
    ) -> FeedbackReport:
        """Sales against stock per good over a period, and what they say to the next plan."""
        if not (elasticity > 0 and 0 < target_sell_through <= 1 and max_step > 0):
            raise AccountsInputError(
                "feedback needs elasticity > 0, 0 < target_sell_through <= 1 and max_step > 0; "
                f"got {elasticity}, {target_sell_through}, {max_step}."
            )
        return self._read(
            lambda s: reports_sql.feedback_report(
                s, period, elasticity, target_sell_through, max_step
            )
        )

    def apply_feedback(self, report: FeedbackReport) -> list[GoodInfo]:
        """Set each good's ratio to the clearing ratio of ``report`` (price changes recorded)."""
        changes = {
            str(code): Decimal(repr(float(r))).quantize(NINE)
            for code, r in report.table["clearing_ratio"].items()
        }

        def do(s: Session) -> list[GoodInfo]:
            # every good's price change in bulk: the rows and public events reprice() makes
            from gosplan.storage.accounts_bulk_goods import reprice_many

            done = reprice_many(
                s,
                changes,
                f"market-clearing ratio from period {report.period}",
                _publisher_many(s),
            )
            got = {
                g.code: shop_sql.good_info(g)
                for i in range(0, len(done), 500)
                for g in s.scalars(select(Good).where(Good.code.in_(done[i : i + 500])))
            }
            return [got[c] for c in done]

        return self._run(do)

    def check_integrity(self) -> list[str]:
        """Problems found: transactions not summing to zero, caches that differ from sums."""
        return self._read(reports_sql.check_integrity)


# -- public log
def _cap(value: Decimal | int | str | None) -> Decimal | None:
    """The cap of hours per person and period, checked: positive and finite, or ``None``."""
    if value is None:
        return None
    cap = to_decimal(value, field="max_hours_per_period")
    if cap <= 0:
        raise AccountsInputError(f"`max_hours_per_period` must be positive; got {value!r}.")
    return cap
