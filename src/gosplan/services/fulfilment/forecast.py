"""Harrison–Stevens multi-process forecaster, vectorised across every enterprise at once.

Each indicator series (here: output as a share of plan, so the plan's own
seasonality is removed) is a linear-growth dynamic linear model: a level
``mu`` and a slope ``beta``, ``y_t = mu_t + v_t``, ``mu_t = mu_{t-1} + beta_t
+ w_mu``, ``beta_t = beta_{t-1} + w_beta``.  Four processes explain each new
observation (Harrison & Stevens 1976, "multi-process class II"):

========== ==============================================================
steady     small level and slope noise
step       the level jumps (large level noise)
slope      the growth rate changes (large slope noise)
transient  a one-off outlier (large observation noise)
========== ==============================================================

At each period the posterior probability of each process is proportional to
its prior probability times the predictive density of the observation.  The
posterior is kept as four Gaussians, one per process at the last period
(order-2 generalised pseudo-Bayes), so a jump first taken for a transient is
confirmed as a step, or refuted, by the next observation.  All of it runs as
numpy array operations over the enterprise axis, one period at a time.

The observation variance of each series is estimated robustly from its own
first differences (median absolute deviation), so noisy and steady
enterprises are each judged against their own noise.  The estimate used at
period ``t`` comes only from differences before ``t`` (:func:`causal_sd`),
so a later run never revises what an earlier one saw: a weekly run cannot
re-open a week months old because the noise it measures has since changed.
Missing observations (late or absent reports) only propagate the prior.

:func:`multiprocess_filter` returns a :class:`Forecast` with the one-step
forecasts, their standard deviations (for bands) and the posterior
probability of each process per enterprise and period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gosplan.services.fulfilment.estimates import median_rows

PROCESSES = ("steady", "step", "slope", "transient")


@dataclass(frozen=True)
class ForecastSettings:
    """Prior probabilities and noise multipliers (in units of the observation variance V)."""

    prior: tuple[float, float, float, float] = (0.94, 0.02, 0.01, 0.03)
    level_noise: float = 0.02  # steady level noise / V
    slope_noise: float = 0.0005  # steady slope noise / V
    step_noise: float = 100.0  # level noise of the step process / V
    slope_change_noise: float = 1.0  # slope noise of the slope-change process / V
    outlier_noise: float = 100.0  # observation noise of the transient process / V
    min_sd: float = 0.005  # floor of the observation standard deviation


@dataclass(frozen=True)
class Forecast:
    """Per series (rows) and period (columns)."""

    forecast: np.ndarray  # one-step-ahead forecast of y_t (before seeing y_t)
    sd: np.ndarray  # its standard deviation under the steady process
    level: np.ndarray  # posterior level after y_t
    probabilities: np.ndarray  # shape (4, n, T): posterior P(process at t | y_1..t)
    previous: np.ndarray  # shape (4, n, T): P(process at t-1 | y_1..t), one period smoothed
    obs_sd: np.ndarray  # shape (n,): estimated observation standard deviation

    def probability(self, process: str, *, smoothed: bool = False) -> np.ndarray:
        """P(process at t | y_1..t), or with ``smoothed`` P(process at t-1 | y_1..t)."""
        src = self.previous if smoothed else self.probabilities
        return src[PROCESSES.index(process)]


def robust_sd(y: np.ndarray, *, floor: float = 0.005, prior_weight: float = 10.0) -> np.ndarray:
    """Observation standard deviation per row from the MAD of first differences,
    shrunk toward the median over all rows with weight ``prior_weight`` differences."""
    d = np.diff(y, axis=1)
    k = np.isfinite(d).sum(axis=1)
    # a series with fewer than two reports has no differences: NaN, handled below
    med = median_rows(d, k)
    mad = median_rows(np.abs(d - med[:, None]), k)
    sd = 1.4826 * mad / np.sqrt(2.0)
    # shrink short series toward the population's typical noise (empirical Bayes):
    # a series with k differences counts as k observations against `prior_weight`
    ok = np.isfinite(sd) & (k > 0)
    pooled = float(np.median(sd[ok])) if ok.any() else floor
    var = np.where(
        ok,
        (k * np.where(ok, sd, 0.0) ** 2 + prior_weight * pooled**2) / (k + prior_weight),
        pooled**2,
    )
    return np.maximum(np.sqrt(var), floor)


def causal_sd(
    y: np.ndarray,
    *,
    floor: float = 0.005,
    prior_weight: float = 10.0,
    window: int = 26,
    refresh: int = 4,
) -> np.ndarray:
    """Observation standard deviation per row and period, from the ``window`` first
    differences *before* each period only (as :func:`robust_sd`; shape of ``y``).

    Periods with no earlier difference get the pooled value of the rows that
    have one, else ``floor``.  The estimate is renewed every ``refresh`` periods
    (and kept in between), always from periods before the one it serves.
    """
    n, T = y.shape
    out = np.empty((n, T))
    last = None
    for t in range(T):
        lo = max(0, t - window - 1)
        if t < 3:
            # fewer than two differences anywhere: the floor's fallback of robust_sd
            out[:, t] = np.nan
            continue
        if last is not None and t % refresh:
            out[:, t] = out[:, t - 1]
            continue
        out[:, t] = robust_sd(y[:, lo:t], floor=floor, prior_weight=prior_weight)
        last = (lo, t)
    # weeks without their own estimate take the first estimate available
    first = np.isfinite(out).any(axis=0)
    if first.any():
        f = int(np.argmax(first))
        out[:, :f] = out[:, [f]]
    else:
        out[:] = floor
    return out


def multiprocess_filter(
    y: np.ndarray, settings: ForecastSettings | None = None, *, obs_sd: np.ndarray | None = None
) -> Forecast:
    """Run the four-process filter over every row of ``y`` (shape (n, T); NaN = missing).

    Class II with one period of memory (order-2 generalised pseudo-Bayes): the
    posterior is kept as four Gaussians, one per process at the last period;
    each period expands them into 16 (previous × current process) and
    collapses back by current process.  So a jump that was first taken for a
    transient is recognised as a step once the next period confirms it:
    ``probabilities_prev[k, :, t]`` is P(process k at period t-1 | y_1..t).

    Long because it is one time recursion, vectorised across enterprises, whose
    prediction, update and collapse steps share the component arrays of the current
    period; splitting them would copy those arrays every period.
    """
    s = settings or ForecastSettings()
    y = np.asarray(y, dtype=float)
    n, T = y.shape
    K = 4
    sd_all = causal_sd(y, floor=s.min_sd) if obs_sd is None else np.asarray(obs_sd, float)
    if sd_all.ndim == 1:
        sd_all = np.repeat(sd_all[:, None], T, axis=1)
    V_all = sd_all * sd_all
    V = V_all[:, 0]
    prior = np.asarray(s.prior, dtype=float)
    prior = prior / prior.sum()
    with np.errstate(divide="ignore"):  # a process may be switched off with prior 0
        log_prior = np.log(prior)[None, :, None]  # (prev i, cur j, n)
    # component states, shape (K, n), indexed by the process at the last period
    m0 = np.ones((K, n))
    m1 = np.zeros((K, n))
    c00 = np.broadcast_to(4.0 * V, (K, n)).copy()
    c01 = np.zeros((K, n))
    c11 = np.broadcast_to(0.01 * V, (K, n)).copy()
    w = np.broadcast_to(prior[:, None], (K, n)).copy()
    out_f = np.full((n, T), np.nan)
    out_sd = np.full((n, T), np.nan)
    out_level = np.full((n, T), np.nan)
    probs = np.full((K, n, T), np.nan)
    prev = np.full((K, n, T), np.nan)
    started = np.zeros(n, dtype=bool)
    for t in range(T):
        # per-process noises, shape (K, n), indexed by the current process j
        V = V_all[:, t]
        wl = np.stack([s.level_noise * V, s.step_noise * V, s.level_noise * V, s.level_noise * V])
        ws = np.stack(
            [s.slope_noise * V, s.slope_noise * V, s.slope_change_noise * V, s.slope_noise * V]
        )
        vo = np.stack([V, V, V, s.outlier_noise * V])
        yt = y[:, t]
        seen = np.isfinite(yt)
        # prediction from each component i: a = G m; R = G C G'
        a0 = m0 + m1
        a1 = m1
        r00 = c00 + 2 * c01 + c11
        r01 = c01 + c11
        r11 = c11
        out_f[:, t] = (w * a0).sum(0)
        out_sd[:, t] = np.sqrt((w * (r00 + (a0 - out_f[:, t]) ** 2)).sum(0) + wl[0] + ws[0] + vo[0])
        # 16 combinations: axis 0 = previous process i, axis 1 = current process j
        # evolution noise enters before the transition: R = G (C + W) G'
        R00 = r00[:, None] + (wl + ws)[None]
        R01 = r01[:, None] + ws[None]
        R11 = r11[:, None] + ws[None]
        Q = R00 + vo[None]
        e = np.where(seen, yt, 0.0)[None, None] - a0[:, None]
        loglik = -0.5 * (np.log(Q) + e * e / Q)
        with np.errstate(divide="ignore"):
            lp = np.log(w)[:, None] + log_prior + loglik
        lp -= lp.max(axis=(0, 1), keepdims=True)
        p = np.exp(lp)
        p /= p.sum(axis=(0, 1), keepdims=True)
        k0 = R00 / Q
        k1 = R01 / Q
        M0 = a0[:, None] + k0 * e
        M1 = a1[:, None] + k1 * e
        C00 = R00 - k0 * R00
        C01 = R01 - k0 * R01
        C11 = R11 - k1 * R01
        # collapse over the previous process i, one Gaussian per current process j
        wj = p.sum(0)
        q = p / np.maximum(wj, 1e-300)[None]
        nm0 = (q * M0).sum(0)
        nm1 = (q * M1).sum(0)
        d0 = M0 - nm0[None]
        d1 = M1 - nm1[None]
        nc00 = (q * (C00 + d0 * d0)).sum(0)
        nc01 = (q * (C01 + d0 * d1)).sum(0)
        nc11 = (q * (C11 + d1 * d1)).sum(0)
        upd = seen & started
        init = seen & ~started
        # missing: propagate each component under the steady process
        m0 = np.where(upd, nm0, np.where(init, yt, a0))
        m1 = np.where(upd, nm1, np.where(init, 0.0, a1))
        c00 = np.where(upd, nc00, np.where(init, V, r00 + wl[0] + ws[0]))
        c01 = np.where(upd, nc01, np.where(init, 0.0, r01 + ws[0]))
        c11 = np.where(upd, nc11, np.where(init, 0.01 * V, r11 + ws[0]))
        w = np.where(upd, np.maximum(wj, 1e-12), np.where(init, prior[:, None], w))
        w = w / w.sum(0, keepdims=True)
        started |= seen
        probs[:, upd, t] = wj[:, upd]
        prev[:, upd, t] = p.sum(1)[:, upd]
        probs[:, init, t] = 0.0
        probs[0, init, t] = 1.0
        out_level[:, t] = (w * m0).sum(0)
    return Forecast(
        forecast=out_f,
        sd=out_sd,
        level=out_level,
        probabilities=probs,
        previous=prev,
        obs_sd=sd_all[:, -1],
    )
