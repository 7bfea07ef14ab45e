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
                       needs: all per-unit residuals together low over the
                       last two weeks, accumulating low (CUSUM), or falling
                       further week by week (drift filter, a slow decline)
``hours_excess``       hours per unit of output above the learnt norm (the
                       last two weeks together, or accumulating)
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
history (winsorised mean and mean absolute deviation), the noise shrunk toward
its sector's (empirical Bayes), the norm pooled with
the register's engineering norm as a prior where there is one, and each
residual is divided by the norm's uncertainty as well as the noise, so no
fixed minimum gap is needed.  Small persistent deviations accumulate in a
two-sided CUSUM of Huber-clipped standardised residuals; the thresholds of
the two-week sums and of the needs CUSUM rise with the population's tail
index (:func:`.estimates.tail_index`: 0 for Gaussian noise, 1 for t(4)); for an
enterprise with no input lines the needs are its hours, held to the hours'
threshold.  A decline that grows week by week is read through
:func:`.estimates.drift_sum` (five weeks weighted 5..1, each Huber-clipped), whose
threshold needs no widening for tails.

:data:`INTEGRITY` checks send an enterprise to *inspection*; a shortfall in
a week without any of them is consistent (inputs, hours and deliveries
moved with output) and goes to *help* (:meth:`CheckResult.routes`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import chi2

from gosplan.services.fulfilment.checks_panel import (
    DELIVERY,
    INPUT,
    Panel,
    Population,
    build_panel,
)
from gosplan.services.fulfilment.checks_result import (
    CHECKS,
    HELP,
    INTEGRITY,
    CheckResult,
    CheckSettings,
)
from gosplan.services.fulfilment.estimates import combine, cusum, drift_sum, estimate_norms
from gosplan.services.fulfilment.forecast import Forecast, multiprocess_filter

__all__ = [
    "CHECKS",
    "DELIVERY",
    "HELP",
    "INPUT",
    "INTEGRITY",
    "CheckResult",
    "CheckSettings",
    "Panel",
    "Population",
    "build_panel",
    "credibility",
    "run_checks",
]


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


def _window_sum(z: np.ndarray, w: int, clip: float) -> np.ndarray:
    """Sum of this week's and the ``w - 1`` weeks before's residuals, each clipped at
    ``± clip`` (a missing week counts 0)."""
    x = np.clip(np.nan_to_num(z), -clip, clip)
    out = x.copy()
    for j in range(1, w):
        out[:, j:] += x[:, :-j]
    return np.where(np.isfinite(z), out, np.nan)


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
    # the forecaster runs beside the norms (its loops are numpy's, outside the GIL)
    background = ThreadPoolExecutor(max_workers=1)
    fc_job = background.submit(multiprocess_filter, ratio, s.forecast)
    background.shutdown(wait=False)
    masks["shortfall"] = ratio < 1.0 - s.shortfall_tol
    values["shortfall"] = ratio
    # hours per unit of output, against a norm learnt from the enterprise's own history
    d_h = _log_ratio(panel.hours, out)
    own_h = np.ones(E, bool) if pop.own_hours is None else np.asarray(pop.own_hours, bool)
    with np.errstate(all="ignore"):
        prior_h = np.where(own_h & (pop.hours_norm > 0), np.log(pop.hours_norm), np.nan)
    est_h = estimate_norms(d_h, pop.sector, prior=prior_h, settings=ns)
    z["hours"] = zh = est_h.z(d_h)
    # each input line per unit of the customer's output (per supplier link)
    sup, cus = panel.link_supplier, panel.link_customer
    d_in = _log_ratio(panel.received, out[cus])
    line_group = _dense_groups(pop.sector[cus], pop.sector[sup])
    prior_in = _line_prior(pop, sup, cus)
    est_in = estimate_norms(d_in, line_group, prior=prior_in, settings=ns)
    z_in = est_in.z(d_in)
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
    c_u = cusum(u, k=s.needs_k, h=s.needs_h + s.needs_h_tail * est_in.tail, clip=s.needs_clip)
    c_h = cusum(zh, k=s.cusum_k, h=s.cusum_h, clip=s.huber_c)
    c_in = cusum(zin_e, k=s.gap_k, h=s.cusum_h, clip=s.huber_c)
    # an enterprise that reports no inputs has its hours as all its needs: it is held to
    # the hours test's two-week threshold, mirrored
    hours_thr = s.hours_sum + s.hours_sum_tail * est_h.tail[None, :]
    needs_thr = np.where(n_in > 0, s.needs_sum + s.needs_sum_tail * est_in.tail[None, :], hours_thr)
    # the two-week sums need a settled noise estimate; a newcomer is held to two weeks
    # running beyond z_pair
    settled = est_h.weeks >= s.settled_weeks
    with np.errstate(invalid="ignore"):
        two_low = np.where(
            settled, _window_sum(-u, 2, s.hours_clip) > needs_thr, _high(-u, s, np.inf)
        )
    # a slow decline reported flat: needs per unit falling further each week
    d_u = drift_sum(-u, s.drift_weeks, s.drift_clip)
    with np.errstate(invalid="ignore"):
        drifting = settled & (d_u > s.drift_z)
        masks["padding"] = (-u > s.z_week) | c_u.alarm_down | two_low | drifting
    values["padding"] = u
    with np.errstate(invalid="ignore"):
        two_weeks = np.where(
            settled, _window_sum(zh, 2, s.hours_clip) > hours_thr, _high(zh, s, np.inf)
        )
        masks["hours_excess"] = (two_weeks | (zh > s.z_week) | c_h.alarm_up) & ~masks["padding"]
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
    fc = fc_job.result()
    _forecast_flags(fc, s, masks, values)
    stats = {
        "needs_cusum_low": c_u.lower,
        "needs_drift": d_u,
        "hours_cusum": c_h.upper,
        "inputs_cusum": c_in.upper,
        "inputs_lines": n_in,
        "tail_hours": est_h.tail,
        "tail_inputs": est_in.tail,
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


def _forecast_flags(
    fc: Forecast, s: CheckSettings, masks: dict[str, np.ndarray], values: dict[str, np.ndarray]
) -> None:
    """``break`` and ``transient`` from the forecaster's process probabilities."""
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
