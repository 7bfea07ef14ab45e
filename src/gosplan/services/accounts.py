"""Labour-time accounts: hours in, goods out, no wages, no profit, nothing lost.

Every hour worked and approved is credited to the worker, less a published
deduction for the social funds; consumer goods are priced in hours (labour
value × a price/value ratio that starts at 1); a purchase cancels the hours
it costs.  There is no transfer between persons.

The ledger is double-entry and append-only:

* each :class:`~gosplan.storage.accounts.Transaction` has postings that sum
  to zero; amounts are integers of micro-hours (exact);
* an approval debits the **enterprise** (the source of the hours its members
  worked) and credits the persons and the funds; a purchase debits the person
  and credits ``system:cancelled`` (where spent hours go out of circulation);
* rows are never updated or deleted (database triggers refuse it); a mistake
  is corrected by a reversing transaction with a reason (:meth:`Accounts.reverse`);
* balances are the sums of postings; persons' and funds' balances are also
  cached on the account row in the same transaction (checked by
  :meth:`Accounts.check_integrity`) and may never go negative;
* every posting request carries an idempotency key: the same key with the
  same content returns the original result and posts nothing; the same key
  with different content is refused (:class:`IdempotencyConflict`).

Writers are serialised where it matters: on SQLite each write transaction
starts with ``BEGIN IMMEDIATE`` (one writer at a time); on PostgreSQL the
accounts and goods a transaction changes are locked with
``SELECT … FOR UPDATE`` (in id order), so concurrent purchases against one
account can never overdraw it.

Feedback to the plan (:meth:`Accounts.feedback`) follows Cockshott and
Cottrell, *Towards a New Socialism*, ch. 8: see :func:`clearing_ratio`.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, aliased

from gosplan.errors import StorageError, ValidationError
from gosplan.storage.accounts import (
    UNIT,
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
    utcnow,
)

T = TypeVar("T")

CANCELLED = "system:cancelled"
FUND_PREFIX = "fund:"
#: accounts whose balance is cached on the row and may never go negative
HOLDING_KINDS = ("person", "fund")
#: fund named after each purpose of final demand that a deduction pays for
FUND_OF_PURPOSE = {"stocks": "reserves", "exports": "foreign_trade"}
#: largest number of hours one work record may carry (a typo guard: ~ a year, full time)
MAX_HOURS_PER_RECORD = 10_000

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,63}$")
_NINE = Decimal("0.000000001")
_MICRO = Decimal("0.000001")


# --------------------------------------------------------------------------- errors
class AccountsError(StorageError):
    """A ledger operation was refused; nothing was written."""


class UnknownAccount(AccountsError):
    """No account has this code (or it is of the wrong kind for the operation)."""


class UnknownGood(AccountsError):
    """No good in the catalogue has this code."""


class UnknownPeriod(AccountsError):
    """No period has this code, or no period is open."""


class PeriodClosed(AccountsError):
    """The period is closed: nothing more can be recorded, approved or bought in it."""


class InsufficientHours(AccountsError):
    """The account does not hold enough hours: no balance may go negative."""


class OutOfStock(AccountsError):
    """The good's stock is smaller than the quantity asked for."""


class IdempotencyConflict(AccountsError):
    """An idempotency key was reused for a request with different content."""


class AccountsInputError(ValidationError):
    """An argument is malformed: negative hours, a bad code, an invalid deduction."""


# --------------------------------------------------------------------------- amounts
def to_units(value: Decimal | int | str | float, *, field: str = "hours",
             what: str = "", positive: bool = True) -> int:
    """Hours (or a quantity in hours) as an exact integer of micro-hours.

    Accepts ``Decimal``, ``int``, decimal text, or a float (converted through its
    shortest decimal form).  Refuses NaN, infinities, more precision than one
    micro-hour, and (with ``positive``) zero or negative values.
    """
    where = f" for {what}" if what else ""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AccountsInputError(
            f"`{field}`{where} must be a number of hours; got {value!r}.") from None
    if not dec.is_finite():
        raise AccountsInputError(f"`{field}`{where} must be finite; got {value!r}.")
    units = dec * UNIT
    if units != units.to_integral_value():
        raise AccountsInputError(
            f"`{field}`{where} is more precise than a micro-hour (0.000001 h); got {value!r}.")
    if positive and units <= 0:
        raise AccountsInputError(f"`{field}`{where} must be positive; got {value!r}.")
    return int(units)


def to_hours(units: int) -> Decimal:
    """Micro-hours as exact decimal hours."""
    return (Decimal(int(units)) / UNIT).quantize(_MICRO)


def _dec(value: Any, *, field: str, what: str = "") -> Decimal:
    where = f" for {what}" if what else ""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AccountsInputError(f"`{field}`{where} must be a number; got {value!r}.") from None
    if not dec.is_finite():
        raise AccountsInputError(f"`{field}`{where} must be finite; got {value!r}.")
    return dec


