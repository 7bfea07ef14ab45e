"""Norms that are estimates, and sequential tests on the residuals (no storage, no I/O).

Every series here is a log ratio that an honest enterprise keeps steady
(hours per unit of output, one input per unit of output, a delivery against
its receipt).  For each week ``t`` the *norm* of a series is estimated only
from weeks before it — from ``window`` weeks ending ``guard`` weeks before
``t`` — so a weekly run never re-opens the past and a fault that has just
begun cannot hide in its own baseline:

1. **Own history, robustly**: the median ``m`` of those weeks and the
   spread ``s = 1.4826 × MAD`` (a minority of odd weeks moves neither);
2. **Shrunk toward the group** (empirical Bayes): an enterprise with few
   weeks counts its own spread as ``k`` observations against
   ``shrink_weight`` of its group's typical spread, and its own median
   (standard error ``sqrt(π/2) · s / sqrt(k)``) is pooled with a prior —
   the register's engineering norm where there is one (log error
   ``register_error``), else the median of its group with the group's
   between-enterprise spread ``τ``;
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

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: variance of a sample median relative to a mean's, for Gaussian data
_MEDIAN_EFF = np.pi / 2


@dataclass(frozen=True)
class NormSettings:
    """How norms are learnt (see the module docstring)."""

    window: int = 26  # weeks of history in one estimate
    guard: int = 6  # weeks between the end of that history and the week tested
    min_history: int = 6  # below this many weeks, use every earlier week (no guard)
    shrink_weight: float = 15.0  # weeks of the group's spread in an enterprise's own
    register_error: float = 0.10  # log-sd of an engineering norm from the register
    min_spread: float = 0.002  # floor of a week's noise (log)
    min_tau: float = 0.05  # floor of the between-enterprise spread of a group (log)
    refresh: int = 4  # weeks a norm is kept before it is estimated again


@dataclass
class NormEstimate:
    """Per series (rows) and week (columns), as known before that week."""

    mu: np.ndarray  # estimated norm
    sd: np.ndarray  # sd of one week's residual: noise and the norm's uncertainty
    noise: np.ndarray  # sd of one week's noise alone
    weeks: np.ndarray  # weeks of own history behind the estimate

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


def median_rows(X: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (``k`` = finite count per row); full rows go
    through ``np.median`` (a partition), only rows with gaps through ``nanmedian``."""
    full = k == X.shape[1]
    out = np.full(X.shape[0], np.nan)
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
    last: tuple[int, int] | None = None
    for t in range(T):
        lo, hi = history_bounds(t, s)
        if last is not None and t % s.refresh and last[1] > 0:
            lo, hi = last
        if last == (lo, hi) and t:
            mu[:, t], sd[:, t], noise[:, t], weeks[:, t] = (
                mu[:, t - 1],
                sd[:, t - 1],
                noise[:, t - 1],
                weeks[:, t - 1],
            )
            continue
        last = (lo, hi)
        X = d[:, lo:hi].astype(np.float32)
        k = np.isfinite(X).sum(axis=1)
        if hi > lo and k.any():
            m = median_rows(X, k)
            spread = 1.4826 * median_rows(np.abs(X - m[:, None]), k)
        else:
            m = np.full(n, np.nan)
            spread = np.full(n, np.nan)
        own = k >= 3
        spread = np.where(own, np.maximum(spread, s.min_spread), np.nan)
        g_spread = _group_median(spread, group, G)
        overall = np.nanmedian(spread) if own.any() else np.nan
        g_spread = np.where(np.isfinite(g_spread), g_spread, overall)[group] if G else g_spread
        var = np.where(
            own,
            (k * np.nan_to_num(spread) ** 2 + s.shrink_weight * g_spread**2)
            / (k + s.shrink_weight),
            g_spread**2,
        )
        se2 = np.where(k > 0, _MEDIAN_EFF * var / np.maximum(k, 1), np.inf)
        # the group's norm and the spread of technique between its enterprises
        m_ok = np.where(k >= 3, m, np.nan)
        g_mu = _group_median(m_ok, group, G)
        g_dev = _group_median(np.abs(m_ok - g_mu[group]), group, G) * 1.4826
        tau = np.maximum(
            np.where(
                np.isfinite(g_dev),
                g_dev,
                np.nanmedian(g_dev) if np.isfinite(g_dev).any() else np.nan,
            ),
            s.min_tau,
        )[group]
        p_mu, p_var = g_mu[group], tau**2
        if prior is not None:
            has = np.isfinite(prior)
            p_mu = np.where(has, prior, p_mu)
            p_var = np.where(has, s.register_error**2, p_var)
        with np.errstate(all="ignore"):
            prec_p = np.where(np.isfinite(p_mu) & np.isfinite(p_var), 1.0 / p_var, 0.0)
            prec_o = np.where(k > 0, 1.0 / se2, 0.0)
            prec = prec_p + prec_o
            post = (np.nan_to_num(p_mu) * prec_p + np.nan_to_num(m) * prec_o) / prec
            mu[:, t] = np.where(prec > 0, post, np.nan)
            noise[:, t] = np.sqrt(var)
            sd[:, t] = np.sqrt(var + 1.0 / prec)
        weeks[:, t] = k
    return NormEstimate(mu=mu, sd=sd, noise=noise, weeks=weeks)


@dataclass
class Cusum:
    """Two-sided CUSUM paths and the weeks each side fired (the path restarts at 0 after)."""

    upper: np.ndarray
    lower: np.ndarray
    alarm_up: np.ndarray
    alarm_down: np.ndarray


def cusum(z: np.ndarray, *, k: float = 0.5, h: float = 8.0, clip: float = 3.0) -> Cusum:
    """Page's CUSUM over the columns of ``z`` (series × week; NaN weeks add nothing).

    ``S⁺_t = max(0, S⁺_{t−1} + ψ(z_t) − k)`` and ``S⁻_t = max(0, S⁻_{t−1} − ψ(z_t) − k)``
    with ``ψ`` clipping at ``± clip``; a side fires when it passes ``h`` and restarts.
    """
    n, T = z.shape
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
        a_up[:, t], a_dn[:, t] = su > h, sl > h
        su = np.where(su > h, 0.0, su)
        sl = np.where(sl > h, 0.0, sl)
    return Cusum(upper=up, lower=dn, alarm_up=a_up, alarm_down=a_dn)


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
