"""Labour values against market prices: how closely does a capitalist economy's price
system follow the labour time its products cost?

Everything here is computed on one :class:`~gosplan.core.economy.Economy` and its
:class:`~gosplan.core.values.LabourValues`; nothing is read or written.

Conventions
-----------
Input–output tables are in money: one unit of a product is "one money unit's worth
at market prices", so the unit price of every product is 1 (``economy.prices``,
ones unless a reader knows better).  Two views of the same comparison are used:

*Totals* (sector by sector): the price of each sector's output ``P_j = p_j x_j``
against the value of that output ``W_j = v_j x_j``, the latter scaled by one
factor ``k = ΣP / ΣW`` so that total value equals total price (the "monetary
expression of labour time").  The Pearson correlation, the log–log regression
``ln P_j = a + b ln(k W_j)`` and the mean absolute deviation are computed on these,
as in Shaikh (1984), Cockshott, Cottrell & Michaelson (1995) and Zachariah (2006).

*Per unit* (vectors over products): the vector of unit prices ``p`` against the
vector of unit values ``v``.  The angle ``θ`` between them and Steedman &
Tomkins's distance ``d = sqrt(2 (1 − cos θ))`` — the Euclidean distance between
the two vectors after each is normalised to unit length, so ``0 ≤ d ≤ √2`` and
``d`` does not depend on the scale of ``v`` (I. Steedman and J. Tomkins, "On
measuring the deviation of prices from values", *Cambridge Journal of Economics*
22(3), 1998, pp. 379–385; used e.g. by Mariolis & Soklis 2010 and Basu & Moraitis
2023).  With every unit price equal to 1 (money units), ``tan θ`` equals the
coefficient of variation (population standard deviation over mean) of the
value/price ratios ``v_j / p_j``; Steedman and Tomkins's point is that such
vector measures depend on the units in which products are measured, which is why
the unit here is always stated (money's worth at market prices).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.core.values import ImportsMode, LabourValues, labour_values
from gosplan.errors import ValidationError

#: what the "labour" of each kind of table is, in words
LABOUR_CONVENTIONS = {
    "hours": "hours worked (labour time proper)",
    "persons": "persons employed (each person counted as one year's labour, whatever the hours)",
    "wages": "money wages (labour weighted by pay: a £ of wages counts as a unit of labour, "
    "the convention of the UK studies when a table has no hours)",
}


@dataclass(frozen=True)
class ValuePriceResult:
    """How labour values compare with market prices in one economy.

    Scalars (all dimensionless):

    ``correlation``
        Pearson correlation across sectors of output valued at market prices
        (``P_j = p_j x_j``) and output valued in labour (``W_j = v_j x_j``).
    ``log_r2``, ``log_slope``, ``log_intercept``
        Ordinary least squares of ``ln P_j`` on ``ln(k W_j)``; a slope of 1 and an
        intercept of 0 mean prices proportional to values.
    ``mad``
        Output-weighted mean absolute deviation ``Σ|k W_j − P_j| / Σ P_j``: the
        share of total price that would change hands if every sector sold at value.
    ``angle``
        Angle in degrees between the vectors of unit values and unit prices.
    ``d_distance``
        Steedman & Tomkins's ``sqrt(2(1 − cos θ))``.
    ``cv_ratio``
        Coefficient of variation (population) of the price/value ratios
        ``p_j / (k v_j)``.

    Series over the products analysed: ``value_of_output`` (``k W``, in the money
    unit), ``price_of_output`` (``P``) and ``ratio`` (price/value, 1 = at value).
    ``excluded`` lists the products left out and why.
    """

    name: str
    year: int | None
    n: int
    correlation: float
    log_r2: float
    log_slope: float
    log_intercept: float
    mad: float
    angle: float
    d_distance: float
    cv_ratio: float
    scale: float  # k: money per unit of labour (monetary expression of labour time)
    labour_kind: str
    labour_unit: str
    money_unit: str
    value_unit: str
    value_of_output: pd.Series = field(repr=False)
    price_of_output: pd.Series = field(repr=False)
    ratio: pd.Series = field(repr=False)
    excluded: dict[str, str] = field(default_factory=dict)
    conventions: dict[str, str] = field(default_factory=dict)

    def summary(self, k: int = 3) -> str:
        """A few readable lines: the statistics, the conventions, the furthest sectors."""
        what = f"{self.name} {self.year}" if self.year else (self.name or "economy")
        r = self.ratio.sort_values()
        lines = [
            f"Labour values against market prices, {what} ({self.n} sectors):",
            f"  correlation of output at values and at prices  r   = {self.correlation:.4f}",
            f"  log–log regression of prices on values          R²  = {self.log_r2:.4f}  "
            f"(slope {self.log_slope:.3f}, intercept {self.log_intercept:+.3f})",
            f"  mean absolute deviation (output-weighted)       MAD = {self.mad:.1%}",
            f"  Steedman–Tomkins distance                       d   = {self.d_distance:.4f}  "
            f"(angle {self.angle:.2f}°)",
            f"  coefficient of variation of price/value ratios      = {self.cv_ratio:.3f}",
            f"  one unit of labour ({self.labour_unit}) is worth {self.scale:.4g} "
            f"{self.money_unit or 'money units'} at average prices",
            "  conventions: " + "; ".join(f"{k_}: {v_}" for k_, v_ in self.conventions.items()),
            "  sold furthest above value: "
            + ", ".join(f"{name} ({val:.2f})" for name, val in r.iloc[::-1].iloc[:k].items()),
            "  sold furthest below value: "
            + ", ".join(f"{name} ({val:.2f})" for name, val in r.iloc[:k].items()),
        ]
        if self.excluded:
            lines.append(
                "  left out: " + "; ".join(f"{p}: {why}" for p, why in self.excluded.items())
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Scalars, units and conventions as plain Python (JSON-ready; no Series)."""
        return {
            "name": self.name,
            "year": self.year,
            "n": self.n,
            "correlation": self.correlation,
            "log_r2": self.log_r2,
            "log_slope": self.log_slope,
            "log_intercept": self.log_intercept,
            "mad": self.mad,
            "angle": self.angle,
            "d_distance": self.d_distance,
            "cv_ratio": self.cv_ratio,
            "scale": self.scale,
            "labour_kind": self.labour_kind,
            "labour_unit": self.labour_unit,
            "money_unit": self.money_unit,
            "value_unit": self.value_unit,
            "excluded": dict(self.excluded),
            "conventions": dict(self.conventions),
        }

    def to_frame(self) -> pd.DataFrame:
        """Per sector: output at prices, at (scaled) values, and the price/value ratio."""
        return pd.DataFrame(
            {
                f"price of output ({self.money_unit})": self.price_of_output,
                f"value of output, scaled ({self.money_unit})": self.value_of_output,
                "price/value": self.ratio,
            }
        )


