from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gosplan import ValidationError
from gosplan.scale import (
    read_synthetic,
    read_synthetic_matrix,
    synthetic_economy,
    synthetic_matrix,
    write_synthetic,
)


def _perron(A: sp.sparray) -> float:
    return float(np.abs(np.linalg.eigvals(A.toarray())).max())


def test_same_seed_same_arrays_different_seed_different() -> None:
    a = synthetic_economy(500, seed=7)
    b = synthetic_economy(500, seed=7)
    c = synthetic_economy(500, seed=8)
    for x, y in ((a.A, b.A), (a.capital, b.capital)):
        assert np.array_equal(x.indptr, y.indptr)
        assert np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)
    assert np.array_equal(a.labour, b.labour)
    assert a.final_demand is not None and b.final_demand is not None
    assert a.final_demand.equals(b.final_demand)
    assert not np.array_equal(a.labour, c.labour)
    assert (a.A != c.A).nnz > 0.9 * a.A.nnz


def test_independent_of_chunking_and_threads() -> None:
    """Product j's recipe depends only on (seed, j): generating in pieces changes nothing."""
    whole = synthetic_matrix(1000, seed=3)
    from gosplan.scale.synthetic_economies import SyntheticSpec

    spec = SyntheticSpec(n=1000, seed=3)
    ind1, dat1 = spec.block(0, 400)
    ind2, dat2 = spec.block(400, 1000)
    assert np.array_equal(np.concatenate([ind1, ind2]), whole.indices)
    assert np.array_equal(np.concatenate([dat1, dat2]), whole.data)


@pytest.mark.parametrize("n", [64, 1000, 4096])
def test_inputs_per_product_is_log2n_plus_5(n: int) -> None:
    A = synthetic_matrix(n, seed=1)
    k = round(math.log2(n)) + 5
    per_column = np.diff(A.indptr)
    assert np.all(per_column == k)
    # distinct, sorted inputs in every recipe
    rows = A.indices.reshape(n, k)
    assert np.all(np.diff(rows, axis=1) > 0)
    assert A.indices.min() >= 0 and A.indices.max() < n


@pytest.mark.parametrize(("rho", "spread"), [(0.5, 0.0), (0.9, 0.0), (0.8, 0.4)])
def test_spectral_radius_as_requested(rho: float, spread: float) -> None:
    A = synthetic_matrix(600, seed=2, spectral_radius=rho, spread=spread)
    colsum = np.asarray(A.sum(axis=0)).ravel()
    r = _perron(A)
    if spread == 0.0:
        np.testing.assert_allclose(colsum, rho, rtol=1e-12)
        assert r == pytest.approx(rho, rel=1e-9)
    else:
        assert colsum.min() >= rho * (1 - spread) - 1e-12
        assert colsum.max() <= rho + 1e-12
        assert colsum.max() - colsum.min() > 0.1 * rho * spread  # really spread
        assert rho * (1 - spread) - 1e-9 <= r <= rho + 1e-9


def test_cyclic_not_triangular_and_clustered() -> None:
    n = 2000
    e = synthetic_economy(n, seed=4, clusters=10, within=0.7)
    A = e.A
    # strongly connected: one strong component, so no ordering makes A triangular
    ncomp, _ = connected_components(A, directed=True, connection="strong")
    assert ncomp == 1
    assert sp.triu(A, k=1).nnz > 0 and sp.tril(A, k=-1).nnz > 0
    # block structure: the share of entries inside a product's own cluster
    coo = sp.coo_array(A)
    starts = np.linspace(0, n, 11).round().astype(int)
    cl_row = np.searchsorted(starts, coo.row, side="right")
    cl_col = np.searchsorted(starts, coo.col, side="right")
    share = float(np.mean(cl_row == cl_col))
    k = round(math.log2(n)) + 5
    assert share == pytest.approx(round(0.7 * k) / k, abs=0.02)
    assert share > 0.5  # versus 1/10 for an unstructured matrix


def test_economy_has_labour_capital_demand_and_is_productive() -> None:
    e = synthetic_economy(800, seed=9)
    assert e.n == 800 and e.labour_unit == "hours"
    assert np.all(e.labour > 0)
    assert e.capital is not None and e.depreciation is not None
    assert np.all(np.diff(sp.csc_array(e.capital).indptr) == 2)
    D = e.depreciation_coefficients
    assert D is not None
    colsum = np.asarray((e.A + D).sum(axis=0)).ravel()
    assert colsum.max() < 1.0  # productive with depreciation too
    fd = e.final_demand
    assert fd is not None and list(fd.columns) == ["personal", "social"]
    assert (fd.to_numpy() >= 0).all() and (fd["personal"] == 0).mean() == pytest.approx(
        1 / 3, abs=0.06
    )
    assert e.spectral_radius() == pytest.approx(0.7, rel=1e-6)


def test_stream_to_npz_and_back(tmp_path: Path) -> None:
    path = write_synthetic(tmp_path / "e.npz", 1500, seed=11, chunk=400, spread=0.2)
    direct = synthetic_economy(1500, seed=11, spread=0.2)
    back = read_synthetic(path)
    assert (back.A != direct.A).nnz == 0
    assert np.array_equal(back.labour, direct.labour)
    assert back.capital is not None and direct.capital is not None
    assert (back.capital != direct.capital).nnz == 0
    assert back.final_demand is not None and direct.final_demand is not None
    np.testing.assert_array_equal(back.final_demand.to_numpy(), direct.final_demand.to_numpy())
    # scipy reads the matrix part of the same file
    M = sp.load_npz(path)
    assert M.format == "csc" and (M != read_synthetic_matrix(path)).nnz == 0


def test_read_refuses_a_foreign_file(tmp_path: Path) -> None:
    p = tmp_path / "other.npz"
    np.savez(p, a=np.arange(3))
    with pytest.raises(ValidationError, match=r"lacks \[.*'indptr'"):
        read_synthetic(p)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"spectral_radius": 1.0}, "spectral_radius"),
        ({"spread": -0.1}, "spread"),
        ({"inputs": 0}, "inputs"),
        ({"within": 1.5}, "within"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValidationError, match=f"'{match}' parameter of synthetic_economy"):
        synthetic_economy(100, **kwargs)  # type: ignore[arg-type]
