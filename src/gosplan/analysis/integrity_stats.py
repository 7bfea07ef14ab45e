"""The statistics of integrity records: exact Poisson rates, rate ratios, change points.

Small and exact on purpose: a works council should be able to check every
number with a table of the chi-square distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["change_points", "poisson_interval", "rate_ratio"]


def poisson_interval(
    count: int, exposure: float, level: float = 0.95, per: float = 1000.0
) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate ``count / exposure`` times ``per``.

    With no exposure the interval is ``(0, inf)``: nothing is known.
    """
    from scipy.stats import chi2

    if exposure <= 0:
        return 0.0, math.inf
    a = 1.0 - level
    lo = 0.0 if count == 0 else float(chi2.ppf(a / 2, 2 * count)) / 2.0
    hi = float(chi2.ppf(1 - a / 2, 2 * count + 2)) / 2.0
    return lo / exposure * per, hi / exposure * per


def rate_ratio(
    k1: int, e1: float, k0: int, e0: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Ratio of the rate ``k1/e1`` to ``k0/e0`` with an exact conditional interval.

    Given ``n = k1 + k0`` events, ``k1`` is binomial with
    ``p = e1·RR / (e1·RR + e0)``; the Clopper–Pearson interval of ``p`` maps
    to one for ``RR``.  With no events at all the ratio is undetermined
    (``nan``, ``0``, ``inf``).
    """
    from scipy.stats import beta

    if e1 <= 0 or e0 <= 0:
        return math.nan, 0.0, math.inf
    n = k1 + k0
    if n == 0:
        return math.nan, 0.0, math.inf
    a = 1.0 - level
    p_lo = 0.0 if k1 == 0 else float(beta.ppf(a / 2, k1, n - k1 + 1))
    p_hi = 1.0 if k1 == n else float(beta.ppf(1 - a / 2, k1 + 1, n - k1))

    def to_rr(p: float) -> float:
        if p >= 1.0:
            return math.inf
        return p / (1.0 - p) * e0 / e1

    est = (k1 / e1) / (k0 / e0) if k0 > 0 else math.inf
    return est, to_rr(p_lo), to_rr(p_hi)


def _poisson_loglik(k: np.ndarray, e: np.ndarray) -> float:
    tot_k, tot_e = float(k.sum()), float(e.sum())
    if tot_k == 0 or tot_e == 0:
        return 0.0
    lam = tot_k / tot_e
    return float(tot_k * math.log(lam) - lam * tot_e)


def change_points(
    counts: Sequence[int], exposures: Sequence[float], *, alpha: float = 0.01, min_size: int = 2
) -> list[int]:
    """Periods where the event rate changed, by binary segmentation of a Poisson rate.

    A split at ``t`` is kept when twice its log-likelihood gain exceeds the
    chi-square(1) quantile at ``alpha`` divided by the number of candidate
    splits (Bonferroni: conservative, so a change point is strong evidence).
    Returns the indices at which a new segment starts, ascending.  A hand
    implementation of a few lines: the maintained change-point libraries
    (``ruptures``) offer Gaussian and kernel costs but no Poisson cost with
    exposure, which counts of rare events need.
    """
    from scipy.stats import chi2

    k = np.asarray(counts, dtype=float)
    e = np.asarray(exposures, dtype=float)
    found: list[int] = []

    def split(lo: int, hi: int) -> None:
        n = hi - lo
        if n < 2 * min_size:
            return
        base = _poisson_loglik(k[lo:hi], e[lo:hi])
        best_gain, best_t = 0.0, -1
        for t in range(lo + min_size, hi - min_size + 1):
            gain = _poisson_loglik(k[lo:t], e[lo:t]) + _poisson_loglik(k[t:hi], e[t:hi]) - base
            if gain > best_gain:
                best_gain, best_t = gain, t
        n_splits = n - 2 * min_size + 1
        if best_t >= 0 and 2 * best_gain > float(chi2.ppf(1 - alpha / max(n_splits, 1), 1)):
            found.append(best_t)
            split(lo, best_t)
            split(best_t, hi)

    split(0, len(k))
    return sorted(found)
