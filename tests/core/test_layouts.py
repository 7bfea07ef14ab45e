"""Labour values are the same whatever the layout of ``A`` (CSR, CSC, COO, dense),
and the result says which path (view, kernel, copy) was taken."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gosplan import Economy, labour_values
from gosplan.core.kernels import make_apply_csc, operator_for
from gosplan.core.linsolve import solve_leontief, transposed_for
from gosplan.core.operators import Fastest, scatter_flat

METHODS = [
    "auto",
    "direct",
    "jacobi",
    "gmres",
    "bicgstab",
    "bicgstab-parallel",
    "mixed",
    "jacobi-parallel",
]
LAYOUTS = ["csr", "csc", "coo", "dense"]


def _matrix(n: int, seed: int = 3, rho: float = 0.7) -> tuple[sp.csc_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = max(2, int(np.log2(n)) + 3)
    rows = np.concatenate([rng.integers(0, n, size=(n, k - 1)).ravel(), (np.arange(n) + 1) % n])
    cols = np.concatenate([np.repeat(np.arange(n), k - 1), np.arange(n)])
    A = sp.csc_array((rng.random(rows.size), (rows, cols)), shape=(n, n))
    A = sp.csc_array(A @ sp.diags_array(rho / np.asarray(A.sum(axis=0)).ravel()))
    return A, rng.random(n) + 0.1


def _as(A: sp.csc_array, layout: str) -> object:
    return {
        "csr": sp.csr_array(A),
        "csc": sp.csc_array(A),
        "coo": sp.coo_array(A),
        "dense": A.toarray(),
    }[layout]


@pytest.mark.parametrize("n", [300, 1200])  # below and above the LU limit of "auto"
@pytest.mark.parametrize("method", METHODS)
def test_same_values_for_every_layout(n: int, method: str) -> None:
    A, l = _matrix(n)  # noqa: E741
    ref = np.linalg.solve((np.eye(n) - A.toarray()).T, l)
    for layout in LAYOUTS:
        e = Economy.from_coefficients(_as(A, layout), l)
        r = labour_values(e, method=method, tol=1e-11)
        np.testing.assert_allclose(
            r.values.to_numpy(), ref, rtol=1e-9, err_msg=f"{layout} with {method}"
        )
        assert r.residual <= 1e-11
        assert r.layout_path in ("transposed-view", "csr-kernel", "converted")
        if e.A.format == "csc":
            assert r.layout_path == "transposed-view"
        elif method in ("bicgstab-parallel", "mixed", "jacobi-parallel") or (
            method == "auto" and n > 500
        ):
            assert r.layout_path == "csr-kernel", (layout, method)
        else:
            assert r.layout_path == "transposed-view", (layout, method)


def test_csr_kernel_uses_the_matrix_in_place() -> None:
    A, _ = _matrix(2000)
    Ar = sp.csr_array(A)
    M, path = transposed_for(Ar, "auto")
    assert path == "csr-kernel" and M.format == "csc"
    assert np.shares_memory(M.data, Ar.data) and np.shares_memory(M.indices, Ar.indices)
    Mc, path_c = transposed_for(A, "auto")
    assert path_c == "transposed-view" and Mc.format == "csr"
    assert np.shares_memory(Mc.data, A.data)


def _unsorted(A: sp.csr_array) -> sp.csr_array:
    B = sp.csr_array(A, copy=True)
    for j in range(B.shape[0]):
        a, b = B.indptr[j], B.indptr[j + 1]
        B.indices[a:b] = B.indices[a:b][::-1].copy()
        B.data[a:b] = B.data[a:b][::-1].copy()
    B.has_sorted_indices = False
    return B


def test_unsorted_csr_is_converted_below_the_limit_and_filtered_above(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gosplan.core.linsolve as ls

    A, l = _matrix(1500)  # noqa: E741
    ref = np.linalg.solve((np.eye(1500) - A.toarray()).T, l)
    B = _unsorted(sp.csr_array(A))
    M, path = transposed_for(B, "bicgstab-parallel")
    assert path == "converted" and M.format == "csr"
    np.testing.assert_allclose(
        solve_leontief(M, l, method="bicgstab-parallel", tol=1e-12).x, ref, rtol=1e-9
    )
    monkeypatch.setattr(ls, "CONVERT_LIMIT", 10)
    M, path = transposed_for(B, "bicgstab-parallel")
    assert path == "csr-kernel" and not M.has_sorted_indices
    np.testing.assert_allclose(
        solve_leontief(M, l, method="bicgstab-parallel", tol=1e-12).x, ref, rtol=1e-9
    )
    _, path = transposed_for(sp.csr_array(A), "cuda")
    assert path == "converted"


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("sorted_indices", [True, False])
def test_scatter_kernel_blocks_agree_with_scipy(threads: int, sorted_indices: bool) -> None:
    rng = np.random.default_rng(threads)
    for n in (1, 7, 500):
        A, _ = _matrix(max(n, 2), seed=n)
        A = A[:n, :n]
        M = sp.csc_array(A)
        M.sort_indices()  # slicing leaves them unsorted
        if not sorted_indices:
            M = sp.csc_array(_unsorted(sp.csr_array(M.T)).T)
        x = rng.random(n)
        out = np.empty(n)
        apply = make_apply_csc(
            M.indptr, M.indices, M.data, threads=threads, sorted_indices=sorted_indices
        )
        for _ in range(6):  # the trials of each candidate, then the chosen one
            out.fill(np.nan)
            apply(x, out)
            np.testing.assert_allclose(out, x - M @ x, rtol=1e-13, atol=1e-15)
        if isinstance(apply, Fastest):
            assert apply.chosen in ("blocked", "flat")
            assert all(len(v) == 2 for v in apply.seconds.values())
        out32 = np.empty(n, dtype=np.float32)
        make_apply_csc(M.indptr, M.indices, M.data.astype(np.float32), threads=threads)(
            x.astype(np.float32), out32
        )
        np.testing.assert_allclose(out32, x - M @ x, rtol=1e-4, atol=1e-5)


def test_operator_for_reads_either_layout() -> None:
    A, _ = _matrix(800)
    x = np.random.default_rng(0).random(800)
    for M in (sp.csr_array(A), sp.csc_array(A)):
        out = np.empty(800)
        operator_for(M)(x, out)
        np.testing.assert_allclose(out, x - A @ x, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flat_scatter_agrees_with_scipy_for_any_index_order(dtype: type) -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 9, 700):
        A, _ = _matrix(max(n, 2), seed=n)
        keep = np.ones(n)
        keep[[n // 2, n - 1]] = 0.0  # an empty column in the middle and at the end
        A = sp.csc_array(A[:n, :n] @ sp.diags_array(keep))
        A.eliminate_zeros()
        for M in (A, _unsorted(sp.csr_array(A.T)).T):
            x = rng.random(n).astype(dtype)
            out = np.full(n, np.nan, dtype=dtype)
            scatter_flat(M.indptr, M.indices, M.data.astype(dtype), x, out)
            tol = 1e-13 if dtype == np.float64 else 1e-5
            np.testing.assert_allclose(out, x - M @ x, rtol=tol, atol=tol)


def test_fastest_keeps_the_faster_candidate() -> None:
    import time

    calls: list[str] = []

    def fast(x: np.ndarray, out: np.ndarray) -> None:
        calls.append("fast")
        np.copyto(out, 2 * x)

    def slow(x: np.ndarray, out: np.ndarray) -> None:
        calls.append("slow")
        time.sleep(0.02)
        np.copyto(out, 2 * x)

    f = Fastest({"slow": slow, "fast": fast}, trials=2)
    x, out = np.arange(3.0), np.empty(3)
    for _ in range(7):
        assert f.chosen in ("", "fast")
        f(x, out)
        np.testing.assert_array_equal(out, 2 * x)
    assert f.chosen == "fast"
    assert calls == ["slow", "fast", "slow", "fast", "fast", "fast", "fast"]


def test_csr_and_csc_values_agree_on_the_parallel_path_with_the_solver_residual() -> None:
    n = 60_000  # above the two-thread threshold of the scatter (50 000 products)
    A, l = _matrix(n, seed=11)  # noqa: E741
    a = labour_values(Economy.from_coefficients(sp.csc_array(A), l), tol=1e-11)
    b = labour_values(Economy.from_coefficients(sp.csr_array(A), l), tol=1e-11)
    assert (a.layout_path, b.layout_path) == ("transposed-view", "csr-kernel")
    va, vb = a.values.to_numpy(), b.values.to_numpy()
    np.testing.assert_allclose(vb, va, rtol=1e-10)
    for r, v in ((a, va), (b, vb)):  # the reported residual is that of the values returned
        true = np.linalg.norm(v - A.T @ v - l) / np.linalg.norm(l)
        assert r.residual <= 1e-11 and true <= 1e-11
        assert r.residual == pytest.approx(true, rel=1e-3, abs=1e-15)