def deviation_measures(
    value: np.ndarray, price: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """The per-unit deviation measures between a unit-value and a unit-price vector.

    Returns ``angle`` (degrees), ``d_distance`` = ``sqrt(2(1 − cos θ))`` (Steedman &
    Tomkins 1998), ``cv_ratio`` (population coefficient of variation of
    ``price/value`` after scaling values so that ``Σ w·value = Σ w·price``) and
    ``mad`` = ``Σ w |value_s − price| / Σ w price`` with ``w`` = ``weights``
    (quantities; ones if not given).  Inputs must be positive and finite.
    """
    v = np.asarray(value, dtype=float)
    p = np.asarray(price, dtype=float)
    if v.shape != p.shape or v.ndim != 1 or v.size == 0:
        raise ValidationError(
            f"deviation_measures: `value` and `price` must be non-empty vectors of the same "
            f"length; got shapes {v.shape} and {p.shape}."
        )
    if not (np.isfinite(v).all() and np.isfinite(p).all() and (v > 0).all() and (p > 0).all()):
        raise ValidationError("deviation_measures: values and prices must be positive and finite.")
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    cos = float(v @ p / (np.linalg.norm(v) * np.linalg.norm(p)))
    cos = min(1.0, max(-1.0, cos))
    k = float(w @ p) / float(w @ v)
    ratio = p / (k * v)
    return {
        "angle": math.degrees(math.acos(cos)),
        "d_distance": math.sqrt(max(0.0, 2.0 * (1.0 - cos))),
        "cv_ratio": float(np.std(ratio) / np.mean(ratio)),
        "mad": float(w @ np.abs(k * v - p)) / float(w @ p),
    }


def value_price_analysis(
    economy: Economy,
    values: LabourValues | None = None,
    *,
    exclude: Iterable[str] = (),
    imports: ImportsMode = "ignore",
    depreciation: bool = False,
    tol: float = 1e-10,
) -> ValuePriceResult:
    """Compare labour values with market prices (see the module docstring for the measures).

    Parameters
    ----------
    economy
        Needs gross ``output``; ``prices`` are the unit prices (ones for a money table).
    values
        Labour values of ``economy``; computed with :func:`~gosplan.labour_values`
        (``imports``, ``depreciation``, ``tol``) when not given.
    exclude
        Products to leave out of the comparison (e.g. a rent-dominated sector such as
        oil extraction); their labour still counts in everyone else's values.

    Products with zero output or zero labour value cannot enter a log regression or
    a ratio; they are left out and listed in ``excluded`` with the reason.

    Raises
    ------
    ValidationError
        If the economy has no gross output, ``values`` belong to other products, an
        excluded product is unknown, or fewer than three products remain.

    Long because each published measure (correlation, log regression, deviations, MAD,
    the weighted variants) is computed from the same aligned vectors in turn; most of
    the length is this docstring.
    """
    caller = "value_price_analysis"
    if economy.output is None:
        raise ValidationError(
            f"{caller} needs the gross output of every product (`output` of the Economy); "
            f"{economy!r} has none. Build it with Economy.from_flows or a reader."
        )
    if values is None:
        values = labour_values(economy, tol=tol, imports=imports, depreciation=depreciation)
    _check_values(values, economy, caller)
    products = economy.products
    excl = list(exclude)
    unknown = [p for p in excl if p not in products]
    if unknown:
        raise ValidationError(
            f"`exclude` of {caller}: unknown products {unknown[:10]}; products are e.g. "
            f"{list(products[:3])}."
        )
    v = values.values.to_numpy(dtype=float)
    x = np.asarray(economy.output, dtype=float)
    p = np.asarray(economy.prices, dtype=float)
    excluded: dict[str, str] = {str(name): "excluded by the caller" for name in excl}
    keep = ~products.isin(excl)
    for j in np.flatnonzero(keep & (x <= 0)):
        excluded[str(products[j])] = "zero gross output"
    for j in np.flatnonzero(keep & (x > 0) & (v <= 0)):
        excluded[str(products[j])] = "zero labour value"
    keep &= (x > 0) & (v > 0) & (p > 0)
    if keep.sum() < 3:
        raise ValidationError(
            f"{caller}: only {int(keep.sum())} product(s) have positive output, value and price "
            f"after exclusions; at least 3 are needed for a correlation."
        )
    names = products[keep]
    v, x, p = v[keep], x[keep], p[keep]
    W = v * x  # output valued in labour
    P = p * x  # output valued at market prices
    k = float(P.sum() / W.sum())
    Ws = k * W
    for what, vec in (("market prices", P), ("labour values", Ws)):
        if np.ptp(vec) == 0:
            raise ValidationError(
                f"{caller}: every sector's output at {what} is the same ({vec[0]:g}), so a "
                f"correlation across sectors is undefined."
            )
    corr = float(np.corrcoef(Ws, P)[0, 1])
    slope, intercept, r2 = _ols(np.log(Ws), np.log(P))
    unit = deviation_measures(v, p, weights=x)
    conventions = {
        "labour": LABOUR_CONVENTIONS.get(economy.labour_kind, economy.labour_kind)
        + f", measured in {economy.labour_unit}",
        **{k_: v_ for k_, v_ in values.conventions.items() if k_ != "labour"},
        "prices": "unit price 1 per money unit of output (the table's own valuation)"
        if np.allclose(economy.prices, 1.0)
        else "the economy's unit prices",
        "scaling": "values scaled so that total value = total price",
    }
    ratio = pd.Series(P / Ws, index=names, name="price/value")
    return ValuePriceResult(
        name=economy.name,
        year=economy.year,
        n=int(keep.sum()),
        correlation=corr,
        log_r2=r2,
        log_slope=slope,
        log_intercept=intercept,
        mad=unit["mad"],
        angle=unit["angle"],
        d_distance=unit["d_distance"],
        cv_ratio=unit["cv_ratio"],
        scale=k,
        labour_kind=economy.labour_kind,
        labour_unit=economy.labour_unit,
        money_unit=economy.money_unit,
        value_unit=values.unit,
        value_of_output=pd.Series(Ws, index=names, name="value of output (scaled)"),
        price_of_output=pd.Series(P, index=names, name="price of output"),
        ratio=ratio,
        excluded=excluded,
        conventions=conventions,
    )


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and R² of the least-squares line ``y = a + b x``."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx == 0:
        raise ValidationError("log–log regression: every sector has the same value of output.")
    b = float(((x - xm) * (y - ym)).sum()) / sxx
    a = float(ym - b * xm)
    ss_res = float(((y - a - b * x) ** 2).sum())
    ss_tot = float(((y - ym) ** 2).sum())
    return b, a, (1.0 - ss_res / ss_tot) if ss_tot > 0 else 1.0


def _check_values(values: LabourValues, economy: Economy, caller: str) -> None:
    idx = values.values.index
    if len(idx) != economy.n or not idx.equals(economy.products):
        raise ValidationError(
            f"`values` of {caller} must be the labour values of the same products as the "
            f"economy ({economy.n} products, starting {list(economy.products[:3])}); got "
            f"{len(idx)} starting {list(idx[:3])}. Compute them with labour_values(economy)."
        )