def price_units(labour_value: Decimal, ratio: Decimal) -> int:
    """Price per unit in micro-hours: ``labour_value × ratio``, rounded half-even."""
    return int((labour_value * ratio * UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def _check_code(code: str, field: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise AccountsInputError(
            f"`{field}` must be 1–64 characters of letters, digits and _.:@+- starting with a "
            f"letter or digit; got {code!r}.")
    return code


# --------------------------------------------------------------------------- deduction
@dataclass(frozen=True)
class Deduction:
    """The share of every credited hour that goes to the social funds, and its split.

    ``rate`` is in [0, 1); ``shares`` maps fund names to non-negative weights
    summing to 1.  Both are stored with each period and printed on every
    statement.  :meth:`split` divides an amount of micro-hours exactly: the
    funds get ``round(units × rate)`` (half-even), split by largest remainder,
    and the person the rest, so nothing is lost or invented.
    """

    rate: Decimal
    shares: Mapping[str, Decimal]
    source: str = ""

    def __post_init__(self) -> None:
        rate = _dec(self.rate, field="rate", what="the deduction").quantize(_NINE)
        if not (Decimal(0) <= rate < Decimal(1)):
            raise AccountsInputError(
                f"The deduction `rate` must be in [0, 1); got {self.rate!r}.")
        shares: dict[str, Decimal] = {}
        for fund, share in dict(self.shares).items():
            _check_code(f"{FUND_PREFIX}{fund}", "fund")
            s = _dec(share, field=f"share of fund {fund!r}", what="the deduction").quantize(_NINE)
            if s < 0:
                raise AccountsInputError(
                    f"The deduction's share of fund {fund!r} must not be negative; got {share!r}.")
            if s > 0:
                shares[fund] = s
        total = sum(shares.values(), Decimal(0))
        if rate > 0 and not shares:
            raise AccountsInputError(
                f"A deduction rate of {rate} needs at least one fund with a positive share.")
        if shares and abs(total - 1) > Decimal("0.000001"):
            raise AccountsInputError(
                f"The deduction's fund shares must sum to 1; they sum to {total} "
                f"({', '.join(f'{k}={v}' for k, v in shares.items())}).")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "shares", dict(sorted(shares.items())))

    # -- constructors
    @classmethod
    def from_plan(cls, plan: Any) -> Deduction:
        """From a plan result exposing ``deduction_shares() -> (rate, {fund: share})``.

        ``plan.labour_by_purpose`` (hours by purpose), when present, is quoted in
        :attr:`source` so a statement says where the numbers came from.
        """
        try:
            rate, shares = plan.deduction_shares()
        except AttributeError:
            raise AccountsInputError(
                f"Deduction.from_plan needs a plan with `deduction_shares()`; got "
                f"{type(plan).__name__}.") from None
        note = "plan"
        by_purpose = getattr(plan, "labour_by_purpose", None)
        if by_purpose is not None:
            try:
                items = dict(by_purpose.items())
                note = "plan; labour by purpose (hours): " + ", ".join(
                    f"{k}={float(v):.6g}" for k, v in items.items())
            except (AttributeError, TypeError, ValueError):
                pass
        raw = {FUND_OF_PURPOSE.get(str(k), str(k)): float(v) for k, v in dict(shares).items()}
        dropped = sorted(k for k, v in raw.items() if not v > 0)
        kept = {k: v for k, v in raw.items() if v > 0}
        total = sum(kept.values())
        if dropped:
            note += f"; purposes with no positive labour left out: {', '.join(dropped)}"
        return cls(Decimal(repr(float(rate))),
                   _exact_shares({k: v / total for k, v in kept.items()}) if total else {},
                   source=note)

    @classmethod
    def from_economy(cls, economy: Any, *, values: Any = None) -> Deduction:
        """From the labour embodied in an economy's final demand, by purpose.

        The labour embodied in each purpose's final demand is ``v · y_purpose``
        (``v`` the labour values).  Exports pay for imports used by every
        purpose, and "other" is unassigned, so both are left out.  The rate is
        the share of social consumption, investment and stock building in the
        labour of personal consumption plus those; the shares split it into
        ``social``, ``investment`` and ``reserves`` (stock building; a fall in
        stocks counts as zero).  (:meth:`from_plan`, by contrast, follows the
        plan, which also counts exports, as the ``foreign_trade`` fund.)
        """
        from gosplan.core.values import labour_values

        if values is None:
            values = labour_values(economy)
        v = values.values if hasattr(values, "values") and isinstance(
            values.values, pd.Series) else pd.Series(values, index=economy.products)
        fd = economy.final_demand_by_purpose()
        emb = {p: float(np.asarray(v.reindex(fd.index).to_numpy() @ fd[p].to_numpy()))
               for p in fd.columns}
        funds = {
            "social": max(emb.get("social", 0.0), 0.0),
            "investment": max(emb.get("investment", 0.0), 0.0),
            "reserves": max(emb.get("stocks", 0.0), 0.0),
        }
        personal = max(emb.get("personal", 0.0), 0.0)
        deducted = sum(funds.values())
        if personal + deducted <= 0:
            raise AccountsInputError(
                "Deduction.from_economy: the economy's final demand embodies no labour in "
                "personal consumption, social consumption, investment or stocks.")
        rate = deducted / (personal + deducted)
        shares = _exact_shares(
            {k: x / deducted for k, x in funds.items() if x > 0} if deducted > 0 else {})
        src = (f"economy {getattr(economy, 'name', '')} {getattr(economy, 'year', '') or ''}"
               .strip() + "; labour embodied in final demand (" +
               getattr(values, "unit", "hours") + "): " +
               ", ".join(f"{k}={x:.6g}" for k, x in emb.items()))
        return cls(Decimal(repr(rate)), shares, source=src)

    @classmethod
    def from_json(cls, rate: str, shares: Mapping[str, str], source: str = "") -> Deduction:
        return cls(Decimal(rate), {k: Decimal(v) for k, v in shares.items()}, source=source)

    # -- use
    def split(self, units: int) -> tuple[int, dict[str, int]]:
        """Divide ``units`` micro-hours into (person's part, {fund: part}), exactly."""
        deducted = int((Decimal(units) * self.rate).to_integral_value(rounding=ROUND_HALF_EVEN))
        parts: dict[str, int] = {}
        if deducted and self.shares:
            total = sum(self.shares.values(), Decimal(0))
            exact = {f: Decimal(deducted) * s / total for f, s in self.shares.items()}
            parts = {f: int(x) for f, x in exact.items()}  # floor: all non-negative
            left = deducted - sum(parts.values())
            order = sorted(exact, key=lambda f: (-(exact[f] - parts[f]), f))
            for f in order[:left]:
                parts[f] += 1
        return units - deducted, parts

    def describe(self) -> str:
        shares = ", ".join(f"{k} {v * 100:.2f}%" for k, v in self.shares.items())
        return f"deduction {self.rate * 100:.4f}% for social funds ({shares or 'none'})"

    def shares_text(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.shares.items())


def _exact_shares(shares: Mapping[str, float]) -> dict[str, Decimal]:
    """Float shares summing to ~1 as 9-decimal Decimals summing to exactly 1."""
    out = {k: Decimal(repr(float(v))).quantize(_NINE) for k, v in shares.items()}
    if out:
        gap = Decimal(1) - sum(out.values(), Decimal(0))
        biggest = max(out, key=lambda k: out[k])
        out[biggest] += gap
    return out


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AccountInfo:
    code: str
    kind: str
    name: str
    balance: Decimal  # hours


@dataclass(frozen=True)
class PeriodInfo:
    code: str
    status: str
    deduction: Deduction
    opened_at: str
    closed_at: str | None
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class WorkRecord:
    id: int
    period: str
    enterprise: str
    person: str
    hours: Decimal
    status: str  # recorded | approved | reversed
    replayed: bool = False


@dataclass(frozen=True)
class Posted:
    """A ledger transaction: its postings in hours by account code (sum zero)."""

    transaction_id: int
    kind: str
    period: str | None
    postings: dict[str, Decimal]
    memo: str
    replayed: bool = False


@dataclass(frozen=True)
class Purchase:
    transaction_id: int
    person: str
    good: str
    quantity: int
    price: Decimal  # hours per unit
    cost: Decimal  # hours
    period: str
    replayed: bool = False


@dataclass(frozen=True)
class GoodInfo:
    code: str
    name: str
    unit: str
    product: str | None
    labour_value: Decimal
    ratio: Decimal
    price: Decimal
    stock: int


@dataclass(frozen=True)
class GoodSpec:
    """A good to list in the catalogue (see :func:`catalogue_from_economy`)."""

    code: str
    name: str
    labour_value: Decimal
    unit: str = "unit"
    product: str | None = None
    ratio: Decimal = Decimal(1)
    stock: int = 0


@dataclass(frozen=True)
class StatementLine:
    transaction_id: int
    posted_at: str
    period: str | None
    kind: str
    memo: str
    amount: Decimal
    balance: Decimal
    deduction_rate: Decimal | None
    deduction_shares: str


@dataclass(frozen=True)
class Statement:
    """An account's postings with running balance, and the deduction in force for each line."""

    account: AccountInfo
    lines: list[StatementLine]
    deductions: dict[str, Deduction]

    COLUMNS = ("transaction", "posted_at", "period", "kind", "memo", "amount_hours",
               "balance_hours", "deduction_rate", "deduction_shares")

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.COLUMNS)
        from gosplan.csvsafe import row  # text cells never start a spreadsheet formula

        for ln in self.lines:
            w.writerow(row([ln.transaction_id, ln.posted_at, ln.period or "", ln.kind, ln.memo,
                            ln.amount, ln.balance,
                            "" if ln.deduction_rate is None else ln.deduction_rate,
                            ln.deduction_shares]))
        return buf.getvalue()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(ln) for ln in self.lines])


_R = TypeVar("_R")


def _to_json(obj: Any) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(obj), default=str))


def _from_json(cls: type[_R], data: Mapping[str, Any]) -> _R:
    conv: dict[str, Callable[[Any], Any]] = {}
    if cls is Posted:
        conv["postings"] = lambda d: {k: Decimal(v) for k, v in d.items()}
    for name in ("hours", "price", "cost"):
        conv[name] = Decimal
    kwargs = {k: (conv[k](v) if k in conv and v is not None else v) for k, v in data.items()}
    kwargs["replayed"] = True
    return cls(**kwargs)


# --------------------------------------------------------------------------- feedback
def clearing_ratio(ratio: float, sold: float, available: float, *,
                   elasticity: float = 1.0, target_sell_through: float = 0.9,
                   max_step: float = 0.25) -> tuple[float, bool]:
    """The price/value ratio that would have cleared the market, and whether it is censored.

    Cockshott and Cottrell (*Towards a New Socialism*, ch. 8) price consumer
    goods so that the market clears, and let the ratio of that price to the
    labour value steer production.  Demand is taken to have constant
    elasticity ``e`` (``D(r) = K r^-e``).  Over a period a good had
    ``available`` units (opening stock plus deliveries) and sold ``sold`` of
    them at ratio ``r``; planners aim to sell ``s*`` (``target_sell_through``,
    leaving a small buffer).  Then with sell-through ``s = sold / available``

        r_clear = r · (s / s*)^(1/e)

    which is clamped to ``[r/(1+max_step), r·(1+max_step)]``.  A good that sold
    out reveals only a lower bound on demand: its ratio goes up by the full
    step and the result is flagged *censored*.  With nothing available there
    is no information and the ratio is kept.
    """
    if available <= 0:
        return ratio, False
    lo, hi = ratio / (1 + max_step), ratio * (1 + max_step)
    if sold >= available:
        return hi, True
    s = sold / available
    if s <= 0:
        return lo, False
    r = ratio * (s / target_sell_through) ** (1.0 / elasticity)
    return float(min(max(r, lo), hi)), False


def target_factor(clearing: float, *, elasticity: float = 1.0) -> float:
    """How much next plan's output target of a good changes: ``r_clear^e``.

    With ``D(r) = K r^-e`` and ``D(r_clear) ≈ supply``, the quantity people
    would take at a price equal to the labour value (``r = 1``) is
    ``supply · r_clear^e``.  Goods selling above their value (``r_clear > 1``)
    get higher targets, goods selling below it lower ones.
    """
    return float(clearing ** elasticity)


@dataclass(frozen=True)
class FeedbackReport:
    """Per good: what was available and sold in a period, the clearing ratio, the target factor.

    ``table`` is indexed by good code with columns ``product, labour_value,
    ratio, opening, delivered, available, sold, closing, sell_through,
    clearing_ratio, censored, target_factor``.
    """

    period: str
    elasticity: float
    target_sell_through: float
    max_step: float
    table: pd.DataFrame

    def next_targets(self, targets: pd.Series) -> pd.Series:
        """Adjust next plan's targets, indexed by good code or by product label.

        Entries that no good maps to are returned unchanged; products carried by
        several goods get the sales-weighted mean factor of those goods.
        """
        t = targets.astype(float).copy()
        if t.index.isin(self.table.index).any():
            common = t.index.intersection(self.table.index)
            t.loc[common] = t.loc[common] * self.table.loc[common, "target_factor"]
            return t
        return t * self.product_factors().reindex(t.index).fillna(1.0)

    def product_factors(self) -> pd.Series:
        tab = self.table[self.table["product"].notna()]
        if tab.empty:
            return pd.Series(dtype=float)
        w = tab["available"].astype(float).clip(lower=1e-12)
        num = (tab["target_factor"] * w).groupby(tab["product"]).sum()
        den = w.groupby(tab["product"]).sum()
        out: pd.Series = num / den
        return out


