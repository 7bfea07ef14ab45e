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
:func:`run_checks` then computes, with array arithmetic only and *causally*
(what is raised for week ``t`` uses only weeks up to ``t``, the noise and
norms only weeks before it, so a weekly run never re-opens the past):

=====================  ======================================================
``late``               report received more than ``grace_days`` after the
                       period, or missing once that time has passed
``shortfall``          output below ``1 - shortfall_tol`` of the week's plan
``break``, ``transient`` the forecaster's probability of a step or slope
                       change / a one-off outlier (information, no alert)
``padding``            output reported without the inputs and hours it
                       needs: all per-unit residuals together low this week,
                       or accumulating low (CUSUM)
``hours_excess``       hours per unit of output above the learnt norm
``diversion``          inputs per unit of output above the learnt norm (one
                       line far above, or all together accumulating)
``mismatch``           a supplier's delivery and the customer's receipt
                       differ; raised on the side whose own figures moved
                       away from its history (on both when neither did)
``partner_differs``  the other side of such a gap (information, no alert)
``balance``            deliveries over ``balance_weeks`` above the
                       supplier's output in those weeks plus
                       ``stock_weeks`` weeks of stock
``copying``            output and hours identical to an earlier week's
``smooth``             week-to-week changes far smaller than the
                       enterprise's own history (chi-square lower tail)
``heaping``            most recent figures round (few significant digits)
=====================  ======================================================

Norms are estimates (:mod:`.estimates`): learnt per enterprise from its own
history (median and MAD), shrunk toward its sector's (empirical Bayes) with
the register's engineering norm as a prior where there is one, and each
residual is divided by the norm's uncertainty as well as the noise, so no
fixed minimum gap is needed.  Small persistent deviations accumulate in a
two-sided CUSUM of Huber-clipped standardised residuals.

