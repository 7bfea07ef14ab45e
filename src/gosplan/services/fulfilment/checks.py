"""The checks, vectorised over every enterprise and period at once (no storage, no I/O).

Inputs are two long tables and a :class:`Population`:

``reports``  one row per enterprise and period: ``enterprise`` (row in the
             population), ``period`` (column), ``output``, ``hours``,
             ``lag_days`` (days between the end of the period and receipt)
``lines``    one row per report line: ``enterprise``, ``period``, ``kind``
             (0 = input received, 1 = delivery made), ``counterparty``
             (row in the population), ``product`` (sector index), ``quantity``

:func:`build_panel` pivots them into enterprise × period arrays and
supplier–customer link × period arrays by integer scatter (``np.bincount``);
:func:`run_checks` then computes, with array arithmetic only:

================  ===========================================================
``late``          report received more than ``grace_days`` after the period,
                  or missing once that time has passed
``shortfall``     output below ``1 - shortfall_tol`` of the period's plan
``break``         the forecaster's probability of a step or slope change in
                  the period (as seen then, or once the next period is in)
                  above ``p_break``
``transient``     the period was a one-off outlier with probability above
                  ``p_transient`` (known once the next period is in)
``diversion``     inputs received per unit of reported output above the norm
``padding``       reported output without the inputs or hours it needs
                  (inputs or hours per unit below the norm)
``hours_excess``  hours per unit of output above the norm
``mismatch``      a supplier's reported delivery and the customer's reported
                  receipt differ (flags both sides)
================  ===========================================================

The norm and mismatch checks are robust z-tests on log ratios: the spread
``sigma`` is 1.4826 × the median absolute deviation over every enterprise
and period (so a minority of faulty reports cannot widen it), and a value is
flagged when it is beyond ``z`` sigmas *and* beyond a minimum relative gap
(``min_gap``; ``sector_norm_gap`` where only the sector's norm is known, since
a sector's norm also carries the spread of technique between its enterprises).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.services.fulfilment.forecast import Forecast, ForecastSettings, multiprocess_filter

CHECKS = ("late", "shortfall", "break", "transient", "diversion", "padding", "hours_excess",
          "mismatch")
#: checks that speak to the honesty of reports (they feed credibility)
INTEGRITY = ("late", "diversion", "padding", "hours_excess", "mismatch")
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


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds of the checks (see the module docstring)."""

    z: float = 5.0
    min_gap: float = 0.08  # minimum relative gap for norm and mismatch flags
    sector_norm_gap: float = 0.30  # minimum gap where only the sector's norm is known
    shortfall_tol: float = 0.25
    p_break: float = 0.6
    p_transient: float = 0.97
    grace_days: float = 3.0
    forecast: ForecastSettings = field(default_factory=ForecastSettings)


@dataclass
class CheckResult:
    """What the checks found.  ``masks[check]`` is an enterprise × period boolean array."""

    population: Population
    panel: Panel
    masks: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    sigma: dict[str, float]
    forecast: Forecast
    ratio: np.ndarray  # output / plan
    link_mask: np.ndarray  # link × period: mismatch flagged

    def any_flag(self, checks: Sequence[str] = CHECKS) -> np.ndarray:
        out = np.zeros((self.population.n, self.population.T), dtype=bool)
        for c in checks:
            out |= self.masks[c]
        return out

    def counts(self) -> dict[str, int]:
        return {c: int(m.sum()) for c, m in self.masks.items()}

    def flags(self, *, limit: int | None = None) -> pd.DataFrame:
        """One row per flag: enterprise, sector, period, check, value, detail (why)."""
        pop = self.population
        frames = []
        for check in CHECKS:
            e, t = np.nonzero(self.masks[check])
            if not len(e):
                continue
            v = self.values[check][e, t]
            frames.append(pd.DataFrame({
                "enterprise": pop.codes[e], "sector": np.asarray(pop.sectors, dtype=object)[
                    pop.sector[e]], "period": pop.periods[t], "check": check, "value": v,
                "e": e, "t": t}))
        if not frames:
            return pd.DataFrame(columns=["enterprise", "sector", "period", "check", "value",
                                         "detail"])
        df = pd.concat(frames, ignore_index=True).sort_values(["period", "enterprise", "check"])
        if limit is not None:
            df = df.head(limit)
        df["detail"] = [_detail(c, v) for c, v in zip(df["check"], df["value"], strict=True)]
        return df.drop(columns=["e", "t"]).reset_index(drop=True)

    def fulfilment(self, by: str = "sector") -> pd.DataFrame:
        """Output against plan, last period and cumulative, per enterprise, sector or economy."""
        pop, out = self.population, self.panel.output
        seen = np.isfinite(out)
        last = int(np.flatnonzero(seen.any(axis=0)).max()) if seen.any() else 0
        out0 = np.where(seen, out, 0.0)
        plan_seen = np.where(seen, pop.plan, 0.0)
        cum_out, cum_plan = out0[:, : last + 1].sum(1), pop.plan[:, : last + 1].sum(1)
        frame = pd.DataFrame({
            "enterprise": pop.codes,
            "sector": np.asarray(pop.sectors, dtype=object)[pop.sector],
            "period_output": out0[:, last], "period_plan": pop.plan[:, last],
            "cumulative_output": cum_out, "cumulative_plan": cum_plan,
            "reported_plan": plan_seen[:, : last + 1].sum(1),
            "flags": self.any_flag().sum(1),
        })
        if by == "enterprise":
            g = frame.set_index("enterprise")
        elif by == "sector":
            g = frame.groupby("sector", sort=False).sum(numeric_only=True)
        elif by == "economy":
            g = frame.sum(numeric_only=True).to_frame("economy").T
        else:
            raise ValidationError(f"fulfilment table `by` must be enterprise, sector or "
                                  f"economy; got {by!r}.")
        g = g.copy()
        g["period_pct"] = 100 * g["period_output"] / g["period_plan"].where(g["period_plan"] > 0)
        g["cumulative_pct"] = 100 * g["cumulative_output"] / g["cumulative_plan"].where(
            g["cumulative_plan"] > 0)
        g.attrs["period"] = pop.periods[last]
        return g


