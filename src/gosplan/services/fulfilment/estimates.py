"""Norms that are estimates, and sequential tests on the residuals (no storage, no I/O).

Every series here is a log ratio that an honest enterprise keeps steady
(hours per unit of output, one input per unit of output, a delivery against
its receipt).  For each week ``t`` the *norm* of a series is estimated only
from weeks before it — from ``window`` weeks ending ``guard`` weeks before
``t`` — so a weekly run never re-opens the past and a fault that has just
begun cannot hide in its own baseline:

1. **Own history, robustly**: the median and MAD of those weeks, then the
   weeks winsorised at 3 MADs around the median, their mean ``m`` and
   ``s = sqrt(π/2) ×`` their mean absolute deviation (nearly as efficient as
   mean and standard deviation, as hard to move as the median);
2. **Shrunk toward the group** (empirical Bayes): the log of an enterprise's
   own spread (sampling variance ``(π/2 − 1)/k`` for ``k`` weeks) is pooled
   with its group's, weighted by the real dispersion of spreads in the
   group (what the observed dispersion leaves over); its own norm (standard
   error ``s / sqrt(k)``) is pooled with a prior — the register's engineering
   norm where there is one (log error ``register_error``), else the median
   of its group with the group's between-enterprise spread ``τ``;
3. **Residual**: ``z = (d_t − μ) / sqrt(s² + var μ)``, so the norm's own
   uncertainty widens the band (a new enterprise is judged more leniently
   than one with half a year of history).

:func:`cusum` accumulates the standardised residuals week by week (Page's
two-sided CUSUM with reference ``k`` and decision interval ``h``), each
week's contribution clipped at ``± huber_c`` (Huber's ψ) so one heavy-tailed
week cannot fire it alone.  Under honest Gaussian noise the mean run length
to a false alarm of one side is about ``2(e^b − b − 1)`` weeks with
``b = h + 1.166`` (Siegmund's approximation; 19 000 weeks for ``k = 0.5``,
``h = 8``); a sustained shift of ``δ`` standard deviations is found after
about ``h / (δ − k)`` weeks.

Why not a library: statsmodels' CUSUM tests (``breaks_cusumolsresid``) are
retrospective tests over a whole regression sample, and ruptures segments a
finished series offline; neither is an online recursion that one weekly run
can extend by one week, vectorised over 10^5 series.  The recursion is four
lines and is tested against its textbook run lengths.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: variance of the winsorised mean relative to a mean's, for Gaussian data (about 1)
_LOCATION_EFF = 1.05
#: standard deviation over mean absolute deviation, for Gaussian data
_ABS_DEV = float(np.sqrt(np.pi / 2))
#: sampling variance of the log of that scale, times the weeks behind it (Gaussian)
_LOG_SCALE_VAR = np.pi / 2 - 1
#: mean-deviation over median-deviation scale: Gaussian noise, Student t(4) (measured)
_RATIO_GAUSS, _RATIO_T4 = 1.025, 1.11


@dataclass(frozen=True)
class NormSettings:
    """How norms are learnt (see the module docstring)."""

    window: int = 26  # weeks of history in one estimate
    guard: int = 6  # weeks between the end of that history and the week tested
    min_history: int = 6  # below this many weeks, use every earlier week (no guard)
    spread_tau: float = 0.05  # least real spread (log) of noise levels within a group
    spread_tau_max: float = 0.2  # most (and the spread assumed in groups under 5 series)
    register_error: float = 0.10  # log-sd of an engineering norm from the register
    min_spread: float = 0.002  # floor of a week's noise (log)
    min_tau: float = 0.05  # floor of the between-enterprise spread of a group (log)
    refresh: int = 4  # weeks a norm is kept before it is estimated again
    threads: int = 0  # windows estimated at once (0: one per CPU)


@dataclass
class NormEstimate:
    """Per series (rows) and week (columns), as known before that week."""

    mu: np.ndarray  # estimated norm
    sd: np.ndarray  # sd of one week's residual: noise and the norm's uncertainty
    noise: np.ndarray  # sd of one week's noise alone
    weeks: np.ndarray  # weeks of own history behind the estimate
    tail: np.ndarray  # per week: tail index of the population's noise (0 Gaussian, 1 t(4))

    def z(self, d: np.ndarray) -> np.ndarray:
        """Standardised residuals of ``d`` against the norms (NaN where either is missing)."""
        with np.errstate(all="ignore"):
            return (d - self.mu) / self.sd


def _group_median(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    ok = np.isfinite(values)
    out = np.full(n_groups, np.nan)
    if ok.any():
        med = pd.Series(values[ok]).groupby(group[ok]).median()
        out[med.index.to_numpy(np.int64)] = med.to_numpy(float)
    return out


def median_rows(X: np.ndarray, k: np.ndarray, *, reorder: bool = False) -> np.ndarray:
    """Median of each row ignoring NaN (``k`` = finite count per row); full rows go
    through ``np.median`` (a partition), only rows with gaps through a sort.  With
    ``reorder`` the partition works in ``X`` itself when every row is full (each row
    keeps its values, in another order), sparing two copies of it."""
    full = k == X.shape[1]
    out = np.full(X.shape[0], np.nan)
    if full.all() and reorder and X.shape[1]:
        return np.median(X, axis=1, overwrite_input=True).astype(float)
    if full.any():
        out[full] = np.median(X[full], axis=1)
    part = ~full & (k > 0)
    if part.any():
        srt = np.sort(X[part], axis=1)  # NaN sort last
        kp = k[part]
        lo = np.take_along_axis(srt, ((kp - 1) // 2)[:, None], axis=1)[:, 0]
        hi = np.take_along_axis(srt, (kp // 2)[:, None], axis=1)[:, 0]
        out[part] = 0.5 * (lo + hi)
    return out


def robust_location_scale(
    X: np.ndarray, k: np.ndarray, clip: float = 3.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (NaN = missing, ``k`` finite per row): location, scale and the median
    absolute deviation's scale.  The values are first winsorised at ``clip`` MAD-scales
    around their median (so up to half of them may be wild, as with the median); the
    location is then their mean and the scale ``sqrt(π/2)`` × their mean absolute
    deviation.  For Gaussian noise these are nearly as precise as mean and standard
    deviation (the MAD alone has 37 % of the efficiency)."""
    # the row sums below do not depend on the order within a row: partition in place
    med = median_rows(X, k, reorder=True)
    dev = np.abs(X - med[:, None])
    mad = 1.4826 * median_rows(dev, k, reorder=True)
    with np.errstate(all="ignore"):
        kk = np.where(k > 0, k, np.nan)
        cap = clip * mad[:, None]
        loc = np.nansum(np.clip(X, med[:, None] - cap, med[:, None] + cap), axis=1) / kk
        # deviations from the sample's own median run small by about sqrt((k - 1) / k)
        fix = np.sqrt(kk / np.maximum(kk - 1, 1))
        scale = fix * _ABS_DEV * np.nansum(np.minimum(dev, cap), axis=1) / kk
    return np.where(k > 0, loc, np.nan), scale, mad


