"""Market-clearing feedback to the plan.

After Cockshott and Cottrell, *Towards a New Socialism*, ch. 8: see :func:`clearing_ratio`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def clearing_ratio(
    ratio: float,
    sold: float,
    available: float,
    *,
    elasticity: float = 1.0,
    target_sell_through: float = 0.9,
    max_step: float = 0.25,
) -> tuple[float, bool]:
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
    return float(clearing**elasticity)


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