def _detail(check: str, v: float) -> str:
    if check == "late":
        return ("no report received" if not np.isfinite(v)
                else f"report received {v:.1f} days after the period ended")
    if check == "shortfall":
        return f"output {100 * v:.0f} % of plan"
    if check == "break":
        return f"probability of a step or slope change {v:.2f}"
    if check == "transient":
        return f"probability of a one-off transient {v:.2f}"
    if check == "diversion":
        return f"inputs {100 * (np.exp(v) - 1):+.0f} % against the norm for the output reported"
    if check == "padding":
        return (f"inputs or hours {100 * (np.exp(v) - 1):+.0f} % against the norm: output "
                "reported without what it needs")
    if check == "hours_excess":
        return f"hours {100 * (np.exp(v) - 1):+.0f} % against the norm for the output reported"
    if check == "mismatch":
        return f"largest delivery/receipt gap {100 * (np.exp(v) - 1):+.0f} % with a counterparty"
    return f"{v:g}"


def _scatter(idx: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=size)


def build_panel(pop: Population, reports: pd.DataFrame, lines: pd.DataFrame) -> Panel:
    """Pivot the long tables into arrays (see the module docstring for their columns)."""
    E, T = pop.n, pop.T
    for name, frame, cols in (("reports", reports, ("enterprise", "period", "output", "hours",
                                                      "lag_days")),
                              ("lines", lines, ("enterprise", "period", "kind", "counterparty",
                                                "product", "quantity"))):
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
    return Panel(output=output.reshape(E, T), hours=hours.reshape(E, T),
                 inputs=inputs.reshape(E, T), lag_days=lag.reshape(E, T),
                 link_supplier=sup_k, link_customer=cus_k, delivered=delivered,
                 received=received)


def _robust_sigma(d: np.ndarray) -> float:
    v = d[np.isfinite(d)]
    if v.size == 0:
        return float("nan")
    med = np.median(v)
    return float(max(1.4826 * np.median(np.abs(v - med)), 1e-6))


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        r = np.log(a / b)
    return np.where(np.isfinite(r), r, np.nan)


