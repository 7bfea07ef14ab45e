"""Synthetic economies at the level of individual products, deterministic by seed.

Structure (what a benchmark needs to be honest)
-----------------------------------------------
* **Sparsity.**  Every product has exactly ``inputs`` distinct inputs
  (default ``round(log2 n) + 5``, Cockshott's model), so ``nnz(A) = n * inputs``
  and every *column* of ``A`` (a recipe) has the same number of entries.
* **Industries.**  Products are grouped in ``clusters`` contiguous blocks of
  (nearly) equal size; a share ``within`` of each recipe's inputs comes from
  the product's own block, the rest from anywhere else.  Input weights are
  log-normal, so a few inputs dominate each recipe, as in real tables.
* **Cycles.**  Inputs are drawn at random in both directions, so the matrix
  is not triangular under any ordering: the input graph is strongly connected
  (with overwhelming probability; the tests check it).
* **Spectral radius.**  Column ``j`` is scaled so that its sum is ``s_j``.
  With ``spread=0`` (default) every column sums to ``spectral_radius`` and,
  ``1ᵀ A = ρ 1ᵀ`` with a positive left eigenvector, the spectral radius is
  **exactly** ``ρ`` (Perron–Frobenius).  With ``spread > 0`` the sums are
  drawn in ``[ρ (1 - spread), ρ]`` and the spectral radius lies in that
  interval (it is bounded by the smallest and largest column sums).  Because
  every column sum is below one, the technology is productive by
  construction.
* **Labour, capital, demand.**  Direct labour per unit is log-normal (hours
  per unit).  ``capital[i, j]`` has ``capital_inputs`` entries per column,
  with a capital–output ratio in ``[0.5, 3]`` that is capped so that the wear
  ``diag(depreciation) @ capital`` adds at most ``(1 - s_j) / 2`` to column
  ``j``: ``A + D`` stays productive.  Final demand has a ``personal`` and a
  ``social`` column, log-normal with about a third of products (pure
  intermediate goods) at zero personal demand.

Generation is a parallel numba kernel over products with a counter-based
random generator (SplitMix64 of seed, product and draw), so the result does
not depend on the number of threads or on chunking: the same seed gives the
same arrays, and :func:`write_synthetic` streams any size to a ``.npz`` file
chunk by chunk with bounded memory.  The matrix is built directly in
compressed form (columns of ``A``, i.e. CSC) with sorted indices — no COO
sort.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy, EconomyMeta
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


def _spec(n: int, kw: dict[str, Any], caller: str) -> SyntheticSpec:
    spec = SyntheticSpec(n=n, **kw)
    spec.validate(caller)
    return spec


def synthetic_matrix(n: int, *, seed: int = 0, **kwargs: Any) -> sp.csc_array:
    """Only the technology ``A`` of :func:`synthetic_economy`, as a CSC array.

    Column ``j`` of ``A`` is product ``j``'s recipe, so the CSC arrays of ``A``
    are the CSR arrays of ``A.T`` (what a labour-value solve iterates on):
    ``sp.csr_array((m.data, m.indices, m.indptr), shape=m.shape)`` is ``A.T``
    without a copy.
    """
    spec = _spec(n, dict(seed=seed, **kwargs), "synthetic_matrix")
    indices, data = spec.block(0, n)
    indptr = np.arange(
        0, n * spec.k + 1, spec.k, dtype=np.int64 if n * spec.k >= 2**31 else np.int32
    )
    M = sp.csc_array((data, indices, indptr), shape=(n, n))
    M.has_sorted_indices = True
    M.has_canonical_format = True
    return M


def synthetic_economy(
    n: int,
    *,
    seed: int = 0,
    inputs: int | None = None,
    spectral_radius: float = 0.7,
    spread: float = 0.0,
    clusters: int | None = None,
    within: float = 0.7,
    sigma: float = 2.0,
    capital_inputs: int = 2,
) -> Economy:
    """A synthetic product-level :class:`Economy` with ``n`` products.

    Parameters
    ----------
    n
        Number of products.
    seed
        Same seed, same economy (bit for bit, whatever the thread count).
    inputs
        Inputs per product; default ``round(log2 n) + 5``.
    spectral_radius
        ``ρ`` in (0, 1): every column of ``A`` sums to ``ρ`` (``spread=0``), so
        the spectral radius is exactly ``ρ``; with ``spread > 0`` column sums lie
        in ``[ρ (1 - spread), ρ]`` and so does the spectral radius.
    clusters, within
        Number of industries (contiguous blocks of products; default
        ``min(1000, round(sqrt(n) / 2))``) and the share of each recipe's
        inputs taken from the product's own industry.
    sigma
        Weights within a recipe are ``E**sigma``, ``E`` exponential (heavier tail as it grows).
    capital_inputs
        Capital goods per product (0 for none).

    The technology is productive by construction (every column sum is below
    one), which :class:`Economy` confirms cheaply from the column sums.
    Labels are ``p0 … p{n-1}``; labour is in hours per unit; gross output is
    not set (solve for it with :func:`gosplan.gross_output`).
    """
    spec = _spec(
        n,
        dict(
            seed=seed,
            inputs=inputs,
            spectral_radius=spectral_radius,
            spread=spread,
            clusters=clusters,
            within=within,
            sigma=sigma,
            capital_inputs=capital_inputs,
        ),
        "synthetic_economy",
    )
    return _economy_from_parts(spec, *_parts(spec))


def _parts(
    spec: SyntheticSpec,
) -> tuple[sp.csc_array, np.ndarray, np.ndarray, sp.csc_array | None, np.ndarray | None]:
    n = spec.n
    A = synthetic_matrix(n, **_kw(spec))
    K = None
    delta = None
    if spec.capital_inputs:
        ki, kd = spec.capital_block(0, n)
        K = sp.csc_array(
            (
                kd,
                ki,
                np.arange(0, n * spec.capital_inputs + 1, spec.capital_inputs, dtype=np.int64),
            ),
            shape=(n, n),
        )
        delta = spec.depreciation(0, n)
    return A, spec.labour(0, n), spec.final_demand(0, n), K, delta


def _kw(spec: SyntheticSpec) -> dict[str, Any]:
    return dict(
        seed=spec.seed,
        inputs=spec.inputs,
        spectral_radius=spec.spectral_radius,
        spread=spec.spread,
        clusters=spec.clusters,
        within=spec.within,
        sigma=spec.sigma,
        capital_inputs=spec.capital_inputs,
    )


def _economy_from_parts(
    spec: SyntheticSpec,
    A: Any,
    labour: np.ndarray,
    fd: np.ndarray,
    K: Any,
    delta: np.ndarray | None,
) -> Economy:
    meta = EconomyMeta(source=f"gosplan.scale.synthetic_economies seed={spec.seed}")
    meta.note(
        f"synthetic: n={spec.n}, inputs={spec.k} per product, clusters={spec.n_clusters}, "
        f"within={spec.within}, spectral radius "
        + (
            f"exactly {spec.spectral_radius}"
            if spec.spread == 0
            else f"in [{spec.spectral_radius * (1 - spec.spread):.4g}, {spec.spectral_radius}]"
        )
    )
    A = sp.csc_array(A)  # column-major: labour values use its transpose view, no copy
    if K is not None:
        K = sp.csr_array(K)
    frame = pd.DataFrame(fd, columns=["personal", "social"])
    return Economy(
        A,
        labour,
        labour_unit="hours",
        labour_kind="hours",
        output_unit="unit",
        final_demand=frame,
        purposes={"personal": "personal", "social": "social"},
        capital=K,
        depreciation=delta,
        name=f"synthetic-{spec.n}",
        kind="product",
        meta=meta,
    )


# ---------------------------------------------------------------------- streaming to disk


def _chunks(n: int, chunk: int) -> Iterator[tuple[int, int]]:
    for j0 in range(0, n, chunk):
        yield j0, min(n, j0 + chunk)


def _write_npy_stream(
    zf: zipfile.ZipFile,
    name: str,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    pieces: Iterator[np.ndarray],
) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with zf.open(name + ".npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        written = 0
        for p in pieces:
            arr = np.ascontiguousarray(p, dtype=dtype)
            fh.write(arr.tobytes() if arr.ndim == 0 else arr.data.cast("B"))
            written += arr.shape[0] if arr.ndim else 1
        if shape and written != shape[0]:
            raise RuntimeError(f"{name}: wrote {written} rows, expected {shape[0]}")


def write_synthetic(
    path: str | Path,
    n: int,
    *,
    seed: int = 0,
    chunk: int = 1_000_000,
    **kwargs: Any,
) -> Path:
    """Generate the economy of :func:`synthetic_economy` straight to a ``.npz`` file.

    Columns are generated ``chunk`` products at a time and streamed into the
    archive, so memory stays at one chunk whatever ``n``.  The file holds
    ``A`` in scipy's sparse ``.npz`` layout (``scipy.sparse.load_npz`` reads
    it as the CSC of ``A``), plus ``labour``, ``final_demand``, ``capital_*``,
    ``depreciation`` and the generator's parameters under ``spec_*``.  Read it
    back with :func:`read_synthetic`.
    """
    spec = _spec(n, dict(seed=seed, **kwargs), "write_synthetic")
    if chunk < 1:
        raise ValidationError(
            f"The 'chunk' parameter of write_synthetic must be >= 1; got {chunk!r}."
        )
    p = Path(path)
    k, kc = spec.k, spec.capital_inputs
    ptr_t = np.dtype(np.int64)
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:

        def small(name: str, arr: np.ndarray) -> None:
            _write_npy_stream(zf, name, arr.dtype, arr.shape, iter([arr]))

        small("format", np.array(b"csc"))  # scipy.sparse.load_npz keys
        small("shape", np.array([n, n], dtype=np.int64))
        _write_npy_stream(
            zf,
            "indptr",
            ptr_t,
            (n + 1,),
            (np.arange(j0, j1 + (j1 == n), dtype=np.int64) * k for j0, j1 in _chunks(n, chunk)),
        )
        _write_npy_stream(
            zf,
            "indices",
            np.dtype(np.int32),
            (n * k,),
            (spec.block(j0, j1, data=False)[0] for j0, j1 in _chunks(n, chunk)),
        )
        _write_npy_stream(
            zf,
            "data",
            np.dtype(np.float64),
            (n * k,),
            (spec.block(j0, j1, indices=False)[1] for j0, j1 in _chunks(n, chunk)),
        )
        _write_npy_stream(
            zf,
            "labour",
            np.dtype(np.float64),
            (n,),
            (spec.labour(j0, j1) for j0, j1 in _chunks(n, chunk)),
        )
        fd = np.dtype(np.float64)
        with zf.open("final_demand.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_2_0(
                fh, {"descr": fd.str, "fortran_order": False, "shape": (n, 2)}
            )
            for j0, j1 in _chunks(n, chunk):
                fh.write(np.ascontiguousarray(spec.final_demand(j0, j1)).data.cast("B"))
        if kc:
            _write_npy_stream(
                zf,
                "capital_indices",
                np.dtype(np.int32),
                (n * kc,),
                (spec.capital_block(j0, j1)[0] for j0, j1 in _chunks(n, chunk)),
            )
            _write_npy_stream(
                zf,
                "capital_data",
                np.dtype(np.float64),
                (n * kc,),
                (spec.capital_block(j0, j1)[1] for j0, j1 in _chunks(n, chunk)),
            )
            _write_npy_stream(
                zf,
                "depreciation",
                np.dtype(np.float64),
                (n,),
                (spec.depreciation(j0, j1) for j0, j1 in _chunks(n, chunk)),
            )
        for key, val in _kw(spec).items():
            small(f"spec_{key}", np.array(-1 if val is None else val))
    return p


def read_synthetic_matrix(path: str | Path) -> sp.csc_array:
    """The technology ``A`` (CSC) from a file of :func:`write_synthetic`."""
    with np.load(path) as z:
        M = sp.csc_array((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
    return M


def read_synthetic(path: str | Path) -> Economy:
    """The :class:`Economy` written by :func:`write_synthetic`."""
    p = Path(path)
    try:
        z = np.load(p)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValidationError(
            f"read_synthetic: {p} is not a synthetic-economy .npz: {exc}"
        ) from None
    with z:
        missing = [
            key
            for key in ("shape", "indptr", "indices", "data", "labour", "final_demand", "spec_seed")
            if key not in z.files
        ]
        if missing:
            raise ValidationError(
                f"read_synthetic: {p} lacks {missing}; was it written by write_synthetic?"
            )
        kw = {key[5:]: z[key].item() for key in z.files if key.startswith("spec_")}
        for key in ("inputs", "clusters"):
            if kw.get(key) == -1:
                kw[key] = None
        n = int(z["shape"][0])
        spec = SyntheticSpec(n=n, **kw)
        A = sp.csc_array((z["data"], z["indices"], z["indptr"]), shape=(n, n))
        K = None
        delta = None
        if "capital_indices" in z.files:
            kc = spec.capital_inputs
            K = sp.csc_array(
                (
                    z["capital_data"],
                    z["capital_indices"],
                    np.arange(0, n * kc + 1, kc, dtype=np.int64),
                ),
                shape=(n, n),
            )
            delta = z["depreciation"]
        return _economy_from_parts(spec, A, z["labour"], z["final_demand"], K, delta)


__all__ = [
    "SyntheticSpec",
    "read_synthetic",
    "read_synthetic_matrix",
    "synthetic_economy",
    "synthetic_matrix",
    "write_synthetic",
]
