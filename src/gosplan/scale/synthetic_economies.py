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

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy, EconomyMeta
from gosplan.errors import ValidationError
from gosplan.scale._synthetic_gen import SyntheticSpec


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
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_technology(zf, spec, chunk)
        _write_vectors(zf, spec, chunk)
        if spec.capital_inputs:
            _write_capital(zf, spec, chunk)
        for key, val in _kw(spec).items():
            _write_small(zf, f"spec_{key}", np.array(-1 if val is None else val))
    return p


def _write_small(zf: zipfile.ZipFile, name: str, arr: np.ndarray) -> None:
    _write_npy_stream(zf, name, arr.dtype, arr.shape, iter([arr]))


def _write_technology(zf: zipfile.ZipFile, spec: SyntheticSpec, chunk: int) -> None:
    """``A`` in scipy's sparse ``.npz`` layout (CSC), ``chunk`` columns at a time."""
    n, k = spec.n, spec.k
    _write_small(zf, "format", np.array(b"csc"))  # scipy.sparse.load_npz keys
    _write_small(zf, "shape", np.array([n, n], dtype=np.int64))
    _write_npy_stream(
        zf,
        "indptr",
        np.dtype(np.int64),
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


def _write_vectors(zf: zipfile.ZipFile, spec: SyntheticSpec, chunk: int) -> None:
    """Labour per unit and the two final-demand columns, ``chunk`` products at a time."""
    n = spec.n
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


def _write_capital(zf: zipfile.ZipFile, spec: SyntheticSpec, chunk: int) -> None:
    """The capital matrix's columns and the depreciation rates, ``chunk`` at a time."""
    n, kc = spec.n, spec.capital_inputs
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