def run_checks(pop: Population, panel: Panel, *, as_of: pd.Timestamp | None = None,
               settings: CheckSettings | None = None) -> CheckResult:
    """Every check on every enterprise and period (see the module docstring)."""
    s = settings or CheckSettings()
    E, T = pop.n, pop.T
    masks: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    sigma: dict[str, float] = {}
    out = panel.output
    # late / missing
    due = np.ones(T, dtype=bool) if as_of is None else np.asarray(
        (pop.period_ends + pd.Timedelta(days=s.grace_days)) < as_of)
    lag = panel.lag_days
    masks["late"] = (lag > s.grace_days) | (~np.isfinite(lag) & due[None, :])
    values["late"] = lag
    # fulfilment of the period's plan
    with np.errstate(all="ignore"):
        ratio = out / np.where(pop.plan > 0, pop.plan, np.nan)
    masks["shortfall"] = ratio < 1.0 - s.shortfall_tol
    values["shortfall"] = ratio
    # forecaster over output / plan
    fc = multiprocess_filter(ratio, s.forecast)
    with np.errstate(invalid="ignore"):
        p_now = np.nan_to_num(fc.probability("step") + fc.probability("slope"))
        p_back = np.nan_to_num(fc.probability("step", smoothed=True)
                               + fc.probability("slope", smoothed=True))
        p_tr_back = np.nan_to_num(fc.probability("transient", smoothed=True))
    # what the next period revealed about this one (known one period later)
    p_back = np.concatenate([p_back[:, 1:], np.zeros((E, 1))], axis=1)
    p_tr_back = np.concatenate([p_tr_back[:, 1:], np.zeros((E, 1))], axis=1)
    p_change = np.maximum(p_now, p_back)
    masks["break"] = p_change > s.p_break
    values["break"] = p_change
    masks["transient"] = (p_tr_back > s.p_transient) & ~masks["break"]
    values["transient"] = p_tr_back
    # norms
    thr_min = np.log1p(s.min_gap)
    d_in = _log_ratio(panel.inputs, out * pop.input_norm_total()[:, None])
    d_h = _log_ratio(panel.hours, out * pop.hours_norm[:, None])
    own_in = np.ones(E, bool) if pop.own_norms is None else np.asarray(pop.own_norms, bool)
    own_h = np.ones(E, bool) if pop.own_hours is None else np.asarray(pop.own_hours, bool)
    # the spread of honest reporting is measured where the enterprise's own norm is known;
    # a sector norm also carries the spread of technique between enterprises
    sigma["inputs"] = si = _robust_sigma(d_in[own_in] if own_in.any() else d_in)
    sigma["hours"] = sh = _robust_sigma(d_h[own_h] if own_h.any() else d_h)
    thr_sector = np.log1p(s.sector_norm_gap)
    t_in = np.where(own_in, max(s.z * si, thr_min), max(s.z * si, thr_sector))[:, None]
    t_h = np.where(own_h, max(s.z * sh, thr_min), max(s.z * sh, thr_sector))[:, None]
    masks["diversion"] = d_in > t_in
    values["diversion"] = d_in
    low_in, low_h = d_in < -t_in, d_h < -t_h
    masks["padding"] = low_in | low_h
    values["padding"] = np.where(low_in, d_in, d_h)
    masks["hours_excess"] = d_h > t_h
    values["hours_excess"] = d_h
    # supplier deliveries against customer receipts
    gap = _log_ratio(panel.delivered, panel.received)
    both_zero = (panel.delivered == 0) & (panel.received == 0)
    one_zero = ((panel.delivered == 0) ^ (panel.received == 0)) & np.isfinite(
        panel.delivered) & np.isfinite(panel.received)
    gap = np.where(both_zero, 0.0, np.where(one_zero, np.log(1e6) * np.sign(
        np.nan_to_num(panel.delivered) - np.nan_to_num(panel.received)), gap))
    sigma["mismatch"] = sg = _robust_sigma(gap)
    link_mask = np.abs(gap) > max(s.z * sg, thr_min)
    li, lt = np.nonzero(link_mask)
    mm = np.zeros(E * T, dtype=bool)
    mm[panel.link_supplier[li] * T + lt] = True
    mm[panel.link_customer[li] * T + lt] = True
    masks["mismatch"] = mm.reshape(E, T)
    worst = np.zeros(E * T)
    g = np.abs(gap[li, lt])
    for side in (panel.link_supplier[li], panel.link_customer[li]):
        np.maximum.at(worst, side * T + lt, g)
    values["mismatch"] = worst.reshape(E, T)
    return CheckResult(population=pop, panel=panel, masks=masks, values=values, sigma=sigma,
                       forecast=fc, ratio=ratio, link_mask=link_mask)


def credibility(result: CheckResult, *, discount: float = 0.9, prior_clean: float = 4.0,
                prior_flagged: float = 1.0) -> pd.DataFrame:
    """Credibility of each enterprise's reports from its history of discrepancies.

    A Beta–Bernoulli estimate of the chance that a report is free of integrity
    flags (late, diversion, padding, hours, mismatch), with past periods
    discounted by ``discount`` per period: ``(a + clean) / (a + b + all)``.
    Returns the score after the last period and the count of flagged periods.
    """
    flagged = result.any_flag(INTEGRITY)
    seen = np.isfinite(result.panel.output) | flagged
    T = flagged.shape[1]
    w = discount ** np.arange(T - 1, -1, -1, dtype=float)
    bad = (flagged * w).sum(1)
    total = (seen * w).sum(1)
    score = (prior_clean + total - bad) / (prior_clean + prior_flagged + total)
    pop = result.population
    return pd.DataFrame({"enterprise": pop.codes,
                         "sector": np.asarray(pop.sectors, dtype=object)[pop.sector],
                         "credibility": score, "flagged_periods": flagged.sum(1)}
                        ).set_index("enterprise")
