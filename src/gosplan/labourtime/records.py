"""What the ledger returns: accounts, periods, work records, postings, purchases, goods,
statements (frozen dataclasses, amounts in hours as exact ``Decimal``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd

from gosplan.labourtime.deduction import Deduction


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
    status: str  # recorded | approved | rejected | reversed
    replayed: bool = False
    #: who recorded it; who approved or rejected it, and why (rejections)
    recorded_by: str = ""
    decided_by: str = ""
    reason: str = ""


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
class Basket:
    """What a till rang up for one person: one ``purchase`` transaction for every line
    (its stock moves carry each good's quantity and price)."""

    transaction_id: int
    person: str
    goods: int  # lines (distinct goods)
    units: int  # units of all lines together
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
    #: the social fund(s) that provide it free for all (never sold); None for goods on sale
    free_fund: str | None = None

    @property
    def funds(self) -> list[str]:
        """The funds that provide this good free (empty for goods on sale)."""
        return [f for f in (self.free_fund or "").split(",") if f]


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
    #: the social fund(s) that provide it free for all (comma-separated); never sold
    free_fund: str | None = None


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
    #: work lines: the holder's OWN hours worked that this line credits (gross; negative on
    #: the reversal of an approval), and what the deduction took of them by fund; the
    #: transaction's memo speaks of the whole approval, these of this account alone
    gross: Decimal | None = None
    deducted: dict[str, Decimal] = field(default_factory=dict)
    #: work lines: the enterprise whose approval this is (code, name)
    enterprise: str | None = None
    enterprise_name: str = ""


@dataclass(frozen=True)
class Statement:
    """An account's postings with running balance, and the deduction in force for each line."""

    account: AccountInfo
    lines: list[StatementLine]
    deductions: dict[str, Deduction]

    COLUMNS = (
        "transaction",
        "posted_at",
        "period",
        "kind",
        "memo",
        "amount_hours",
        "balance_hours",
        "deduction_rate",
        "deduction_shares",
        "gross_hours",
        "deducted_hours",
        "enterprise",
    )

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.COLUMNS)
        from gosplan.csvsafe import row  # text cells never start a spreadsheet formula

        for ln in self.lines:
            w.writerow(
                row(
                    [
                        ln.transaction_id,
                        ln.posted_at,
                        ln.period or "",
                        ln.kind,
                        ln.memo,
                        ln.amount,
                        ln.balance,
                        "" if ln.deduction_rate is None else ln.deduction_rate,
                        ln.deduction_shares,
                        "" if ln.gross is None else ln.gross,
                        ";".join(f"{k}={v}" for k, v in ln.deducted.items()),
                        ln.enterprise or "",
                    ]
                )
            )
        return buf.getvalue()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(ln) for ln in self.lines])


_R = TypeVar("_R")


def to_json(obj: Any) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(obj), default=str))


def from_json(cls: type[_R], data: Mapping[str, Any]) -> _R:
    conv: dict[str, Callable[[Any], Any]] = {}
    if cls is Posted:
        conv["postings"] = lambda d: {k: Decimal(v) for k, v in d.items()}
    for name in ("hours", "price", "cost"):
        conv[name] = Decimal
    kwargs = {k: (conv[k](v) if k in conv and v is not None else v) for k, v in data.items()}
    kwargs["replayed"] = True
    return cls(**kwargs)