:data:`INTEGRITY` checks send an enterprise to *inspection*; a shortfall in
a week without any of them is consistent (inputs, hours and deliveries
moved with output) and goes to *help* (:meth:`CheckResult.routes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import chi2

from gosplan.errors import ValidationError
from gosplan.services.fulfilment.estimates import NormSettings, combine, cusum, estimate_norms
from gosplan.services.fulfilment.forecast import Forecast, ForecastSettings, multiprocess_filter

CHECKS = (
    "late",
    "shortfall",
    "break",
    "transient",
    "padding",
    "hours_excess",
    "diversion",
    "mismatch",
    "partner_differs",
    "balance",
    "copying",
    "smooth",
    "heaping",
)
#: checks that speak to the honesty of reports: they send an enterprise to inspection
INTEGRITY = (
    "late",
    "padding",
    "hours_excess",
    "diversion",
    "mismatch",
    "balance",
    "copying",
    "smooth",
    "heaping",
)
#: checks that ask for help when the reports are consistent
HELP = ("shortfall",)
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

    z_week: float = 20.0  # one week's standardised residual that alone raises a flag
    z_pair: float = 3.5  # ... or two weeks running beyond this
    z_gap: float = 25.0  # one week's delivery/receipt gap (recording noise is small)
    z_line: float = 5.0  # two weeks running of one input line (several lines per enterprise)
    cusum_k: float = 0.75  # CUSUM reference (half the shift, in sd, it is tuned to find)
    gap_k: float = 1.0  # CUSUM reference of delivery/receipt gaps and of inputs above norm
    cusum_h: float = 10.0  # CUSUM decision interval
    huber_c: float = 2.5  # a week's residual is clipped at this before it accumulates
    blame_margin: float = 2.0  # how much further one side's figures must have moved
    balance_weeks: int = 4
    stock_weeks: float = 8.0  # weeks of output a supplier may deliver from stock
    copy_lookback: int = 8
    smooth_weeks: int = 4
    smooth_p: float = 1e-8  # chi-square lower-tail probability for "too smooth"
    round_digits: int = 2
    round_weeks: int = 4
    round_min: int = 6  # round figures (output and hours) in the last round_weeks
    shortfall_tol: float = 0.25
    help_weeks: int = 4  # a shortfall with no integrity flag in this many weeks is help
    help_z: float = 4.0  # ... if it lasts, or falls this many forecast sd below the forecast
    p_break: float = 0.6
    p_transient: float = 0.97
    grace_days: float = 3.0
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    norms: NormSettings = field(default_factory=NormSettings)


@dataclass
class CheckResult:
    """What the checks found.  ``masks[check]`` is an enterprise × period boolean array."""

    population: Population
    panel: Panel
    masks: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    z: dict[str, np.ndarray]  # standardised residuals: hours, inputs, needs (all per unit)
    stats: dict[str, np.ndarray]  # CUSUM paths and counts behind the flags
    forecast: Forecast
    ratio: np.ndarray  # output / plan
    link_mask: np.ndarray  # link × period: mismatch flagged
    link_blame: np.ndarray  # link × period: 0 none, 1 supplier, 2 customer, 3 undecided
    link_z: tuple[np.ndarray, np.ndarray, np.ndarray]  # gap, supplier side, customer side

    def any_flag(self, checks: Sequence[str] = CHECKS) -> np.ndarray:
        out = np.zeros((self.population.n, self.population.T), dtype=bool)
        for c in checks:
            out |= self.masks[c]
        return out

    def routes(self, settings: CheckSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inspection, help) masks: an integrity flag this week sends the enterprise to
        inspection; a shortfall with no integrity flag in the last ``help_weeks`` weeks
        (the reports moved together) asks for help when it lasts (two weeks running) or
        lies beyond ``help_z`` of the enterprise's own forecast band.  Any other
        shortfall week is information only (ordinary noise below the line)."""
        s = settings or CheckSettings()
        inspect = self.any_flag(INTEGRITY)
        short = self.any_flag(HELP)
        lasting = short.copy()
        lasting[:, 1:] &= short[:, :-1]
        lasting[:, 0] = False
        with np.errstate(invalid="ignore"):
            surprising = (self.ratio - self.forecast.forecast) < -s.help_z * self.forecast.sd
        helped = short & (lasting | surprising) & ~_recent(inspect, s.help_weeks)
        return inspect, helped

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
            frames.append(
                pd.DataFrame(
                    {
                        "enterprise": pop.codes[e],
                        "sector": np.asarray(pop.sectors, dtype=object)[pop.sector[e]],
                        "period": pop.periods[t],
                        "check": check,
                        "value": v,
                        "e": e,
                        "t": t,
                    }
                )
            )
        if not frames:
            return pd.DataFrame(
                columns=[
                    "enterprise",
                    "sector",
                    "period",
                    "check",
                    "value",
                    "detail",
                    "route",
                    "evidence",
                ]
            )
        df = pd.concat(frames, ignore_index=True).sort_values(["period", "enterprise", "check"])
        if limit is not None:
            df = df.head(limit)
        df["detail"] = [_detail(c, v) for c, v in zip(df["check"], df["value"], strict=True)]
        df["route"] = np.where(
            df["check"].isin(INTEGRITY),
            "inspection",
            np.where(df["check"].isin(HELP), "help", "information"),
        )
        ev = self._evidence(df["e"].to_numpy(np.int64), df["t"].to_numpy(np.int64))
        df["evidence"] = ev
        ins, hlp = self.routes()
        ei, ti = df["e"].to_numpy(np.int64), df["t"].to_numpy(np.int64)
        recent = _recent(ins, CheckSettings().help_weeks)[ei, ti]
        is_help = df["check"].isin(HELP).to_numpy()
        df.loc[is_help & ~hlp[ei, ti], "route"] = "information"
        df.loc[is_help & recent, "route"] = "inspection"
        return df.drop(columns=["e", "t"]).reset_index(drop=True)

    def _evidence(self, e: np.ndarray, t: np.ndarray) -> list[str]:
        """The numbers behind a flag, in words: per-unit residuals and their CUSUMs."""
        zh, zi, zn = (self.z[k][e, t] for k in ("hours", "inputs", "needs"))
        cl = self.stats["needs_cusum_low"][e, t]
        ch = self.stats["hours_cusum"][e, t]
        ci = self.stats["inputs_cusum"][e, t]
        lvl = self.forecast.level[e, t]

        def f(x: float) -> str:
            return f"{x:+.1f}" if np.isfinite(x) else "n/a"

        return [
            f"residuals in sd of this enterprise's learnt norms: hours/output {f(a)}, "
            f"inputs/output {f(b)}, all needs {f(c)}; CUSUM needs-low {d:.1f}, "
            f"hours {g:.1f}, inputs {h:.1f}; output/plan level {f(lv)}"
            for a, b, c, d, g, h, lv in zip(zh, zi, zn, cl, ch, ci, lvl, strict=True)
        ]

    def fulfilment(self, by: str = "sector") -> pd.DataFrame:
        """Output against plan, last period and cumulative, per enterprise, sector or economy."""
        pop, out = self.population, self.panel.output
        seen = np.isfinite(out)
        last = int(np.flatnonzero(seen.any(axis=0)).max()) if seen.any() else 0
        out0 = np.where(seen, out, 0.0)
        plan_seen = np.where(seen, pop.plan, 0.0)
        cum_out, cum_plan = out0[:, : last + 1].sum(1), pop.plan[:, : last + 1].sum(1)
        frame = pd.DataFrame(
            {
                "enterprise": pop.codes,
                "sector": np.asarray(pop.sectors, dtype=object)[pop.sector],
                "period_output": out0[:, last],
                "period_plan": pop.plan[:, last],
                "cumulative_output": cum_out,
                "cumulative_plan": cum_plan,
                "reported_plan": plan_seen[:, : last + 1].sum(1),
                "flags": self.any_flag().sum(1),
            }
        )
        if by == "enterprise":
            g = frame.set_index("enterprise")
        elif by == "sector":
            g = frame.groupby("sector", sort=False).sum(numeric_only=True)
        elif by == "economy":
            g = frame.sum(numeric_only=True).to_frame("economy").T
        else:
            raise ValidationError(
                f"fulfilment table `by` must be enterprise, sector or economy; got {by!r}."
            )
        g = g.copy()
        g["period_pct"] = 100 * g["period_output"] / g["period_plan"].where(g["period_plan"] > 0)
        g["cumulative_pct"] = (
            100 * g["cumulative_output"] / g["cumulative_plan"].where(g["cumulative_plan"] > 0)
        )
        g.attrs["period"] = pop.periods[last]
        return g


def _detail(check: str, v: float) -> str:
    if check == "late":
        return (
            "no report received"
            if not np.isfinite(v)
            else f"report received {v:.1f} days after the period ended"
        )
    if check == "shortfall":
        return f"output {100 * v:.0f} % of plan"
    if check == "break":
        return f"probability of a step or slope change {v:.2f}"
    if check == "transient":
        return f"probability of a one-off transient {v:.2f}"
    if check == "diversion":
        return (
            f"an input per unit of output {v:+.1f} sd from this enterprise's learnt norm "
            "(or inputs accumulating above it)"
        )
    if check == "padding":
        return (
            f"inputs and hours per unit of output {v:+.1f} sd from the learnt norms "
            "(this week or accumulated): output reported without what it needs"
        )
    if check == "hours_excess":
        return f"hours per unit of output {v:+.1f} sd from the learnt norm (or accumulating)"
    if check in ("mismatch", "partner_differs") and abs(v) >= np.log(1e6) - 1e-9:
        return "one side reports a delivery or receipt that the other side reports as nothing" + (
            "; this side's own figures moved away from its history"
            if check == "mismatch"
            else "; this side's figures agree with its own history"
        )
    if check == "mismatch":
        return (
            f"largest delivery/receipt gap {100 * (np.exp(v) - 1):+.0f} % with a "
            "counterparty; this side's own figures moved away from its history"
        )
    if check == "partner_differs":
        return (
            f"a counterparty's figure differs by {100 * (np.exp(v) - 1):+.0f} %; this "
            "side's figures agree with its own history"
        )
    if check == "balance":
        return f"deliveries {100 * v:.0f} % of own output over 4 weeks, beyond output and stock"
    if check == "copying":
        return f"output and hours identical to those of {v:.0f} week(s) before"
    if check == "smooth":
        return f"week-to-week changes {np.sqrt(v):.2f} of this enterprise's usual size"
    if check == "heaping":
        return f"{v:.0f} round figures in the last weeks"
    return f"{v:g}"


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


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        r = np.log(a / b)
    return np.where(np.isfinite(r), r, np.nan)


def _dense_groups(*keys: np.ndarray) -> np.ndarray:
    """One group id per row from several integer keys (hash factorisation)."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64)
    code = np.zeros(len(keys[0]), dtype=np.int64)
    for k in keys:
        code = code * (int(np.max(k)) + 1) + np.asarray(k, dtype=np.int64)
    return pd.factorize(code, sort=False)[0].astype(np.int64)


def _round_figure(x: np.ndarray, digits: int) -> np.ndarray:
    """True where a positive figure has at most ``digits`` significant digits."""
    with np.errstate(all="ignore"):
        mag = np.floor(np.log10(np.where(x > 0, x, np.nan))) - (digits - 1)
        scaled = x / 10.0**mag
        return np.isfinite(scaled) & (np.abs(scaled - np.round(scaled)) < 1e-9 * scaled)


def _max_by(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Largest finite value per owner and week (NaN where none); only rows with one count."""
    out = np.full((n, values.shape[1]), -np.inf)
    rows = np.flatnonzero(np.isfinite(values).any(axis=1))
    if len(rows):
        np.maximum.at(out, owner[rows], np.where(np.isfinite(values[rows]), values[rows], -np.inf))
    return np.where(np.isfinite(out), out, np.nan)


def _any_by(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per owner and week: does any of its rows hold?"""
    rows = np.flatnonzero(mask.any(axis=1))
    out = np.zeros((n, mask.shape[1]), dtype=bool)
    if len(rows):
        np.logical_or.at(out, owner[rows], mask[rows])
    return out


def _high(
    z: np.ndarray, s: CheckSettings, z_week: float | None = None, z_pair: float | None = None
) -> np.ndarray:
    """One week beyond ``z_week``, or this week and the one before both beyond ``z_pair``."""
    with np.errstate(invalid="ignore"):
        big = z > (s.z_week if z_week is None else z_week)
        pair = z > (s.z_pair if z_pair is None else z_pair)
    both = pair.copy()
    both[:, 1:] &= pair[:, :-1]
    both[:, 0] = False
    return big | both


def _recent(mask: np.ndarray, weeks: int) -> np.ndarray:
    """True where ``mask`` holds in this week or one of the ``weeks - 1`` before it."""
    out = mask.copy()
    for j in range(1, weeks):
        out[:, j:] |= mask[:, :-j]
    return out


def run_checks(
    pop: Population,
    panel: Panel,
    *,
    as_of: pd.Timestamp | None = None,
    settings: CheckSettings | None = None,
) -> CheckResult:
    """Every check on every enterprise and week, each week judged only by what came
    before it (see the module docstring): ``masks[c][e, t]`` is what the weekly run
    that first sees week ``t`` raises, and no later week changes it."""
    s = settings or CheckSettings()
    ns = s.norms
    E, T = pop.n, pop.T
    masks: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    z: dict[str, np.ndarray] = {}
    out = panel.output
    seen = np.isfinite(out)
    # late / missing
    due = (
        np.ones(T, dtype=bool)
        if as_of is None
        else np.asarray((pop.period_ends + pd.Timedelta(days=s.grace_days)) < as_of)
    )
    lag = panel.lag_days
    masks["late"] = (lag > s.grace_days) | (~np.isfinite(lag) & due[None, :])
    values["late"] = lag
    # fulfilment of the period's plan, and the forecaster over output / plan
    with np.errstate(all="ignore"):
        ratio = out / np.where(pop.plan > 0, pop.plan, np.nan)
    fc = multiprocess_filter(ratio, s.forecast)
    masks["shortfall"] = ratio < 1.0 - s.shortfall_tol
    values["shortfall"] = ratio
    with np.errstate(invalid="ignore"):
        p_now = np.nan_to_num(fc.probability("step") + fc.probability("slope"))
        # what this week revealed about the one before (known now, raised now)
        p_back = np.nan_to_num(
            fc.probability("step", smoothed=True) + fc.probability("slope", smoothed=True)
        )
        p_tr_back = np.nan_to_num(fc.probability("transient", smoothed=True))
    p_change = np.maximum(p_now, p_back)
    masks["break"] = p_change > s.p_break
    values["break"] = p_change
    masks["transient"] = (p_tr_back > s.p_transient) & ~masks["break"]
    values["transient"] = p_tr_back
    # hours per unit of output, against a norm learnt from the enterprise's own history
    d_h = _log_ratio(panel.hours, out)
    own_h = np.ones(E, bool) if pop.own_hours is None else np.asarray(pop.own_hours, bool)
    with np.errstate(all="ignore"):
        prior_h = np.where(own_h & (pop.hours_norm > 0), np.log(pop.hours_norm), np.nan)
    z["hours"] = zh = estimate_norms(d_h, pop.sector, prior=prior_h, settings=ns).z(d_h)
    # each input line per unit of the customer's output (per supplier link)
    sup, cus = panel.link_supplier, panel.link_customer
    d_in = _log_ratio(panel.received, out[cus])
    line_group = _dense_groups(pop.sector[cus], pop.sector[sup])
    prior_in = _line_prior(pop, sup, cus)
    z_in = estimate_norms(d_in, line_group, prior=prior_in, settings=ns).z(d_in)
    zin_e, n_in = combine(z_in, cus, E)
    zin_max = _max_by(z_in, cus, E)
    # output against everything it needs: all per-unit residuals together
    with np.errstate(all="ignore"):
        u = (np.nan_to_num(zh) + np.nan_to_num(zin_e) * np.sqrt(n_in)) / np.sqrt(
            np.isfinite(zh) + n_in
        )
    u = np.where(np.isfinite(zh) | (n_in > 0), u, np.nan)
    z["needs"] = u
    z["inputs"] = zin_e
    c_u = cusum(u, k=s.cusum_k, h=s.cusum_h, clip=s.huber_c)
    c_h = cusum(zh, k=s.cusum_k, h=s.cusum_h, clip=s.huber_c)
    c_in = cusum(zin_e, k=s.gap_k, h=s.cusum_h, clip=s.huber_c)
    masks["padding"] = _high(-u, s) | c_u.alarm_down
    values["padding"] = u
    masks["hours_excess"] = (_high(zh, s) | c_h.alarm_up) & ~masks["padding"]
    values["hours_excess"] = zh
    line_high = _any_by(_high(z_in, s, z_pair=s.z_line), cus, E)
    masks["diversion"] = line_high | c_in.alarm_up
    values["diversion"] = zin_max
    # supplier's delivery against the customer's receipt, and who the evidence supports
    gap = _log_ratio(panel.delivered, panel.received)
    fin = np.isfinite(panel.delivered) & np.isfinite(panel.received)
    both_zero = (panel.delivered == 0) & (panel.received == 0)
    one_zero = ((panel.delivered == 0) ^ (panel.received == 0)) & fin
    gap = np.where(
        both_zero,
        0.0,
        np.where(
            one_zero,
            np.log(1e6) * np.sign(np.nan_to_num(panel.delivered) - np.nan_to_num(panel.received)),
            gap,
        ),
    )
    z_gap = estimate_norms(gap, np.zeros(len(sup), np.int64), settings=ns).z(gap)
    z_gap = np.where(one_zero, np.sign(gap) * 1e3, z_gap)
    c_gap = cusum(z_gap, k=s.gap_k, h=s.cusum_h, clip=s.huber_c)
    link_mask = (
        _high(z_gap, s, s.z_gap, 2 * s.z_pair)
        | _high(-z_gap, s, s.z_gap, 2 * s.z_pair)
        | c_gap.alarm_up
        | c_gap.alarm_down
    )
    # the supplier's side: its delivery per unit of its own output, learnt per link; only
    # links with a gap need it (the group is all links of the same sector pair)
    d_sup = _log_ratio(panel.delivered, out[sup])
    sup_group = _dense_groups(pop.sector[sup], pop.sector[cus])
    z_sup = np.full(d_sup.shape, np.nan)
    gapped = np.flatnonzero(link_mask.any(axis=1))
    if len(gapped):
        same = np.isin(sup_group, sup_group[gapped])
        z_sup[same] = estimate_norms(d_sup[same], pd.factorize(sup_group[same])[0], settings=ns).z(
            d_sup[same]
        )
    z_cus = np.where(one_zero & (panel.received == 0), -1e3, z_in)
    z_sup = np.where(one_zero & (panel.delivered == 0), -1e3, z_sup)
    a_sup, a_cus = np.abs(np.nan_to_num(z_sup)), np.abs(np.nan_to_num(z_cus))
    blame = np.where(
        a_sup - a_cus > s.blame_margin, 1, np.where(a_cus - a_sup > s.blame_margin, 2, 3)
    )
    blame = np.where(link_mask, blame, 0).astype(np.int8)
    mm = _any_by((blame == 1) | (blame == 3), sup, E) | _any_by((blame == 2) | (blame == 3), cus, E)
    partner = _any_by(blame == 2, sup, E) | _any_by(blame == 1, cus, E)
    masks["mismatch"] = mm
    values["mismatch"] = _max_by(np.where(link_mask, np.abs(gap), np.nan), sup, E)
    values["mismatch"] = np.fmax(
        values["mismatch"], _max_by(np.where(link_mask, np.abs(gap), np.nan), cus, E)
    )
    masks["partner_differs"] = partner & ~mm
    values["partner_differs"] = values["mismatch"]
    # deliveries against the supplier's own output and stock
    delivered_e = np.asarray(
        sp.csr_matrix((np.ones(len(sup)), (sup, np.arange(len(sup)))), shape=(E, len(sup)))
        @ np.nan_to_num(panel.delivered)
    )
    w = s.balance_weeks
    cum_d = np.cumsum(delivered_e, axis=1)
    cum_y = np.cumsum(np.nan_to_num(out), axis=1)
    d_w = cum_d - np.concatenate([np.zeros((E, w)), cum_d[:, :-w]], axis=1)[:, :T]
    y_w = cum_y - np.concatenate([np.zeros((E, w)), cum_y[:, :-w]], axis=1)[:, :T]
    with np.errstate(all="ignore"):
        masks["balance"] = seen & (d_w > y_w * (1.0 + s.stock_weeks / w))
        values["balance"] = np.where(y_w > 0, d_w / y_w, np.nan)
    # fabrication signs: a report repeating an earlier one, noise too smooth, round figures
    masks["copying"], values["copying"] = _copies(out, panel.hours, s.copy_lookback)
    dlo = np.diff(np.log(np.where(out > 0, out, np.nan)), axis=1, prepend=np.nan)
    dlh = np.diff(np.log(np.where(panel.hours > 0, panel.hours, np.nan)), axis=1, prepend=np.nan)
    q = np.zeros((E, T))
    dof = np.zeros((E, T))
    for dl in (dlo, dlh):
        spread = estimate_norms(dl, pop.sector, settings=ns).noise
        with np.errstate(all="ignore"):
            x = (dl / spread) ** 2
        for j in range(s.smooth_weeks):
            shift = min(j, int(T))  # a window longer than the periods reported so far
            xs = np.concatenate([np.full((E, shift), np.nan), x[:, : T - shift]], axis=1)
            q += np.nan_to_num(xs)
            dof += np.isfinite(xs)
    smooth_thr = chi2.ppf(s.smooth_p, np.arange(1, 4 * s.smooth_weeks + 2))[
        np.maximum(dof, 1).astype(np.int64) - 1
    ]
    masks["smooth"] = seen & (dof >= 2 * s.smooth_weeks) & (q < smooth_thr) & ~masks["copying"]
    values["smooth"] = np.where(dof > 0, q / np.maximum(dof, 1), np.nan)
    rnd = _round_figure(out, s.round_digits).astype(int) + _round_figure(
        panel.hours, s.round_digits
    ).astype(int)
    cum_r = np.cumsum(rnd, axis=1)
    w = s.round_weeks
    recent = cum_r - np.concatenate([np.zeros((E, w), int), cum_r[:, :-w]], axis=1)[:, :T]
    before = np.concatenate([np.zeros((E, w), int), cum_r[:, :-w]], axis=1)[:, :T]
    n_before = np.maximum(np.arange(T) - w + 1, 0)[None, :] * 2
    with np.errstate(all="ignore"):
        rate_before = np.where(n_before > 0, before / n_before, 0.0)
    masks["heaping"] = seen & (recent >= s.round_min) & (rate_before < 0.5)
    values["heaping"] = recent.astype(float)
    stats = {
        "needs_cusum_low": c_u.lower,
        "hours_cusum": c_h.upper,
        "inputs_cusum": c_in.upper,
        "inputs_lines": n_in,
    }
    return CheckResult(
        population=pop,
        panel=panel,
        masks=masks,
        values=values,
        z=z,
        stats=stats,
        forecast=fc,
        ratio=ratio,
        link_mask=link_mask,
        link_blame=blame,
        link_z=(z_gap, z_sup, z_cus),
    )


def _line_prior(pop: Population, sup: np.ndarray, cus: np.ndarray) -> np.ndarray:
    """The register's own norm of each link's input (log), where the customer has one and
    this is its only supplier of the product; NaN elsewhere."""
    P = len(pop.sectors)
    own = np.ones(pop.n, bool) if pop.own_norms is None else np.asarray(pop.own_norms, bool)
    key = cus.astype(np.int64) * P + pop.sector[sup]
    norm_key = pop.norm_enterprise.astype(np.int64) * P + pop.norm_product
    lookup = pd.Series(pop.norm_per_unit, index=norm_key)
    lookup = lookup[~lookup.index.duplicated()]
    vals = lookup.reindex(key).to_numpy(float)
    only = pd.Series(key).map(pd.Series(key).value_counts()).to_numpy() == 1
    with np.errstate(all="ignore"):
        return np.where(own[cus] & only & (vals > 0), np.log(vals), np.nan)


def _copies(out: np.ndarray, hours: np.ndarray, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """Weeks whose output and hours both repeat those of one of the ``lookback`` weeks
    before (to a relative 1e-9); the value is how many weeks back."""
    E, T = out.shape
    hit = np.zeros((E, T), bool)
    back = np.full((E, T), np.nan)
    for j in range(1, min(lookback, T - 1) + 1):
        with np.errstate(all="ignore"):
            same = (
                (np.abs(out[:, j:] - out[:, :-j]) <= 1e-9 * np.abs(out[:, j:]))
                & (np.abs(hours[:, j:] - hours[:, :-j]) <= 1e-9 * np.abs(hours[:, j:]))
                & (out[:, j:] > 0)
            )
        new = same & ~hit[:, j:]
        back[:, j:] = np.where(new, j, back[:, j:])
        hit[:, j:] |= same
    return hit, back


def credibility(
    result: CheckResult,
    *,
    discount: float = 0.9,
    prior_clean: float = 4.0,
    prior_flagged: float = 1.0,
) -> pd.DataFrame:
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
    return pd.DataFrame(
        {
            "enterprise": pop.codes,
            "sector": np.asarray(pop.sectors, dtype=object)[pop.sector],
            "credibility": score,
            "flagged_periods": flagged.sum(1),
        }
    ).set_index("enterprise")
