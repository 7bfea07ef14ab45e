"""The generator behind :mod:`gosplan.scale.synthetic_economies`: counter-based random
draws, the parallel numba kernels that build columns of ``A`` and of the capital
matrix, and :class:`SyntheticSpec`, the parameters with the blocks they generate.

Every draw is a SplitMix64 hash of (seed, stream, product, draw), so a block of
products is the same whichever thread or chunk generates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from gosplan.errors import ValidationError

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# salts: independent streams for the different things drawn per product
_SALT_INPUTS = 1
_SALT_WEIGHTS = 2
_SALT_CAPITAL = 3
_SALT_SCALAR = 4


@numba.njit(inline="always")
def _mix(z: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(inline="always")
def _hash(seed: np.uint64, salt: int, j: int, t: int) -> np.uint64:  # pragma: no cover
    z = seed + _GOLD * np.uint64(salt + 1)
    z = _mix(z + _GOLD * np.uint64(j + 1))
    return _mix(z + _GOLD * np.uint64(t + 1))


@numba.njit(inline="always")
def _unif(seed: np.uint64, salt: int, j: int, t: int) -> float:  # pragma: no cover
    """Uniform in (0, 1)."""
    return (float(_hash(seed, salt, j, t) >> _S11) + 0.5) * _INV53


@numba.njit(inline="always")
def _normal(seed: np.uint64, salt: int, j: int, t: int) -> float:  # pragma: no cover
    u1 = _unif(seed, salt, j, 2 * t)
    u2 = _unif(seed, salt, j, 2 * t + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(inline="always")
def _sorted_distinct(
    seed: np.uint64, salt: int, j: int, t0: int, k: int, m: int, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``k`` sorted distinct integers in ``[0, m)`` (needs ``k <= m``) into ``out[:k]``.

    Uniform order statistics from exponential spacings, then nudged apart.
    """
    if k == 0:
        return
    total = 0.0
    for t in range(k + 1):
        total += -math.log(_unif(seed, salt, j, t0 + t))
    acc = 0.0
    for t in range(k):
        acc += -math.log(_unif(seed, salt, j, t0 + t))
        p = int(acc / total * m)
        if p >= m:
            p = m - 1
        if t > 0 and p <= out[t - 1]:
            p = out[t - 1] + 1
        out[t] = p
    # pull back anything pushed past the end
    if out[k - 1] > m - 1:
        out[k - 1] = m - 1
        for t in range(k - 2, -1, -1):
            if out[t] >= out[t + 1]:
                out[t] = out[t + 1] - 1


@numba.njit(parallel=True, cache=True)
def _gen_block(
    seed: np.uint64,
    n: int,
    j0: int,
    j1: int,
    k: int,
    k_in: int,
    starts: np.ndarray,
    sigma: float,
    colsum: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    want_indices: bool,
    want_data: bool,
) -> None:  # pragma: no cover - compiled
    """Recipes of products ``j0 <= j < j1`` into ``indices``/``data`` (k entries each).

    Inputs and weights come from independent streams, so either can be drawn
    without the other (``want_indices`` / ``want_data``).
    """
    nclusters = starts.shape[0] - 1
    ncols = j1 - j0
    nchunks = min(512, ncols)
    step = (ncols + nchunks - 1) // nchunks
    for c in numba.prange(nchunks):
        a = np.empty(k, dtype=np.int64)  # scratch, once per chunk
        b = np.empty(k, dtype=np.int64)
        for jj in range(c * step, min(ncols, (c + 1) * step)):
            j = j0 + jj
            base = jj * k
            if want_indices:
                lo = 0
                hi = nclusters
                while hi - lo > 1:  # cluster of j
                    mid = (lo + hi) // 2
                    if starts[mid] <= j:
                        lo = mid
                    else:
                        hi = mid
                cs = starts[lo]
                m = starts[lo + 1] - cs
                kin = min(k_in, m)
                kout = k - kin
                if kout > n - m:
                    kout = n - m
                    kin = k - kout
                _sorted_distinct(seed, _SALT_INPUTS, j, 0, kin, m, a)
                _sorted_distinct(seed, _SALT_INPUTS, j, k + 2, kout, n - m, b)
                for t in range(kin):
                    a[t] += cs
                for t in range(kout):
                    if b[t] >= cs:
                        b[t] += m
                ia = 0
                ib = 0
                for t in range(k):  # merge the two sorted, disjoint lists
                    if ib >= kout or (ia < kin and a[ia] < b[ib]):
                        indices[base + t] = a[ia]
                        ia += 1
                    else:
                        indices[base + t] = b[ib]
                        ib += 1
            if want_data:
                s = 0.0
                for t in range(k):
                    e = -math.log(_unif(seed, _SALT_WEIGHTS, j, t))
                    if sigma == 2.0:
                        w = e * e
                    elif sigma == 1.0:
                        w = e
                    else:
                        w = e**sigma
                    data[base + t] = w
                    s += w
                f = colsum[jj] / s
                for t in range(k):
                    data[base + t] *= f


@numba.njit(parallel=True, cache=True)
def _gen_capital(
    seed: np.uint64,
    n: int,
    j0: int,
    j1: int,
    kc: int,
    ratio: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
) -> None:  # pragma: no cover
    for jj in numba.prange(j1 - j0):
        j = j0 + jj
        a = np.empty(kc, dtype=np.int64)
        _sorted_distinct(seed, _SALT_CAPITAL, j, 0, kc, n, a)
        s = 0.0
        base = jj * kc
        for t in range(kc):
            indices[base + t] = a[t]
            w = math.exp(_normal(seed, _SALT_CAPITAL, j, 100 + t))
            data[base + t] = w
            s += w
        f = ratio[jj] / s
        for t in range(kc):
            data[base + t] *= f


