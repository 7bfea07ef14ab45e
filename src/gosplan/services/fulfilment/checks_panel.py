"""The checks' inputs: the :class:`Population` of enterprises and the :class:`Panel` of
enterprise × period and link × period arrays that :func:`build_panel` pivots the long
tables of reports and report lines into (see :mod:`.checks` for their columns)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError

INPUT, DELIVERY = 0, 1


@dataclass
class Population:
    """Enterprises, their plan and norms, as arrays (row ``e`` = enterprise ``codes[e]``).

    ``norm_enterprise/norm_product/norm_per_unit`` list the input norms (one
    row per enterprise and input product; sector norms are expanded to every
    enterprise of the sector); ``hours_norm[e]`` is hours per unit of output.
    ``plan[e, t]`` is the planned output of enterprise ``e`` in period ``t``.
    """

    codes: np.ndarray
    sector: np.ndarray
    sectors: list[str]
    capacity: np.ndarray
    hours_norm: np.ndarray
    norm_enterprise: np.ndarray
    norm_product: np.ndarray
    norm_per_unit: np.ndarray
    periods: pd.DatetimeIndex
    period_ends: pd.DatetimeIndex
    plan: np.ndarray
    output_unit: str = "unit"
    hours_unit: str = "hours"
    #: per enterprise: are its input norms / hours norm its own (else the sector's)?
    own_norms: np.ndarray | None = None
    own_hours: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def T(self) -> int:
        return len(self.periods)

    def input_norm_total(self) -> np.ndarray:
        """Sum of input norms per enterprise (inputs per unit of output, tracked products)."""
        return np.bincount(self.norm_enterprise, weights=self.norm_per_unit, minlength=self.n)

    def norm_keys(self) -> np.ndarray:
        P = len(self.sectors)
        return np.unique(self.norm_enterprise.astype(np.int64) * P + self.norm_product)


@dataclass
class Panel:
    """Enterprise × period arrays and link × period arrays (NaN = not reported)."""

    output: np.ndarray
    hours: np.ndarray
    inputs: np.ndarray
    lag_days: np.ndarray
    link_supplier: np.ndarray
    link_customer: np.ndarray
    delivered: np.ndarray
    received: np.ndarray


def _scatter(idx: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=size)


def build_panel(pop: Population, reports: pd.DataFrame, lines: pd.DataFrame) -> Panel:
    """Pivot the long tables into arrays (see the module docstring for their columns)."""
    E, T = pop.n, pop.T
    for name, frame, cols in (
        ("reports", reports, ("enterprise", "period", "output", "hours", "lag_days")),
        ("lines", lines, ("enterprise", "period", "kind", "counterparty", "product", "quantity")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValidationError(f"`{name}` of build_panel lacks columns {missing}.")
    re_ = reports["enterprise"].to_numpy(np.int64)
    rt = reports["period"].to_numpy(np.int64)
    flat = re_ * T + rt
    output = np.full(E * T, np.nan)
    hours = np.full(E * T, np.nan)
    lag = np.full(E * T, np.nan)
    output[flat] = reports["output"].to_numpy(float)
    hours[flat] = reports["hours"].to_numpy(float)
    lag[flat] = reports["lag_days"].to_numpy(float)
    le = lines["enterprise"].to_numpy(np.int64)
    lt = lines["period"].to_numpy(np.int64)
    lk = lines["kind"].to_numpy()
    lc = lines["counterparty"].to_numpy(np.int64)
    lp = lines["product"].to_numpy(np.int64)
    lq = lines["quantity"].to_numpy(float)
    # inputs with a norm, per enterprise-period
    is_in = lk == INPUT
    P = len(pop.sectors)
    has_norm = np.zeros(E * P, dtype=bool)  # dense lookup: O(lines), no sorting
    has_norm[pop.norm_enterprise.astype(np.int64) * P + pop.norm_product] = True
    normed = is_in & has_norm[le * P + lp]
    inputs = _scatter(le[normed] * T + lt[normed], lq[normed], E * T)
    has_report = np.isfinite(output)
    inputs = np.where(has_report, inputs, np.nan)
    # links: (supplier, customer) pairs seen on either side (hash factorisation, no sort)
    sup = np.where(is_in, lc, le)
    cus = np.where(is_in, le, lc)
    pair = sup * E + cus
    inv, keys = pd.factorize(pair, sort=False)
    keys = np.asarray(keys, dtype=np.int64)
    L = len(keys)
    cell = inv.astype(np.int64) * T + lt
    delivered = _scatter(cell[~is_in], lq[~is_in], L * T)
    received = _scatter(cell[is_in], lq[is_in], L * T)
    # a side that filed no report for the period is missing, not zero
    sup_k, cus_k = keys // E, keys % E
    hr = has_report.reshape(E, T)
    delivered = np.where(hr[sup_k], delivered.reshape(L, T), np.nan)
    received = np.where(hr[cus_k], received.reshape(L, T), np.nan)
    return Panel(
        output=output.reshape(E, T),
        hours=hours.reshape(E, T),
        inputs=inputs.reshape(E, T),
        lag_days=lag.reshape(E, T),
        link_supplier=sup_k,
        link_customer=cus_k,
        delivered=delivered,
        received=received,
    )
