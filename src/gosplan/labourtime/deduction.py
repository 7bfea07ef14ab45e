"""The deduction for social funds: the share of each credited hour the funds get, and its split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd

from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.units import FUND_OF_PURPOSE, FUND_PREFIX, NINE, check_code, to_decimal


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
        rate = to_decimal(self.rate, field="rate", what="the deduction").quantize(NINE)
        if not (Decimal(0) <= rate < Decimal(1)):
            raise AccountsInputError(f"The deduction `rate` must be in [0, 1); got {self.rate!r}.")
        shares: dict[str, Decimal] = {}
        for fund, share in dict(self.shares).items():
            check_code(f"{FUND_PREFIX}{fund}", "fund")
            s = to_decimal(share, field=f"share of fund {fund!r}", what="the deduction").quantize(
                NINE
            )
            if s < 0:
                raise AccountsInputError(
                    f"The deduction's share of fund {fund!r} must not be negative; got {share!r}."
                )
            if s > 0:
                shares[fund] = s
        total = sum(shares.values(), Decimal(0))
        if rate > 0 and not shares:
            raise AccountsInputError(
                f"A deduction rate of {rate} needs at least one fund with a positive share."
            )
        if shares and abs(total - 1) > Decimal("0.000001"):
            raise AccountsInputError(
                f"The deduction's fund shares must sum to 1; they sum to {total} "
                f"({', '.join(f'{k}={v}' for k, v in shares.items())})."
            )
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
                f"{type(plan).__name__}."
            ) from None
        note = "plan"
        by_purpose = getattr(plan, "labour_by_purpose", None)
        if by_purpose is not None:
            try:
                items = dict(by_purpose.items())
                note = "plan; labour by purpose (hours): " + ", ".join(
                    f"{k}={float(v):.6g}" for k, v in items.items()
                )
            except (AttributeError, TypeError, ValueError):
                pass
        raw = {FUND_OF_PURPOSE.get(str(k), str(k)): float(v) for k, v in dict(shares).items()}
        dropped = sorted(k for k, v in raw.items() if not v > 0)
        kept = {k: v for k, v in raw.items() if v > 0}
        total = sum(kept.values())
        if dropped:
            note += f"; purposes with no positive labour left out: {', '.join(dropped)}"
        return cls(
            Decimal(repr(float(rate))),
            exact_shares({k: v / total for k, v in kept.items()}) if total else {},
            source=note,
        )

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
        v = (
            values.values
            if hasattr(values, "values") and isinstance(values.values, pd.Series)
            else pd.Series(values, index=economy.products)
        )
        fd = economy.final_demand_by_purpose()
        emb = {
            p: float(np.asarray(v.reindex(fd.index).to_numpy() @ fd[p].to_numpy()))
            for p in fd.columns
        }
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
                "personal consumption, social consumption, investment or stocks."
            )
        rate = deducted / (personal + deducted)
        shares = exact_shares(
            {k: x / deducted for k, x in funds.items() if x > 0} if deducted > 0 else {}
        )
        src = (
            f"economy {getattr(economy, 'name', '')} {getattr(economy, 'year', '') or ''}".strip()
            + "; labour embodied in final demand ("
            + getattr(values, "unit", "hours")
            + "): "
            + ", ".join(f"{k}={x:.6g}" for k, x in emb.items())
        )
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


def exact_shares(shares: Mapping[str, float]) -> dict[str, Decimal]:
    """Float shares summing to ~1 as 9-decimal Decimals summing to exactly 1."""
    out = {k: Decimal(repr(float(v))).quantize(NINE) for k, v in shares.items()}
    if out:
        gap = Decimal(1) - sum(out.values(), Decimal(0))
        biggest = max(out, key=lambda k: out[k])
        out[biggest] += gap
    return out