def _shrunk_variance(
    spread: np.ndarray, k: np.ndarray, group: np.ndarray, G: int, s: NormSettings
) -> np.ndarray:
    """Each series' noise variance, its own spread shrunk toward its group's on the log
    scale (empirical Bayes): the own log-spread of ``k`` weeks has sampling variance
    ``(π/2 − 1)/k``; the group's real dispersion ``τ²`` is what the observed dispersion
    leaves over (between ``spread_tau²`` and ``spread_tau_max²``; the latter in groups of
    fewer than 5 series).  Never below the own spread's lower bound
    (own ÷ (1 + 2 se)), so an enterprise much noisier than its group is not made tight.
    Series with fewer than 3 weeks take the group's spread."""
    own = np.isfinite(spread)
    v = np.where(own, _LOG_SCALE_VAR / np.maximum(k, 1), np.nan)
    ls = np.log(np.where(own, spread, np.nan)) + v / 2  # the log of an estimate runs low
    g_ls = _group_median(ls, group, G)
    g_dev = _group_median(np.abs(ls - g_ls[group]), group, G) * 1.4826
    g_v = _group_median(v, group, G)
    members = np.bincount(group[own], minlength=G) if G else np.zeros(0, np.int64)
    with np.errstate(all="ignore"):
        tau2 = np.clip(np.nan_to_num(g_dev**2 - g_v, nan=0.0), s.spread_tau**2, s.spread_tau_max**2)
    tau2 = np.where(members >= 5, tau2, s.spread_tau_max**2)
    overall = np.nanmedian(ls) if own.any() else np.nan
    g_ls = np.where(np.isfinite(g_ls), g_ls, overall)[group] if G else g_ls
    tau2 = tau2[group] if G else tau2
    with np.errstate(all="ignore"):
        post = (tau2 * ls + v * g_ls) / (tau2 + v)
        floor = ls - np.log1p(2 * np.sqrt(v))
    return np.exp(2 * np.where(own, np.maximum(post, floor), g_ls))