# --------------------------------------------------------------------------- catalogue
_STOPWORDS = {"e", "de", "da", "do", "das", "dos", "and", "of", "the", "och", "av", "for"}


def _slug(text: str, words: int = 2) -> str:
    """A short code from a product's name: its first ``words`` significant words, ASCII."""
    import unicodedata

    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    parts = [w for w in re.split(r"[^a-z0-9]+", s) if w and w not in _STOPWORDS]
    return "-".join(parts[:words])[:48] or "good"


def catalogue_from_economy(
    economy: Any,
    *,
    personal_hours: float,
    values: Any = None,
    hours_per_labour_unit: float | None = None,
) -> list[GoodSpec]:
    """Consumer goods for the catalogue: one per product with personal final demand.

    Each good's unit is a money amount of the product at base prices (a power
    of ten of the economy's output unit, chosen so a unit costs between about
    0.3 and 3 hours); its labour value is the product's labour value per unit.
    Stocks share ``personal_hours`` (the hours persons will be able to spend)
    in proportion to personal consumption, rounded down to whole units.
    Labour is converted to hours with ``hours_per_labour_unit`` (default: the
    planning module's :func:`~gosplan.planning.targets.hours_per_labour_unit`,
    which counts a job as 1,800 hours a year); labour known only as wages is
    refused unless that factor is given (wages are not hours).
    """
    from gosplan.core.values import labour_values

    if hours_per_labour_unit is None:
        if getattr(economy, "labour_kind", "hours") == "wages":
            raise AccountsInputError(
                f"catalogue_from_economy: economy {economy.name!r} measures labour as "
                f"{economy.labour_unit!r} (wages), not hours; give `hours_per_labour_unit`.")
        from gosplan.planning.targets import hours_per_labour_unit as _hpu

        hours_per_labour_unit = _hpu(economy)
    per = float(hours_per_labour_unit)
    if values is None:
        values = labour_values(economy)
    v = values.values.astype(float) * per
    personal = economy.final_demand_by_purpose()["personal"].clip(lower=0.0)
    emb = v * personal
    total = float(emb.sum())
    if total <= 0:
        raise AccountsInputError(
            f"catalogue_from_economy: economy {economy.name!r} has no personal consumption.")
    out: list[GoodSpec] = []
    seen: set[str] = set()
    unit_name = economy.output_unit or "unit"
    for product in economy.products:
        val = float(v[product])
        if personal[product] <= 0 or val <= 0:
            continue
        size = 10.0 ** round(-math.log10(val))  # output units per good unit
        value_per_unit = Decimal(repr(val * size)).quantize(_MICRO)
        if value_per_unit <= 0:
            continue
        stock = int(personal_hours * float(emb[product]) / total / float(value_per_unit))
        code = _slug(str(product))[:40]
        base, i = code, 2
        while code in seen:
            code, i = f"{base}-{i}", i + 1
        seen.add(code)
        out.append(GoodSpec(code=code, name=str(product), labour_value=value_per_unit,
                            unit=f"{size:g} {unit_name}", product=str(product), stock=stock))
    return out


# --------------------------------------------------------------------------- service
def _at_heads(engine: Engine) -> bool:
    """Whether the store already carries every migration head (so no upgrade is needed)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from gosplan.storage.base import MIGRATIONS, alembic_config

    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as conn:
        have = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    cfg = alembic_config(str(engine.url))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return have == set(ScriptDirectory.from_config(cfg).get_heads())


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent writer used the same key/code: retry sees its row
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in ("40001", "40P01")


def _digest(kind: str, content: Mapping[str, Any]) -> str:
    text = json.dumps({"kind": kind, **content}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    """The labour-time ledger over a store (SQLite or PostgreSQL).

    Every public write runs in one transaction: it either happens completely
    or not at all.  :meth:`batch` runs several writes in one transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time; threads of this process queue here (in order)
        # instead of polling the file lock, which keeps the tail latency short
        self._writer: threading.RLock | None = threading.RLock() if self.sqlite else None
        self._group: _GroupCommit | None = None

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, echo: bool = False) -> Accounts:
        """An :class:`Accounts` over the store at ``url``, migrated to the newest schema."""
        from gosplan.storage.base import make_engine, upgrade

        engine = make_engine(url, echo=echo)
        if migrate and not _at_heads(engine):
            upgrade(url)
        return cls(engine)

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
            with self._writing(write), Session(self.engine, expire_on_commit=False,
                                               autoflush=False) as s:
                try:
                    if write and self.sqlite:
                        s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    out = fn(s)
                    if write:
                        s.commit()
                    return out
                except DBAPIError as exc:
                    s.rollback()
                    if attempt < attempts - 1 and _retryable(exc):
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
        with self._writing(True), Session(self.engine, expire_on_commit=False,
                                          autoflush=False) as s:
            try:
                if self.sqlite:
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield Batch(s)
                s.commit()
            except BaseException:
                s.rollback()
                raise

    # ------------------------------------------------------------------ accounts
    def open_account(self, code: str, kind: str, name: str = "") -> AccountInfo:
        """Open an account: ``kind`` is person, enterprise or fund (``fund:<name>``)."""
        return self._run(lambda s: _open_account(s, code, kind, name))

    def account(self, code: str) -> AccountInfo:
        return self._read(lambda s: _info(s, _account(s, code)))

    def accounts(self, kind: str | None = None) -> list[AccountInfo]:
        def q(s: Session) -> list[AccountInfo]:
            stmt = select(Account).order_by(Account.code)
            if kind is not None:
                stmt = stmt.where(Account.kind == kind)
            return [_info(s, a) for a in s.scalars(stmt)]
        return self._read(q)

    def balance(self, code: str) -> Decimal:
        """Hours held by the account (derived from its postings)."""
        return self._read(lambda s: to_hours(_derived_balance(s, _account(s, code).id)))

    # ------------------------------------------------------------------ periods
    def open_period(self, code: str, deduction: Deduction) -> PeriodInfo:
        """Open a period with the deduction in force; only one period is open at a time."""
        return self._run(lambda s: _open_period(s, code, deduction))

    def close_period(self, code: str) -> PeriodInfo:
        """Close a period (refused while hours await approval); its totals are kept."""
        return self._run(lambda s: _close_period(s, code))

    def period(self, code: str) -> PeriodInfo:
        return self._read(lambda s: _period_info(_period(s, code)))

    def current_period(self) -> PeriodInfo | None:
        def q(s: Session) -> PeriodInfo | None:
            p = s.scalar(select(Period).where(Period.status == "open"))
            return None if p is None else _period_info(p)
        return self._read(q)

    def periods(self) -> list[PeriodInfo]:
        return self._read(lambda s: [_period_info(p) for p in
                                     s.scalars(select(Period).order_by(Period.id))])

    # ------------------------------------------------------------------ work
    def record_hours(self, enterprise: str, person: str, period: str,
                     hours: Decimal | int | str | float, *, key: str) -> WorkRecord:
        """An enterprise records hours a member worked in a period (credited on approval)."""
        return self._run(lambda s: _record_hours(s, enterprise, person, period, hours, key))

    def record_hours_many(self, enterprise: str, period: str,
                          rows: Iterable[tuple[str, Decimal | int | str | float]],
                          *, key: str) -> list[WorkRecord]:
        """Hours of a whole workforce, ``[(person, hours), ...]``, in one transaction."""
        rows = list(rows)
        return self._run(lambda s: _record_hours_many(s, enterprise, period, rows, key))

    def approve(self, enterprise: str, period: str, *, key: str, approver: str = "") -> Posted:
        """Approve every recorded hour of ``enterprise`` in ``period``: credit persons and funds."""
        return self._run(lambda s: _approve(s, enterprise, period, key, approver))

    def work(self, period: str, enterprise: str | None = None) -> list[WorkRecord]:
        return self._read(lambda s: _work_records(s, period, enterprise))

    # ------------------------------------------------------------------ goods
    def add_goods(self, specs: Iterable[GoodSpec], *, reason: str = "listed") -> list[GoodInfo]:
        specs = list(specs)
        return self._run(lambda s: [_add_good(s, g, reason) for g in specs])

    def add_good(self, code: str, name: str, labour_value: Decimal | str | float, *,
                 unit: str = "unit", product: str | None = None,
                 ratio: Decimal | str | float = 1, stock: int = 0) -> GoodInfo:
        spec = GoodSpec(code=code, name=name,
                        labour_value=_dec(labour_value, field="labour_value", what=code),
                        unit=unit, product=product,
                        ratio=_dec(ratio, field="ratio", what=code), stock=stock)
        return self._run(lambda s: _add_good(s, spec, "listed"))

    def deliver(self, good: str, quantity: int, *, key: str) -> GoodInfo:
        """Goods delivered to the shops: stock rises."""
        return self._run(lambda s: _deliver(s, good, quantity, key))

    def reprice(self, good: str, *, ratio: Decimal | str | float | None = None,
                labour_value: Decimal | str | float | None = None,
                reason: str) -> GoodInfo:
        """Change a good's price/value ratio or labour value (recorded, with a reason)."""
        return self._run(lambda s: _reprice(s, good, ratio, labour_value, reason))

    def good(self, code: str) -> GoodInfo:
        return self._read(lambda s: _good_info(_good(s, code)))

    def goods(self) -> list[GoodInfo]:
        return self._read(lambda s: [_good_info(g) for g in
                                     s.scalars(select(Good).order_by(Good.code))])

    def catalogue(self) -> pd.DataFrame:
        rows = [asdict(g) for g in self.goods()]
        cols = [f.name for f in GoodInfo.__dataclass_fields__.values()]
        return pd.DataFrame(rows, columns=cols).set_index("code")

    # ------------------------------------------------------------------ buying
    def buy(self, person: str, good: str, quantity: int = 1, *, key: str) -> Purchase:
        """A person buys goods: their hours are cancelled, the stock falls.

        On SQLite, purchases from the threads of this process are committed
        in groups (see :class:`_GroupCommit`): each is atomic on its own and
        returns only once it is durable, but many share one commit.  On
        PostgreSQL a purchase is one call of the server-side ``acct_buy()``.
        """
        if self.sqlite:
            if self._group is None:
                with self._writer or threading.RLock():
                    if self._group is None:
                        self._group = _GroupCommit(self)
            return self._group.submit(person, good, quantity, key)
        if self.engine.dialect.name == "postgresql":
            return self._buy_postgres(person, good, quantity, key)
        return self._run(lambda s: _buy(s, person, good, quantity, key))

    def _buy_postgres(self, person: str, good: str, quantity: int, key: str) -> Purchase:
        """One ``SELECT acct_buy(…)`` in autocommit: one statement, atomic on its own."""
        q = _check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
        _check_key(key)
        digest = _digest("buy", {"person": person, "good": good, "quantity": q})
        ctx: dict[str, Any] = {"person": person, "good": good, "q": q, "key": key}
        for attempt in range(8):
            try:
                with self.engine.connect() as conn:
                    auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                    return _call_acct_buy(auto, digest, ctx)
            except DBAPIError as exc:
                if attempt < 7 and _retryable(exc):
                    continue  # a concurrent request with the same key: it is found now
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ corrections
    def reverse(self, transaction_id: int, *, reason: str, key: str) -> Posted:
        """Correct a mistake with a new transaction that reverses an earlier one."""
        return self._run(lambda s: _reverse(s, transaction_id, reason, key))

    # ------------------------------------------------------------------ reports
    def statement(self, code: str) -> Statement:
        return self._read(lambda s: _statement(s, code))

    def totals(self, period: str | None = None) -> dict[str, Decimal]:
        """Hours approved, credited to persons and to funds, cancelled, and sales at price."""
        return self._read(lambda s: _totals(s, period))

    def feedback(self, period: str, *, elasticity: float = 1.0,
                 target_sell_through: float = 0.9, max_step: float = 0.25) -> FeedbackReport:
        """Sales against stock per good over a period, and what they say to the next plan."""
        if not (elasticity > 0 and 0 < target_sell_through <= 1 and max_step > 0):
            raise AccountsInputError(
                "feedback needs elasticity > 0, 0 < target_sell_through <= 1 and max_step > 0; "
                f"got {elasticity}, {target_sell_through}, {max_step}.")
        return self._read(lambda s: _feedback(s, period, elasticity, target_sell_through,
                                              max_step))

    def apply_feedback(self, report: FeedbackReport) -> list[GoodInfo]:
        """Set each good's ratio to the clearing ratio of ``report`` (price changes recorded)."""
        changes = {str(code): Decimal(repr(float(r))).quantize(_NINE)
                   for code, r in report.table["clearing_ratio"].items()}

        def do(s: Session) -> list[GoodInfo]:
            out = []
            for code, r in changes.items():
                g = _good(s, code)
                if Decimal(g.ratio) != r:
                    out.append(_reprice(s, code, r, None,
                                        f"market-clearing ratio from period {report.period}"))
            return out
        return self._run(do)

    def check_integrity(self) -> list[str]:
        """Problems found: transactions not summing to zero, caches that differ from sums."""
        return self._read(_check_integrity)