@numba.njit(parallel=True, cache=True)
def _gen_uniform(
    seed: np.uint64, salt: int, j0: int, j1: int, t: int, out: np.ndarray
) -> None:  # pragma: no cover
    for jj in numba.prange(j1 - j0):
        out[jj] = _unif(seed, salt, j0 + jj, t)


@dataclass(frozen=True)
class SyntheticSpec:
    """The parameters of a synthetic economy (see :func:`synthetic_economy`)."""

    n: int
    seed: int = 0
    inputs: int | None = None
    spectral_radius: float = 0.7
    spread: float = 0.0
    clusters: int | None = None
    within: float = 0.7
    sigma: float = 2.0
    capital_inputs: int = 2

    @property
    def k(self) -> int:
        """Inputs per product."""
        if self.inputs is not None:
            return self.inputs
        return min(self.n, round(math.log2(max(self.n, 2))) + 5)

    @property
    def n_clusters(self) -> int:
        if self.clusters is not None:
            return self.clusters
        return max(1, min(1000, round(math.sqrt(self.n) / 2)))

    def validate(self, caller: str) -> None:
        def bad(name: str, want: str, got: Any) -> ValidationError:
            return ValidationError(
                f"The '{name}' parameter of {caller} must be {want}; got {got!r}."
            )

        if not isinstance(self.n, int | np.integer) or self.n < 1 or self.n >= 2**31:
            raise bad("n", "an integer in [1, 2**31)", self.n)
        if self.inputs is not None and not (1 <= self.inputs <= self.n):
            raise bad("inputs", f"in [1, n={self.n}]", self.inputs)
        if not (0.0 < self.spectral_radius < 1.0):
            raise bad(
                "spectral_radius", "in (0, 1) (a productive technology)", self.spectral_radius
            )
        if not (0.0 <= self.spread < 1.0):
            raise bad("spread", "in [0, 1)", self.spread)
        if not (1 <= self.n_clusters <= self.n):
            raise bad("clusters", f"in [1, n={self.n}]", self.clusters)
        if not (0.0 <= self.within <= 1.0):
            raise bad("within", "in [0, 1]", self.within)
        if not (0.0 <= self.sigma <= 5.0):
            raise bad("sigma", "in [0, 5]", self.sigma)
        if not (0 <= self.capital_inputs <= self.n):
            raise bad("capital_inputs", f"in [0, n={self.n}]", self.capital_inputs)

    # ---------------------------------------------------------------- pieces
    @property
    def _seed(self) -> np.uint64:
        return np.uint64(self.seed % 2**64)

    def starts(self) -> np.ndarray:
        """First product of each cluster, plus ``n`` at the end."""
        c = self.n_clusters
        return np.linspace(0, self.n, c + 1).round().astype(np.int64)

    def _uniform(self, j0: int, j1: int, t: int) -> np.ndarray:
        out = np.empty(j1 - j0)
        _gen_uniform(self._seed, _SALT_SCALAR, j0, j1, t, out)
        return out

    def column_sums(self, j0: int, j1: int) -> np.ndarray:
        s = np.full(j1 - j0, self.spectral_radius)
        if self.spread > 0:
            s *= 1.0 - self.spread * self._uniform(j0, j1, 0)
        return s

    def block(
        self, j0: int, j1: int, *, indices: bool = True, data: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row indices and values of columns ``j0:j1`` of ``A`` (``inputs`` each).

        ``indices=False`` or ``data=False`` skips drawing that part (an empty
        array comes back): the two are independent streams.
        """
        k = self.k
        m = (j1 - j0) * k
        ind = np.empty(m if indices else 0, dtype=np.int32)
        dat = np.empty(m if data else 0, dtype=np.float64)
        k_in = round(self.within * k) if self.n_clusters > 1 else k
        _gen_block(
            self._seed,
            self.n,
            j0,
            j1,
            k,
            k_in,
            self.starts(),
            float(self.sigma),
            self.column_sums(j0, j1) if data else np.empty(0),
            ind,
            dat,
            indices,
            data,
        )
        return ind, dat

    def labour(self, j0: int, j1: int) -> np.ndarray:
        """Direct labour per unit: log-normal around 1 hour."""
        u1, u2 = self._uniform(j0, j1, 1), self._uniform(j0, j1, 2)
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        return np.exp(0.5 * z)

    def final_demand(self, j0: int, j1: int) -> np.ndarray:
        u = [self._uniform(j0, j1, t) for t in (3, 4, 5, 6)]
        personal = -10.0 * np.log(u[0]) * (u[1] > 1 / 3)
        social = -2.0 * np.log(u[2]) * (u[3] > 0.8)
        return np.column_stack([personal, social])

    def depreciation(self, j0: int, j1: int) -> np.ndarray:
        """Yearly wear rate of product ``i`` as a capital good, in ``[0.03, 0.15]``."""
        return 0.03 + 0.12 * self._uniform(j0, j1, 7)

    def capital_block(self, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
        kc = self.capital_inputs
        indices = np.empty((j1 - j0) * kc, dtype=np.int32)
        data = np.empty((j1 - j0) * kc, dtype=np.float64)
        if kc == 0:
            return indices, data
        ratio = 0.5 + 2.5 * self._uniform(j0, j1, 8)
        # cap the wear so that A + diag(delta) K stays productive: wear <= (1 - s_j)/2;
        # the largest wear rate is 0.15, so ratio <= (1 - s_j) / 0.3 suffices
        ratio = np.minimum(ratio, (1.0 - self.column_sums(j0, j1)) / 0.3)
        _gen_capital(self._seed, self.n, j0, j1, kc, ratio, indices, data)
        return indices, data
