"""The living plan's rules and its simulated households: maths only, no store.

The loop itself (:mod:`gosplan.services.living_plan`) drives the real
services period after period; what it needs from mathematics lives here:

* :class:`Households` — persons (or cohorts of persons) with Cobb–Douglas
  tastes drawn around the table's household consumption, some unable to
  work (provided for from the social funds);
* :func:`wanted` — what each household would buy at given prices with the
  hours it holds (Cobb–Douglas: a fixed share of the budget per good);
* :func:`shift_tastes` — a shift of tastes (a share of goods more or less
  wanted);
* :func:`next_personal_targets` — the planning office's rule: next period's
  target for a good is this period's, times the clearing price/value ratio
  to the power of the demand elasticity (the quantity people would take at
  a price equal to the labour value, Cockshott and Cottrell, *Towards a New
  Socialism*, ch. 8), less stock left over beyond a buffer;
* :func:`fit_working_week` — personal consumption scaled down, social
  consumption paid first, when an adopted decision caps the working week;
* :func:`dispersion` — the coefficient of variation of price/value ratios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Households",
    "dispersion",
    "draw_households",
    "fit_working_week",
    "next_personal_targets",
    "ration_in_order",
    "shift_tastes",
    "wanted",
]


@dataclass(frozen=True)
class Households:
    """``shares`` (groups × goods, rows sum to 1): Cobb–Douglas budget shares;
    ``size``: persons in each group (1 for a person, more for a cohort);
    ``able``: whether the group's members work."""

    shares: np.ndarray
    size: np.ndarray
    able: np.ndarray

    @property
    def persons(self) -> int:
        return int(self.size.sum())

    @property
    def able_persons(self) -> int:
        return int(self.size[self.able].sum())


def draw_households(
    base_shares: np.ndarray,
    groups: int,
    *,
    rng: np.random.Generator,
    concentration: float = 300.0,
    unable_share: float = 0.15,
    size: int = 1,
) -> Households:
    """``groups`` households whose tastes scatter around ``base_shares`` (Dirichlet).

    ``concentration`` sets how alike tastes are (larger: closer to the base);
    a share ``unable_share`` of groups do not work (children, the old, the
    sick) and live from the social funds' transfer.
    """
    base = np.asarray(base_shares, dtype=float)
    if base.ndim != 1 or base.size == 0 or (base < 0).any() or not base.sum() > 0:
        raise ValueError("base_shares must be a non-empty vector of non-negative shares.")
    if groups < 1 or size < 1:
        raise ValueError(f"need at least one group of at least one person; got {groups}, {size}.")
    if not 0 <= unable_share < 1:
        raise ValueError(f"unable_share must be in [0, 1); got {unable_share}.")
    base = base / base.sum()
    alpha = np.maximum(base * concentration, 1e-3)
    shares = rng.dirichlet(alpha, size=groups)
    shares[:, base == 0] = 0.0
    shares /= shares.sum(axis=1, keepdims=True)
    able = rng.random(groups) >= unable_share
    if not able.any():
        able[0] = True
    return Households(shares=shares, size=np.full(groups, int(size), dtype=np.int64), able=able)


def shift_tastes(
    base_shares: np.ndarray, *, rng: np.random.Generator, fraction: float = 0.1, size: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Base shares with a ``fraction`` of the goods wanted ``±size`` more (signs at random).

    Returns the new shares (summing to 1) and the indices of the shifted goods.
    """
    base = np.asarray(base_shares, dtype=float)
    live = np.flatnonzero(base > 0)
    k = max(1, round(fraction * live.size))
    pick = np.sort(rng.choice(live, size=k, replace=False))
    out = base.copy()
    out[pick] *= 1.0 + size * rng.choice([-1.0, 1.0], size=k)
    return out / out.sum(), pick


def wanted(h: Households, budgets: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """Units each group would buy: ``share × budget / price`` (groups × goods, real-valued).

    ``budgets`` are hours per group (all its members together); goods with no
    price (0) are not wanted.
    """
    p = np.asarray(prices, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(p > 0, 1.0 / p, 0.0)
    return h.shares * np.asarray(budgets, dtype=float)[:, None] * inv[None, :]


def ration_in_order(want: np.ndarray, stock: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Whole units bought when households come to the shop in ``order``: each takes what it
    wants (rounded down) while stock lasts (groups × goods, integers)."""
    left = np.asarray(stock, dtype=np.int64).copy()
    want_units = np.floor(np.asarray(want, dtype=float) + 1e-9).astype(np.int64)
    bought = np.zeros_like(want_units)
    for g in order:
        take = np.minimum(want_units[g], left)
        bought[g] = take
        left -= take
    return bought


def next_personal_targets(
    targets: np.ndarray,
    clearing_ratio: np.ndarray,
    closing_stock: np.ndarray,
    *,
    elasticity: float = 1.0,
    buffer: float = 0.1,
) -> np.ndarray:
    """Next period's deliveries of each consumer good, in units.

    ``targets × clearing_ratio^elasticity`` is what people would take at a
    price equal to the labour value; the shops should also hold a buffer of
    ``buffer`` times that, so the deliveries are that demand plus the buffer
    less the stock they still hold.  Never negative.
    """
    t = np.asarray(targets, dtype=float)
    want = t * np.power(np.maximum(np.asarray(clearing_ratio, dtype=float), 1e-9), elasticity)
    return np.maximum(want * (1.0 + buffer) - np.asarray(closing_stock, dtype=float), 0.0)


def fit_working_week(
    personal_hours: float, other_hours: float, able: float, weeks: float, max_week: float | None
) -> tuple[float, float]:
    """``(factor, week)``: how much personal consumption must shrink so the working week
    stays within ``max_week`` (social consumption and investment are paid first), and the
    resulting week. ``factor`` is 1 when the cap does not bind, 0 when even the other
    purposes need more than the cap allows."""
    if able <= 0 or weeks <= 0:
        raise ValueError("fit_working_week needs able persons and weeks > 0.")
    week = (personal_hours + other_hours) / (able * weeks)
    if max_week is None or week <= max_week or personal_hours <= 0:
        return 1.0, week
    room = max_week * able * weeks - other_hours
    factor = max(room, 0.0) / personal_hours
    return factor, (other_hours + factor * personal_hours) / (able * weeks)


def dispersion(ratios: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Coefficient of variation of price/value ratios (weighted when ``weights`` given)."""
    r = np.asarray(ratios, dtype=float)
    if r.size == 0:
        return math.nan
    w = np.ones_like(r) if weights is None else np.asarray(weights, dtype=float)
    if not w.sum() > 0:
        return math.nan
    mean = float(np.average(r, weights=w))
    var = float(np.average((r - mean) ** 2, weights=w))
    return math.sqrt(var) / mean if mean > 0 else math.nan