class _GroupCommit:
    """One writer thread that commits SQLite purchases in groups (group commit).

    SQLite has one writer and every commit waits for the disk (``fsync``), so
    committing purchases one by one caps throughput at one per fsync.  Callers
    queue their purchase and wait; the writer takes every purchase waiting
    (up to ``limit``), runs each inside its own SAVEPOINT of one transaction —
    a refused purchase rolls back alone and its caller gets the error — then
    commits once and wakes the callers.  A caller hears of success only after
    the commit, and a crash before it loses the whole group, never part of one.
    """

    def __init__(self, accounts: Accounts, limit: int = 256) -> None:
        import queue

        self.accounts = accounts
        self.limit = limit
        self.queue: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="gosplan-accounts-writer",
                                       daemon=True)
        self.thread.start()

    def submit(self, person: str, good: str, quantity: int, key: str) -> Purchase:
        from concurrent.futures import Future

        fut: Future[Purchase] = Future()
        self.queue.put(((person, good, quantity, key), fut))
        return fut.result()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        import queue

        while True:
            item = self.queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < self.limit:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.queue.put(None)
                    break
                group.append(more)
            self._commit(group)

    def _commit(self, group: list[Any]) -> None:
        acc = self.accounts
        outcomes: list[tuple[bool, Any]] = []
        try:
            with acc._writing(True), Session(acc.engine, expire_on_commit=False,
                                              autoflush=False) as s:
                try:
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    for (person, good, quantity, key), _ in group:
                        sp = s.begin_nested()
                        try:
                            res = _buy(s, person, good, quantity, key)
                            sp.commit()
                            outcomes.append((True, res))
                        except Exception as exc:  # refused: this purchase alone rolls back
                            sp.rollback()
                            outcomes.append((False, exc))
                    s.commit()
                except BaseException:
                    s.rollback()
                    raise
        except BaseException as exc:  # the group's commit failed: nothing of it was kept
            for _, fut in group:
                fut.set_exception(exc)
            return
        for (ok, value), (_, fut) in zip(outcomes, group, strict=True):
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)