def history_bounds(t: int, s: NormSettings) -> tuple[int, int]:
    """Weeks ``[lo, hi)`` behind the norm of week ``t`` (``hi <= t``: never the week itself)."""
    hi = max(t - s.guard, min(t, s.min_history))
    return max(0, hi - s.window), hi


def estimate_norms(
    d: np.ndarray,
    group: np.ndarray,
    *,
    prior: np.ndarray | None = None,
    settings: NormSettings | None = None,
) -> NormEstimate:
    """Causal norms of every row of ``d`` (series × week, NaN = missing), see module doc.

    ``group[i]`` is the group (sector, or sector and product) of series ``i``;
    ``prior[i]`` the register's norm (log; NaN where the register has none).
    """
    s = settings or NormSettings()
    n, T = d.shape
    group = np.asarray(group, dtype=np.int64)
    G = int(group.max()) + 1 if n else 0
    mu = np.full((n, T), np.nan)
    sd = np.full((n, T), np.nan)
    noise = np.full((n, T), np.nan)
    weeks = np.zeros((n, T), dtype=np.int32)
    tail = np.zeros(T)
    windows = _windows(T, s)

    def one(b: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
        X = d[:, b[0] : b[1]].astype(np.float32)
        k = np.isfinite(X).sum(axis=1)
        m, r, v, tl = _window(X, k, group, G, prior, s)
        return m, r, v, tl, k

    # the windows are independent: numpy's partitions and sums run outside the GIL
    threads = min(s.threads or os.cpu_count() or 1, len(windows)) or 1
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = dict(zip(windows, pool.map(one, windows), strict=True))
    for t in range(T):
        b = _window_of(t, s)
        mu[:, t], sd[:, t], noise[:, t], tail[t], weeks[:, t] = done[b]
    return NormEstimate(mu=mu, sd=sd, noise=noise, weeks=weeks, tail=tail)


def _window_of(t: int, s: NormSettings) -> tuple[int, int]:
    """The history window behind week ``t``'s norm: re-estimated every ``refresh`` weeks
    (and while the history is shorter than ``min_history``), else the last one kept."""
    base = t - t % s.refresh
    lo, hi = history_bounds(t, s)
    while base < t and hi > 0:
        b_lo, b_hi = history_bounds(base, s)
        if b_hi > 0:
            return b_lo, b_hi
        base += 1
    return lo, hi


def _windows(T: int, s: NormSettings) -> list[tuple[int, int]]:
    return sorted({_window_of(t, s) for t in range(T)})


def _window(
    X: np.ndarray,
    k: np.ndarray,
    group: np.ndarray,
    G: int,
    prior: np.ndarray | None,
    s: NormSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Norm, residual sd, noise sd and tail index from one window of history ``X``."""
    n = X.shape[0]
    if X.shape[1] and k.any():
        m, spread, mad = robust_location_scale(X, k)
    else:
        m = spread = mad = np.full(n, np.nan)
    tail = tail_index(k, spread, mad)
    own = k >= 3
    spread = np.where(own, np.maximum(spread, s.min_spread), np.nan)
    var = _shrunk_variance(spread, k, group, G, s)
    se2 = np.where(k > 0, _LOCATION_EFF * var / np.maximum(k, 1), np.inf)
    p_mu, p_var = _prior(m, k, group, G, prior, s)
    with np.errstate(all="ignore"):
        prec_p = np.where(np.isfinite(p_mu) & np.isfinite(p_var), 1.0 / p_var, 0.0)
        prec_o = np.where(k > 0, 1.0 / se2, 0.0)
        prec = prec_p + prec_o
        post = (np.nan_to_num(p_mu) * prec_p + np.nan_to_num(m) * prec_o) / prec
        return (
            np.where(prec > 0, post, np.nan),
            np.sqrt(var + 1.0 / prec),
            np.sqrt(var),
            tail,
        )


def _prior(
    m: np.ndarray,
    k: np.ndarray,
    group: np.ndarray,
    G: int,
    prior: np.ndarray | None,
    s: NormSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """The prior of each norm and its variance: the register's norm where there is one,
    else the group's median norm with the spread of technique between its enterprises."""
    m_ok = np.where(k >= 3, m, np.nan)
    g_mu = _group_median(m_ok, group, G)
    g_dev = _group_median(np.abs(m_ok - g_mu[group]), group, G) * 1.4826
    fill = np.nanmedian(g_dev) if np.isfinite(g_dev).any() else np.nan
    tau = np.maximum(np.where(np.isfinite(g_dev), g_dev, fill), s.min_tau)[group]
    p_mu, p_var = g_mu[group], tau**2
    if prior is not None:
        has = np.isfinite(prior)
        p_mu = np.where(has, prior, p_mu)
        p_var = np.where(has, s.register_error**2, p_var)
    return p_mu, p_var


def tail_index(k: np.ndarray, scale: np.ndarray, mad: np.ndarray) -> float:
    """How much heavier than Gaussian the noise's tails are, over the population: the
    median over series (with 12 weeks or more) of the ratio of the mean-deviation scale
    to the median-deviation one, mapped so that Gaussian noise gives 0 and Student t with
    4 degrees of freedom 1.  A minority of odd series (or of cheats) cannot move it."""
    ok = (k >= 12) & (mad > 0)
    if not ok.any():
        return 0.0
    ratio = float(np.median(scale[ok] / mad[ok]))
    return float(np.clip((ratio - _RATIO_GAUSS) / (_RATIO_T4 - _RATIO_GAUSS), 0.0, 2.0))


@dataclass
class Cusum:
    """Two-sided CUSUM paths and the weeks each side fired (the path restarts at 0 after)."""

    upper: np.ndarray
    lower: np.ndarray
    alarm_up: np.ndarray
    alarm_down: np.ndarray


def cusum(
    z: np.ndarray, *, k: float = 0.5, h: float | np.ndarray = 8.0, clip: float = 3.0
) -> Cusum:
    """Page's CUSUM over the columns of ``z`` (series × week; NaN weeks add nothing).

    ``S⁺_t = max(0, S⁺_{t−1} + ψ(z_t) − k)`` and ``S⁻_t = max(0, S⁻_{t−1} − ψ(z_t) − k)``
    with ``ψ`` clipping at ``± clip``; a side fires when it passes ``h`` (a number, or
    one per week) and restarts.
    """
    n, T = z.shape
    hs = np.broadcast_to(np.asarray(h, dtype=float), (T,))
    up = np.zeros((n, T))
    dn = np.zeros((n, T))
    a_up = np.zeros((n, T), dtype=bool)
    a_dn = np.zeros((n, T), dtype=bool)
    su = np.zeros(n)
    sl = np.zeros(n)
    for t in range(T):
        zt = z[:, t]
        seen = np.isfinite(zt)
        c = np.clip(np.where(seen, zt, 0.0), -clip, clip)
        su = np.where(seen, np.maximum(0.0, su + c - k), su)
        sl = np.where(seen, np.maximum(0.0, sl - c - k), sl)
        up[:, t], dn[:, t] = su, sl
        a_up[:, t], a_dn[:, t] = su > hs[t], sl > hs[t]
        su = np.where(a_up[:, t], 0.0, su)
        sl = np.where(a_dn[:, t], 0.0, sl)
    return Cusum(upper=up, lower=dn, alarm_up=a_up, alarm_down=a_dn)


def drift_sum(z: np.ndarray, weeks: int, clip: float) -> np.ndarray:
    """A matched filter for a deviation that grows week by week (a slow decline): the
    last ``weeks`` residuals, each clipped at ``± clip`` (Huber's ψ, so one wild week
    cannot carry it), weighted ``weeks, weeks − 1, …, 1`` from this week back, divided by
    the root of the sum of the squared weights (about standard normal under honest
    Gaussian noise).  A missing week counts 0; the value is NaN where this week is.

    A ramp ``δ, 2δ, …, wδ`` scores ``δ·Σj²/√Σj²`` (``7.4 δ`` for five weeks) where a
    CUSUM with reference ``k`` would have gathered ``15 δ − 5 k``: for a decline of
    under one standard deviation a week the filter leads the CUSUM by weeks."""
    x = np.clip(np.nan_to_num(z), -clip, clip)
    out = weeks * x
    for j in range(1, min(weeks, z.shape[1])):
        out[:, j:] += (weeks - j) * x[:, :-j]
    norm = float(np.sqrt(sum(i * i for i in range(1, weeks + 1))))
    return np.where(np.isfinite(z), out / norm, np.nan)


def combine(z: np.ndarray, owner: np.ndarray, n_owners: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the standardised residuals of each owner's series, divided by the root of
    their number (so it is again about standard normal), and that number."""
    seen = np.isfinite(z)
    M = sp.csr_matrix(
        (np.ones(len(owner)), (owner, np.arange(len(owner)))), shape=(n_owners, len(owner))
    )
    total = np.asarray(M @ np.where(seen, z, 0.0))
    count = np.asarray(M @ seen.astype(float))
    with np.errstate(all="ignore"):
        return np.where(count > 0, total / np.sqrt(count), np.nan), count