class Batch:
    """Writes inside one transaction (see :meth:`Accounts.batch`)."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def record_hours(self, enterprise: str, person: str, period: str,
                     hours: Decimal | int | str | float, *, key: str) -> WorkRecord:
        return _record_hours(self._s, enterprise, person, period, hours, key)

    def approve(self, enterprise: str, period: str, *, key: str, approver: str = "") -> Posted:
        return _approve(self._s, enterprise, period, key, approver)

    def buy(self, person: str, good: str, quantity: int = 1, *, key: str) -> Purchase:
        return _buy(self._s, person, good, quantity, key)

    def deliver(self, good: str, quantity: int, *, key: str) -> GoodInfo:
        return _deliver(self._s, good, quantity, key)


# =========================================================================== internals
def _lock(stmt: Any, s: Session, *, share: bool = False) -> Any:
    """``FOR UPDATE`` (or ``FOR SHARE``) on PostgreSQL; SQLite already has one writer."""
    if s.get_bind().dialect.name == "sqlite":
        return stmt
    return stmt.with_for_update(read=share)


def _account(s: Session, code: str, *, kind: str | tuple[str, ...] | None = None,
             role: str = "account", lock: bool = False) -> Account:
    stmt = select(Account).where(Account.code == code)
    if lock:
        stmt = _lock(stmt, s)
    acc = s.scalar(stmt)
    if acc is None:
        raise UnknownAccount(f"No account {code!r} ({role}): open it first "
                             f"(`gosplan accounts open`).")
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and acc.kind not in kinds:
        raise UnknownAccount(
            f"Account {code!r} is a {acc.kind} account; the {role} must be "
            f"{' or '.join(kinds)}.")
    return acc


def _derived_balance(s: Session, account_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(Posting.amount), 0))
                        .where(Posting.account_id == account_id)) or 0)


def _info(s: Session, a: Account) -> AccountInfo:
    bal = a.balance if a.balance is not None else _derived_balance(s, a.id)
    return AccountInfo(code=a.code, kind=a.kind, name=a.name, balance=to_hours(bal))


def _open_account(s: Session, code: str, kind: str, name: str) -> AccountInfo:
    _check_code(code, "code")
    if kind not in ("person", "enterprise", "fund"):
        raise AccountsInputError(
            f"Account {code!r}: `kind` must be person, enterprise or fund; got {kind!r}.")
    if (kind == "fund") != code.startswith(FUND_PREFIX):
        raise AccountsInputError(
            f"Account {code!r}: fund accounts, and only they, are named "
            f"'{FUND_PREFIX}<fund>'.")
    if code.startswith("system:"):
        raise AccountsInputError(f"Account {code!r}: 'system:' codes are reserved.")
    existing = s.scalar(select(Account).where(Account.code == code))
    if existing is not None:
        raise AccountsError(f"Account {code!r} already exists (a {existing.kind} account).")
    acc = Account(code=code, kind=kind, name=name or code,
                  balance=0 if kind in HOLDING_KINDS else None)
    s.add(acc)
    s.flush()
    return _info(s, acc)


def _system_account(s: Session, code: str) -> Account:
    acc = s.scalar(select(Account).where(Account.code == code))
    if acc is None:
        acc = Account(code=code, kind="system", name=code.split(":", 1)[1], balance=None)
        s.add(acc)
        s.flush()
    return acc


def _fund_account(s: Session, fund: str) -> Account:
    code = f"{FUND_PREFIX}{fund}"
    acc = s.scalar(select(Account).where(Account.code == code))
    if acc is None:
        acc = Account(code=code, kind="fund", name=f"social fund: {fund}", balance=0)
        s.add(acc)
        s.flush()
    return acc


# -- idempotency
def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key or len(key) > 128:
        raise AccountsInputError(
            f"Every posting request needs an idempotency `key` of 1–128 characters; "
            f"got {key!r}.")


def _claim(s: Session, key: str, kind: str, content: Mapping[str, Any]) -> tuple[
        str, dict[str, Any] | None]:
    """(digest, stored result or None).  Raises on the same key with different content."""
    _check_key(key)
    digest = _digest(kind, content)
    req = s.get(Request, key)
    if req is None:
        return digest, None
    if req.kind != kind or req.digest != digest:
        raise IdempotencyConflict(
            f"Idempotency key {key!r} was already used for a different request "
            f"({req.kind} at {req.created_at:%Y-%m-%d %H:%M:%S}); nothing was posted. "
            f"Use a new key for a new request.")
    return digest, dict(req.result)


def _remember(s: Session, key: str, kind: str, digest: str, result: Any) -> None:
    data = _to_json(result) if not isinstance(result, dict) else result
    data.pop("replayed", None)
    s.add(Request(key=key, kind=kind, digest=digest, result=data))


# -- periods
def _period(s: Session, code: str, *, lock: bool = False, share: bool = False) -> Period:
    stmt = select(Period).where(Period.code == code)
    if lock or share:
        stmt = _lock(stmt, s, share=not lock)
    p = s.scalar(stmt)
    if p is None:
        raise UnknownPeriod(f"No period {code!r}: open it first (`gosplan accounts period open`).")
    return p


def _open_in(p: Period, what: str) -> None:
    if p.status != "open":
        raise PeriodClosed(
            f"Period {p.code!r} is closed (since {p.closed_at:%Y-%m-%d %H:%M:%S}): "
            f"cannot {what} in it.")


def _current(s: Session, what: str, *, lock: bool = True) -> Period:
    # FOR SHARE: a concurrent close waits for this transaction (and vice versa)
    stmt = select(Period).where(Period.status == "open")
    p = s.scalar(_lock(stmt, s, share=True) if lock else stmt)
    if p is None:
        raise UnknownPeriod(f"No period is open: cannot {what}. Open one first.")
    return p


def _deduction_of(p: Period) -> Deduction:
    return Deduction.from_json(p.deduction_rate, p.deduction_shares, p.deduction_source)


def _period_info(p: Period) -> PeriodInfo:
    return PeriodInfo(code=p.code, status=p.status, deduction=_deduction_of(p),
                      opened_at=f"{p.opened_at:%Y-%m-%d %H:%M:%S}",
                      closed_at=None if p.closed_at is None else f"{p.closed_at:%Y-%m-%d %H:%M:%S}",
                      summary=p.summary)


def _open_period(s: Session, code: str, deduction: Deduction) -> PeriodInfo:
    _check_code(code, "period")
    if not isinstance(deduction, Deduction):
        raise AccountsInputError(
            f"Period {code!r}: `deduction` must be a Deduction; got {type(deduction).__name__}.")
    if s.scalar(select(Period).where(Period.code == code)) is not None:
        raise AccountsError(f"Period {code!r} already exists.")
    other = s.scalar(select(Period).where(Period.status == "open"))
    if other is not None:
        raise AccountsError(
            f"Period {other.code!r} is still open: close it before opening {code!r}.")
    for fund in deduction.shares:
        _fund_account(s, fund)
    stock = {g.code: int(g.stock) for g in s.scalars(select(Good))}
    p = Period(code=code, status="open", deduction_rate=str(deduction.rate),
               deduction_shares={k: str(v) for k, v in deduction.shares.items()},
               deduction_source=deduction.source, opening_stock=stock)
    s.add(p)
    s.flush()
    return _period_info(p)


def _close_period(s: Session, code: str) -> PeriodInfo:
    if s.get_bind().dialect.name == "postgresql":
        # purchases change a good's row first and read the period after: holding SHARE on
        # the goods makes every purchase either finish before the close or see it closed
        s.execute(text("LOCK TABLE acct_good IN SHARE MODE"))
    p = _period(s, code, lock=True)
    _open_in(p, "close it again")
    pending = s.execute(
        select(Account.code, func.count(Work.id), func.sum(Work.hours))
        .join(Account, Account.id == Work.enterprise_id)
        .outerjoin(Approval, Approval.work_id == Work.id)
        .where(Work.period_id == p.id, Approval.work_id.is_(None))
        .group_by(Account.code).order_by(Account.code)).all()
    if pending:
        detail = "; ".join(f"{e}: {n} record(s), {to_hours(int(h))} h" for e, n, h in pending)
        raise AccountsError(
            f"Period {code!r} cannot be closed: hours await approval ({detail}). "
            f"Approve them first (`gosplan accounts approve`).")
    totals = _totals(s, code)
    goods = _period_goods(s, p)
    p.summary = {
        "totals_hours": {k: str(v) for k, v in totals.items()},
        "goods": goods,
        "deduction": {"rate": p.deduction_rate, "shares": p.deduction_shares},
    }
    p.status = "closed"
    p.closed_at = utcnow()
    s.flush()
    _publish(s, "accounts.period_closed", {"period": code, **p.summary})
    return _period_info(p)


# -- work
def _work_record(s: Session, w: Work, replayed: bool = False) -> WorkRecord:
    approval = s.get(Approval, w.id)
    status = "recorded"
    if approval is not None:
        rev = s.scalar(select(Transaction.id).where(
            Transaction.reverses_id == approval.transaction_id))
        status = "reversed" if rev is not None else "approved"
    codes = dict(s.execute(select(Account.id, Account.code).where(
        Account.id.in_([w.enterprise_id, w.person_id]))).all())
    period = s.scalar(select(Period.code).where(Period.id == w.period_id)) or ""
    return WorkRecord(id=w.id, period=period, enterprise=codes[w.enterprise_id],
                      person=codes[w.person_id], hours=to_hours(w.hours), status=status,
                      replayed=replayed)


def _check_hours(hours: Any, person: str, enterprise: str, period: str) -> int:
    what = f"person {person!r} in enterprise {enterprise!r}, period {period!r}"
    units = to_units(hours, field="hours", what=what)
    if units > MAX_HOURS_PER_RECORD * UNIT:
        raise AccountsInputError(
            f"`hours` for {what} is {hours}; one record may carry at most "
            f"{MAX_HOURS_PER_RECORD} hours.")
    return units


def _new_work(s: Session, ent: Account, person: str, p: Period, units: int) -> Work:
    per = _account(s, person, kind="person", role=f"worker of enterprise {ent.code!r}")
    w = Work(period_id=p.id, enterprise_id=ent.id, person_id=per.id, hours=units)
    s.add(w)
    return w


def _record_hours(s: Session, enterprise: str, person: str, period: str, hours: Any,
                  key: str) -> WorkRecord:
    units = _check_hours(hours, person, enterprise, period)
    digest, done = _claim(s, key, "work", {"enterprise": enterprise, "person": person,
                                          "period": period, "hours": units})
    if done is not None:
        return _from_json(WorkRecord, done)
    ent = _account(s, enterprise, kind="enterprise", role="enterprise recording hours")
    p = _period(s, period, share=True)
    _open_in(p, f"record hours of {person!r} for enterprise {enterprise!r}")
    w = _new_work(s, ent, person, p, units)
    s.flush()
    rec = WorkRecord(id=w.id, period=p.code, enterprise=ent.code, person=person,
                     hours=to_hours(units), status="recorded")
    _remember(s, key, "work", digest, rec)
    return rec


def _record_hours_many(s: Session, enterprise: str, period: str,
                       rows: Sequence[tuple[str, Any]], key: str) -> list[WorkRecord]:
    if not rows:
        raise AccountsInputError(
            f"No hours given for enterprise {enterprise!r}, period {period!r}.")
    parsed = [(str(person), _check_hours(h, str(person), enterprise, period))
              for person, h in rows]
    digest, done = _claim(s, key, "work-many", {"enterprise": enterprise, "period": period,
                                               "rows": parsed})
    if done is not None:
        return [_from_json(WorkRecord, r) for r in done["records"]]
    ent = _account(s, enterprise, kind="enterprise", role="enterprise recording hours")
    p = _period(s, period, share=True)
    _open_in(p, f"record hours for enterprise {enterprise!r}")
    works = [(_new_work(s, ent, person, p, units), person) for person, units in parsed]
    s.flush()
    recs = [WorkRecord(id=w.id, period=p.code, enterprise=ent.code, person=person,
                       hours=to_hours(w.hours), status="recorded") for w, person in works]
    _remember(s, key, "work-many", digest, {"records": [_to_json(r) for r in recs]})
    return recs


def _work_records(s: Session, period: str, enterprise: str | None) -> list[WorkRecord]:
    p = _period(s, period)
    stmt = select(Work).where(Work.period_id == p.id).order_by(Work.id)
    if enterprise is not None:
        stmt = stmt.where(Work.enterprise_id == _account(s, enterprise, kind="enterprise").id)
    return [_work_record(s, w) for w in s.scalars(stmt)]


def _post(s: Session, kind: str, period: Period | None, amounts: Mapping[int, int], memo: str,
          *, reverses: int | None = None) -> Transaction:
    """Insert a transaction and its postings, updating cached balances (rows must be locked)."""
    if sum(amounts.values()) != 0:  # an internal bug, never a user error
        raise AssertionError(f"postings of a {kind} transaction do not sum to zero: {amounts}")
    tx = Transaction(kind=kind, period_id=None if period is None else period.id, memo=memo,
                     reverses_id=reverses)
    s.add(tx)
    s.flush()
    s.add_all([Posting(transaction_id=tx.id, account_id=a, amount=amt)
               for a, amt in amounts.items() if amt != 0])
    return tx


def _lock_holders(s: Session, ids: Iterable[int]) -> dict[int, Account]:
    """Lock (PostgreSQL) the accounts with these ids, in id order; return them by id."""
    ids = sorted(set(ids))
    stmt = _lock(select(Account).where(Account.id.in_(ids)).order_by(Account.id), s)
    return {a.id: a for a in s.scalars(stmt)}


def _apply(s: Session, accounts: Mapping[int, Account], amounts: Mapping[int, int],
           why: str) -> None:
    """Add amounts to cached balances, refusing any that would go negative."""
    for aid, amt in amounts.items():
        a = accounts.get(aid)
        if a is None or a.balance is None:
            continue
        new = a.balance + amt
        if new < 0:
            raise InsufficientHours(
                f"Account {a.code!r} holds {to_hours(a.balance)} h; {why} needs "
                f"{to_hours(-amt)} h. No balance may go negative; nothing was posted.")
        a.balance = new


def _approve(s: Session, enterprise: str, period: str, key: str, approver: str) -> Posted:
    digest, done = _claim(s, key, "approve", {"enterprise": enterprise, "period": period,
                                             "approver": approver})
    if done is not None:
        return _from_json(Posted, done)
    ent = _account(s, enterprise, kind="enterprise", role="enterprise whose hours are approved")
    p = _period(s, period, lock=True)
    _open_in(p, f"approve hours of enterprise {enterprise!r}")
    works = list(s.scalars(
        select(Work).outerjoin(Approval, Approval.work_id == Work.id)
        .where(Work.period_id == p.id, Work.enterprise_id == ent.id,
               Approval.work_id.is_(None)).order_by(Work.id)))
    if not works:
        raise AccountsError(
            f"Enterprise {enterprise!r} has no recorded hours awaiting approval in period "
            f"{period!r}.")
    ded = _deduction_of(p)
    funds = {f: _fund_account(s, f).id for f in ded.shares}
    amounts: dict[int, int] = {}
    total = 0
    for w in works:
        person_part, fund_parts = ded.split(w.hours)
        amounts[w.person_id] = amounts.get(w.person_id, 0) + person_part
        for f, part in fund_parts.items():
            amounts[funds[f]] = amounts.get(funds[f], 0) + part
        total += w.hours
    amounts[ent.id] = -total
    held = _lock_holders(s, [a for a in amounts if a != ent.id])
    memo = (f"{to_hours(total).normalize():f} h worked in {ent.code} approved "
            f"({len(works)} record(s)), deduction {ded.rate * 100:.4f}%")
    tx = _post(s, "work", p, amounts, memo)
    _apply(s, held, amounts, f"approval for {enterprise!r}")
    s.add_all([Approval(work_id=w.id, transaction_id=tx.id, approver=approver) for w in works])
    s.flush()
    res = _posted(s, tx, amounts)
    _remember(s, key, "approve", digest, res)
    return res


def _posted(s: Session, tx: Transaction, amounts: Mapping[int, int]) -> Posted:
    codes = dict(s.execute(select(Account.id, Account.code).where(
        Account.id.in_(list(amounts)))).all())
    period = None if tx.period_id is None else s.scalar(
        select(Period.code).where(Period.id == tx.period_id))
    return Posted(transaction_id=tx.id, kind=tx.kind, period=period,
                  postings={codes[a]: to_hours(v) for a, v in amounts.items() if v},
                  memo=tx.memo)


# -- goods
def _good(s: Session, code: str, *, lock: bool = False) -> Good:
    stmt = select(Good).where(Good.code == code)
    if lock:
        stmt = _lock(stmt, s)
    g = s.scalar(stmt)
    if g is None:
        raise UnknownGood(f"No good {code!r} in the catalogue.")
    return g


def _good_info(g: Good) -> GoodInfo:
    return GoodInfo(code=g.code, name=g.name, unit=g.unit, product=g.product,
                    labour_value=Decimal(g.labour_value), ratio=Decimal(g.ratio),
                    price=to_hours(g.price), stock=int(g.stock))


def _check_quantity(q: Any, field: str, what: str) -> int:
    if isinstance(q, bool) or not isinstance(q, int | np.integer) or q <= 0:
        raise AccountsInputError(f"`{field}` for {what} must be a positive whole number; "
                                 f"got {q!r}.")
    return int(q)


def _add_good(s: Session, g: GoodSpec, reason: str) -> GoodInfo:
    _check_code(g.code, "good")
    value = _dec(g.labour_value, field="labour_value", what=f"good {g.code!r}")
    ratio = _dec(g.ratio, field="ratio", what=f"good {g.code!r}")
    if value <= 0 or ratio <= 0:
        raise AccountsInputError(
            f"Good {g.code!r}: labour value and ratio must be positive; got {value}, {ratio}.")
    if g.stock < 0 or not isinstance(g.stock, int | np.integer):
        raise AccountsInputError(f"Good {g.code!r}: `stock` must be a whole number >= 0; "
                                 f"got {g.stock!r}.")
    if s.scalar(select(Good.id).where(Good.code == g.code)) is not None:
        raise AccountsError(f"Good {g.code!r} is already in the catalogue.")
    price = price_units(value, ratio)
    if price <= 0:
        raise AccountsInputError(
            f"Good {g.code!r}: price {value} × {ratio} rounds to zero micro-hours; use a "
            f"larger unit.")
    good = Good(code=g.code, name=g.name or g.code, unit=g.unit, product=g.product,
                labour_value=str(value), ratio=str(ratio), price=price, stock=int(g.stock))
    s.add(good)
    s.flush()
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(PriceChange(good_id=good.id, period_id=cur, labour_value=str(value), ratio=str(ratio),
                      price=price, reason=reason))
    if g.stock:
        s.add(StockMove(good_id=good.id, period_id=cur, kind="delivery", quantity=int(g.stock)))
    return _good_info(good)


def _deliver(s: Session, code: str, quantity: int, key: str) -> GoodInfo:
    q = _check_quantity(quantity, "quantity", f"delivery of good {code!r}")
    digest, done = _claim(s, key, "deliver", {"good": code, "quantity": q})
    if done is not None:
        return _good_info(_good(s, code))
    g = _good(s, code, lock=True)
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(StockMove(good_id=g.id, period_id=cur, kind="delivery", quantity=q))
    g.stock = g.stock + q
    s.flush()
    _remember(s, key, "deliver", digest, {"good": code, "quantity": q})
    return _good_info(g)


def _reprice(s: Session, code: str, ratio: Any, labour_value: Any, reason: str) -> GoodInfo:
    if not reason or not str(reason).strip():
        raise AccountsInputError(f"A price change of good {code!r} needs a `reason`.")
    g = _good(s, code, lock=True)
    new_ratio = Decimal(g.ratio) if ratio is None else _dec(ratio, field="ratio",
                                                             what=f"good {code!r}")
    new_value = Decimal(g.labour_value) if labour_value is None else _dec(
        labour_value, field="labour_value", what=f"good {code!r}")
    if new_ratio <= 0 or new_value <= 0:
        raise AccountsInputError(
            f"Good {code!r}: ratio and labour value must be positive; got {new_ratio}, "
            f"{new_value}.")
    price = price_units(new_value, new_ratio)
    if price <= 0:
        raise AccountsInputError(f"Good {code!r}: the new price rounds to zero micro-hours.")
    old = _good_info(g)
    g.ratio, g.labour_value, g.price = str(new_ratio), str(new_value), price
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(PriceChange(good_id=g.id, period_id=cur, labour_value=str(new_value),
                      ratio=str(new_ratio), price=price, reason=str(reason)))
    s.flush()
    _publish(s, "accounts.price_changed", {
        "good": code, "reason": str(reason),
        "old": {"labour_value": str(old.labour_value), "ratio": str(old.ratio),
                "price_hours": str(old.price)},
        "new": {"labour_value": str(new_value), "ratio": str(new_ratio),
                "price_hours": str(to_hours(price))}})
    return _good_info(g)


# -- buying
def _buy_refused(reason: str, *, person: str, good: str, q: int, key: str, stock: int = 0,
                 kind: str = "", balance: int = 0, cost: int = 0,
                 used: str = "") -> AccountsError:
    """The error for a refused purchase (one wording for the SQLite and PostgreSQL paths)."""
    if reason == "conflict":
        return IdempotencyConflict(
            f"Idempotency key {key!r} was already used for a different request ({used}); "
            f"nothing was posted. Use a new key for a new request.")
    if reason == "no_period":
        return UnknownPeriod(
            f"No period is open: cannot buy good {good!r} for {person!r}. Open one first.")
    if reason == "unknown_good":
        return UnknownGood(f"No good {good!r} in the catalogue.")
    if reason == "out_of_stock":
        return OutOfStock(f"Good {good!r} has {stock} unit(s) in stock; {person!r} asked for "
                          f"{q}. Nothing was bought.")
    if reason == "unknown_account":
        return UnknownAccount(
            f"No account {person!r} (buyer): open it first (`gosplan accounts open`).")
    if reason == "wrong_kind":
        return UnknownAccount(
            f"Account {person!r} is a {kind} account; the buyer must be person.")
    return InsufficientHours(
        f"Account {person!r} holds {to_hours(balance)} h; {q} × {good!r} costs "
        f"{to_hours(cost)} h. No balance may go negative; nothing was bought.")


def _buy(s: Session, person: str, good: str, quantity: int, key: str) -> Purchase:
    """One purchase in few statements: the good's stock and the buyer's balance are each
    changed by one conditional ``UPDATE … RETURNING`` (which also locks the row), so no
    stock and no balance can go below zero whatever runs at the same time.  On PostgreSQL
    the same steps run server-side in ``acct_buy()`` (one round trip)."""
    q = _check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
    _check_key(key)
    content = {"person": person, "good": good, "quantity": q}
    digest = _digest("buy", content)
    ctx: dict[str, Any] = {"person": person, "good": good, "q": q, "key": key}
    if s.get_bind().dialect.name == "postgresql":
        return _buy_pg(s, digest, ctx)
    c = s.connection()  # Core statements built once (below): the hot path stays cheap
    req = c.execute(_Q_REQUEST, {"key": key}).first()
    if req is not None:
        if req[0] != "buy" or req[1] != digest:
            raise _buy_refused("conflict", used=f"{req[0]} at {req[3]:%Y-%m-%d %H:%M:%S}",
                               **ctx)
        return _from_json(Purchase, req[2])
    row = c.execute(_U_GOOD, {"g": good, "q": q}).first()
    if row is None:
        if c.execute(_Q_PERIOD).first() is None:
            raise _buy_refused("no_period", **ctx)
        stock = c.execute(select(Good.stock).where(Good.code == good)).scalar()
        if stock is None:
            raise _buy_refused("unknown_good", **ctx)
        raise _buy_refused("out_of_stock", stock=int(stock), **ctx)
    good_id, price = int(row[0]), int(row[1])
    p = c.execute(_Q_PERIOD).first()
    if p is None:
        raise _buy_refused("no_period", **ctx)
    cost = price * q
    got = c.execute(_U_BUYER, {"p": person, "cost": cost}).first()
    if got is None:
        buyer = c.execute(select(Account.kind, Account.balance)
                          .where(Account.code == person)).first()
        if buyer is None:
            raise _buy_refused("unknown_account", **ctx)
        if buyer[0] != "person":
            raise _buy_refused("wrong_kind", kind=buyer[0], **ctx)
        raise _buy_refused("insufficient", balance=int(buyer[1] or 0), cost=cost, **ctx)
    buyer_id = int(got[0])
    sink_id = _sink_id(s)
    now = utcnow()
    tx_id = int(c.execute(_I_TX, {"kind": "purchase", "period_id": p[0], "created_at": now,
                                  "memo": f"bought {q} × {good} at {to_hours(price)} h",
                                  "reverses_id": None}).scalar_one())
    c.execute(_I_POSTING, [
        {"transaction_id": tx_id, "account_id": buyer_id, "amount": -cost},
        {"transaction_id": tx_id, "account_id": sink_id, "amount": cost}])
    c.execute(_I_MOVE, {"good_id": good_id, "period_id": p[0], "kind": "sale", "quantity": -q,
                        "transaction_id": tx_id, "price": price, "created_at": now})
    res = Purchase(transaction_id=tx_id, person=person, good=good, quantity=q,
                   price=to_hours(price), cost=to_hours(cost), period=p[1])
    data = {"transaction_id": tx_id, "person": person, "good": good, "quantity": q,
            "price": str(res.price), "cost": str(res.cost), "period": p[1]}
    c.execute(_I_REQUEST, {"key": key, "kind": "buy", "digest": digest, "result": data,
                           "created_at": now})
    return res


_Q_REQUEST = select(Request.kind, Request.digest, Request.result, Request.created_at).where(
    Request.key == bindparam("key"))
_Q_PERIOD = select(Period.id, Period.code).where(Period.status == "open")
_U_GOOD = (update(Good).where(Good.code == bindparam("g"), Good.stock >= bindparam("q"))
           .values(stock=Good.stock - bindparam("q")).returning(Good.id, Good.price))
_U_BUYER = (update(Account).where(Account.code == bindparam("p"), Account.kind == "person",
                                  Account.balance >= bindparam("cost"))
            .values(balance=Account.balance - bindparam("cost")).returning(Account.id))
_I_TX = insert(Transaction).returning(Transaction.id)
_I_POSTING = insert(Posting)
_I_MOVE = insert(StockMove)
_I_REQUEST = insert(Request)


def _buy_pg(s: Session, digest: str, ctx: dict[str, Any]) -> Purchase:
    return _call_acct_buy(s, digest, ctx)


def _call_acct_buy(db: Any, digest: str, ctx: dict[str, Any]) -> Purchase:
    """Call ``acct_buy()`` on a session or connection; its refusals become our errors."""
    try:
        out = db.execute(text("SELECT acct_buy(:person, :good, :q, :key, :digest)"),
                        {**ctx, "digest": digest}).scalar_one()
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        msg = str(getattr(diag, "message_primary", "") or "")
        if not msg.startswith("acct:"):
            raise
        detail = str(getattr(diag, "message_detail", "") or "")
        reason = msg.removeprefix("acct:")
        extra: dict[str, Any] = {}
        if reason == "conflict":
            extra["used"] = detail
        elif reason == "out_of_stock":
            extra["stock"] = int(detail)
        elif reason == "wrong_kind":
            extra["kind"] = detail
        elif reason == "insufficient":
            bal, cost = detail.split()
            extra.update(balance=int(bal), cost=int(cost))
        raise _buy_refused(reason, **extra, **ctx) from None
    data = json.loads(out) if isinstance(out, str) else out
    result = _from_json(Purchase, data["result"])
    return result if data["replayed"] else dataclasses.replace(result, replayed=False)


def _sink_id(s: Session) -> int:
    """Id of ``system:cancelled``, remembered on the database connection (it never changes)."""
    info = s.connection().info
    if "acct_sink" not in info:
        got = s.scalar(select(Account.id).where(Account.code == CANCELLED))
        if got is None:
            return _system_account(s, CANCELLED).id  # not remembered until committed
        info["acct_sink"] = int(got)
    return int(info["acct_sink"])


# -- corrections
def _reverse(s: Session, transaction_id: int, reason: str, key: str) -> Posted:
    if not reason or not str(reason).strip():
        raise AccountsInputError(
            f"Reversing transaction {transaction_id} needs a `reason` (it is kept for good).")
    digest, done = _claim(s, key, "reverse", {"transaction": int(transaction_id),
                                             "reason": str(reason)})
    if done is not None:
        return _from_json(Posted, done)
    tx = s.get(Transaction, int(transaction_id))
    if tx is None:
        raise AccountsError(f"No transaction {transaction_id} to reverse.")
    if tx.reverses_id is not None:
        raise AccountsError(
            f"Transaction {transaction_id} is itself a reversal (of {tx.reverses_id}); "
            f"post the correct transaction anew instead.")
    if s.scalar(select(Transaction.id).where(Transaction.reverses_id == tx.id)) is not None:
        raise AccountsError(f"Transaction {transaction_id} has already been reversed.")
    amounts: dict[int, int] = {}
    for a, amt in s.execute(select(Posting.account_id, Posting.amount)
                            .where(Posting.transaction_id == tx.id)):
        amounts[a] = amounts.get(a, 0) - amt
    cur = s.scalar(select(Period).where(Period.status == "open"))
    held = _lock_holders(s, amounts)
    new = _post(s, "reversal", cur, amounts,
                f"reverses transaction {tx.id} ({tx.kind}): {reason}", reverses=tx.id)
    _apply(s, held, amounts, f"reversing transaction {tx.id}")
    for m in list(s.scalars(select(StockMove).where(StockMove.transaction_id == tx.id))):
        g = _good(s, s.scalar(select(Good.code).where(Good.id == m.good_id)) or "", lock=True)
        s.add(StockMove(good_id=m.good_id, period_id=None if cur is None else cur.id,
                        kind="return", quantity=-m.quantity, transaction_id=new.id,
                        price=m.price))
        g.stock = g.stock - m.quantity
    s.flush()
    res = _posted(s, new, amounts)
    _remember(s, key, "reverse", digest, res)
    return res


# -- reports
def _statement(s: Session, code: str) -> Statement:
    acc = _account(s, code)
    rows = s.execute(
        select(Transaction.id, Transaction.created_at, Transaction.kind, Transaction.memo,
               Posting.amount, Period.code, Period.deduction_rate, Period.deduction_shares,
               Period.deduction_source)
        .join(Posting, Posting.transaction_id == Transaction.id)
        .outerjoin(Period, Period.id == Transaction.period_id)
        .where(Posting.account_id == acc.id).order_by(Transaction.id, Posting.id)).all()
    lines: list[StatementLine] = []
    deductions: dict[str, Deduction] = {}
    running = 0
    for tid, at, kind, memo, amount, pcode, rate, shares, source in rows:
        running += amount
        ded = None
        if pcode is not None:
            ded = deductions.get(pcode) or Deduction.from_json(rate, shares, source)
            deductions[pcode] = ded
        lines.append(StatementLine(
            transaction_id=tid, posted_at=f"{at:%Y-%m-%d %H:%M:%S}", period=pcode, kind=kind,
            memo=memo, amount=to_hours(amount), balance=to_hours(running),
            deduction_rate=None if ded is None else ded.rate,
            deduction_shares="" if ded is None else ded.shares_text()))
    cur = s.scalar(select(Period).where(Period.status == "open"))
    if cur is not None and cur.code not in deductions:
        deductions[cur.code] = _deduction_of(cur)
    return Statement(account=_info(s, acc), lines=lines, deductions=deductions)


def _totals(s: Session, period: str | None) -> dict[str, Decimal]:
    pid = None if period is None else _period(s, period).id

    def in_period(stmt: Any, col: Any) -> Any:
        return stmt if pid is None else stmt.where(col == pid)

    reversed_ids = select(Transaction.reverses_id).where(Transaction.reverses_id.is_not(None))
    approved = s.scalar(in_period(
        select(func.coalesce(func.sum(Work.hours), 0))
        .join(Approval, Approval.work_id == Work.id)
        .where(Approval.transaction_id.not_in(reversed_ids)), Work.period_id)) or 0
    orig = aliased(Transaction)

    def credited(kind: str) -> int:
        # postings of approvals, and of reversals of approvals, to accounts of this kind
        stmt = (select(func.coalesce(func.sum(Posting.amount), 0))
                .join(Transaction, Transaction.id == Posting.transaction_id)
                .join(Account, Account.id == Posting.account_id)
                .outerjoin(orig, orig.id == Transaction.reverses_id)
                .where(Account.kind == kind,
                       or_(Transaction.kind == "work",
                           and_(Transaction.kind == "reversal", orig.kind == "work"))))
        if pid is not None:
            stmt = stmt.where(Transaction.period_id == pid)
        return int(s.scalar(stmt) or 0)

    cancelled = 0
    sink = s.scalar(select(Account.id).where(Account.code == CANCELLED))
    if sink is not None:
        stmt = (select(func.coalesce(func.sum(Posting.amount), 0))
                .join(Transaction, Transaction.id == Posting.transaction_id)
                .where(Posting.account_id == sink))
        cancelled = int(s.scalar(in_period(stmt, Transaction.period_id)) or 0)
    sales = int(s.scalar(in_period(
        select(func.coalesce(func.sum(-StockMove.quantity * StockMove.price), 0))
        .where(StockMove.kind.in_(("sale", "return"))), StockMove.period_id)) or 0)
    return {"approved": to_hours(int(approved)), "credited_persons": to_hours(credited("person")),
            "credited_funds": to_hours(credited("fund")), "cancelled": to_hours(cancelled),
            "sales_at_price": to_hours(sales)}


def _period_goods(s: Session, p: Period) -> dict[str, dict[str, int]]:
    moves = s.execute(
        select(Good.code, StockMove.kind, func.sum(StockMove.quantity))
        .join(Good, Good.id == StockMove.good_id).where(StockMove.period_id == p.id)
        .group_by(Good.code, StockMove.kind)).all()
    out: dict[str, dict[str, int]] = {}
    for code, ratio in s.execute(select(Good.code, Good.ratio)):
        out[code] = {"opening": int(p.opening_stock.get(code, 0)), "delivered": 0, "sold": 0,
                     "ratio": ratio}  # type: ignore[dict-item]
    for code, kind, q in moves:
        row = out[code]
        if kind == "delivery":
            row["delivered"] += int(q)
        else:
            row["sold"] -= int(q)  # sales are negative, returns positive
    for row in out.values():
        row["closing"] = row["opening"] + row["delivered"] - row["sold"]
    return out


def _feedback(s: Session, period: str, e: float, st: float, step: float) -> FeedbackReport:
    p = _period(s, period)
    if p.summary is not None:
        goods = dict(p.summary["goods"])  # type: ignore[call-overload]
    else:
        goods = _period_goods(s, p)
    meta = {g.code: g for g in s.scalars(select(Good))}
    rows = []
    for code, row in sorted(goods.items()):
        g = meta.get(code)
        ratio = float(row.get("ratio", g.ratio if g else 1))
        available = row["opening"] + row["delivered"]
        clear, censored = clearing_ratio(ratio, row["sold"], available, elasticity=e,
                                         target_sell_through=st, max_step=step)
        rows.append({
            "good": code, "product": None if g is None else g.product,
            "labour_value": None if g is None else float(g.labour_value),
            "ratio": ratio, "opening": row["opening"], "delivered": row["delivered"],
            "available": available, "sold": row["sold"], "closing": row["closing"],
            "sell_through": row["sold"] / available if available else float("nan"),
            "clearing_ratio": clear, "censored": censored,
            "target_factor": target_factor(clear, elasticity=e),
        })
    cols = ["good", "product", "labour_value", "ratio", "opening", "delivered", "available",
            "sold", "closing", "sell_through", "clearing_ratio", "censored", "target_factor"]
    table = pd.DataFrame(rows, columns=cols).set_index("good")
    return FeedbackReport(period=p.code, elasticity=e, target_sell_through=st, max_step=step,
                          table=table)


def _check_integrity(s: Session) -> list[str]:
    problems: list[str] = []
    for tid, total in s.execute(select(Posting.transaction_id, func.sum(Posting.amount))
                                .group_by(Posting.transaction_id)
                                .having(func.sum(Posting.amount) != 0)):
        problems.append(f"transaction {tid}: postings sum to {to_hours(int(total))} h, not 0")
    sums = dict(s.execute(select(Posting.account_id, func.sum(Posting.amount))
                          .group_by(Posting.account_id)).all())
    for a in s.scalars(select(Account)):
        derived = int(sums.get(a.id, 0))
        if a.balance is not None and a.balance != derived:
            problems.append(f"account {a.code!r}: cached balance {to_hours(a.balance)} h "
                            f"differs from its postings' sum {to_hours(derived)} h")
        if a.kind in HOLDING_KINDS and derived < 0:
            problems.append(f"account {a.code!r}: negative balance {to_hours(derived)} h")
        if a.kind == "enterprise" and derived > 0:
            problems.append(f"enterprise {a.code!r} was credited {to_hours(derived)} h")
    stock = dict(s.execute(select(StockMove.good_id, func.sum(StockMove.quantity))
                           .group_by(StockMove.good_id)).all())
    for g in s.scalars(select(Good)):
        if g.stock != int(stock.get(g.id, 0)):
            problems.append(f"good {g.code!r}: cached stock {g.stock} differs from its moves' "
                            f"sum {int(stock.get(g.id, 0))}")
        if g.stock < 0:
            problems.append(f"good {g.code!r}: negative stock {g.stock}")
        if g.price != price_units(Decimal(g.labour_value), Decimal(g.ratio)):
            problems.append(f"good {g.code!r}: cached price differs from value × ratio")
    return problems


# -- public log
def _publish(s: Session, kind: str, payload: Mapping[str, Any]) -> None:
    """Append an event to the public log when that service is installed (same transaction)."""
    import importlib

    try:
        publiclog = importlib.import_module("gosplan.services.publiclog")
    except ImportError:
        return
    append = getattr(publiclog, "append", None)
    if append is not None:
        append(s, kind, dict(payload))


__all__ = [
    "CANCELLED",
    "UNIT",
    "AccountInfo",
    "Accounts",
    "AccountsError",
    "AccountsInputError",
    "Batch",
    "Deduction",
    "FeedbackReport",
    "GoodInfo",
    "GoodSpec",
    "IdempotencyConflict",
    "InsufficientHours",
    "OutOfStock",
    "PeriodClosed",
    "PeriodInfo",
    "Posted",
    "Purchase",
    "Statement",
    "StatementLine",
    "UnknownAccount",
    "UnknownGood",
    "UnknownPeriod",
    "WorkRecord",
    "catalogue_from_economy",
    "clearing_ratio",
    "target_factor",
    "to_hours",
    "to_units",
]
