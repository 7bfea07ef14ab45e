"""Every large-economy solver path agrees with a direct solve, on synthetic and real tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gosplan import Economy, NotConverged, Status, labour_values
from gosplan.core.gpu import CudaUnavailable, bicgstab_generic, cuda_backend
from gosplan.core.kernels import solve_bicgstab, solve_jacobi_parallel
from gosplan.core.linsolve import solve_leontief
from gosplan.scale import synthetic_economy

PATHS = ["bicgstab-parallel", "mixed", "jacobi-parallel"]
NAMES = {
    "bicgstab-parallel": "bicgstab-parallel",
    "mixed": "bicgstab-mixed",
    "jacobi-parallel": "jacobi-parallel",
}
TOL = 1e-10

REAL = [
    "default",
    "uk-1984/UK-1984.csv",
    "uk-1984/UK-1995.csv",
    "uk-2015/ons-detailed-ioats-2015-bb18.xls",
    "sweden-2008-2016/scb-nrio-sut-181108.xlsx",
    "wiod-2016/AUS_NIOT_nov16.xlsx",
    "wiod-2016/CAN_NIOT_nov16.xlsx",
    "wiod-2016/DEU_NIOT_nov16.xlsx",
    "wiod-2016/FRA_NIOT_nov16.xlsx",
    "wiod-2016/GBR_NIOT_nov16.xlsx",
    "wiod-2016/USA_NIOT_nov16.xlsx",
]
_CACHE: dict[str, Economy] = {}


def real_economy(spec: str, data_dir: Path) -> Economy:
    from gosplan.readers.registry import open_source

    if spec not in _CACHE:
        _CACHE[spec] = open_source(spec if spec == "default" else str(data_dir / spec))
    return _CACHE[spec]


_REF: dict[int, np.ndarray] = {}


def _direct(e: Economy) -> np.ndarray:
    key = id(e)
    if key not in _REF:
        _REF[key] = np.asarray(labour_values(e, method="direct", tol=1e-13).values)
    return _REF[key]


_SYN: dict[tuple[float, float], Economy] = {}


def _synthetic(rho: float, spread: float) -> Economy:
    if (rho, spread) not in _SYN:
        _SYN[rho, spread] = synthetic_economy(1500, seed=21, spectral_radius=rho, spread=spread)
    return _SYN[rho, spread]


def _check(e: Economy, method: str, tol: float = TOL) -> None:
    ref = _direct(e)
    r = labour_values(e, method=method, tol=tol)
    assert r.residual <= tol
    assert r.method.startswith(NAMES[method])
    # the residual bound gives a relative error bound of cond(I - A^T) * tol
    err = np.abs(r.values.to_numpy() - ref).max() / np.abs(ref).max()
    assert err < 1e3 * tol, (method, err)


@pytest.mark.parametrize("method", PATHS)
@pytest.mark.parametrize(("rho", "spread"), [(0.7, 0.0), (0.95, 0.3)])
def test_paths_agree_with_direct_on_cyclic_synthetic(
    method: str, rho: float, spread: float
) -> None:
    _check(_synthetic(rho, spread), method)


@pytest.mark.shared_data
@pytest.mark.parametrize("method", PATHS)
@pytest.mark.parametrize("spec", REAL)
def test_paths_agree_with_direct_on_real_tables(spec: str, method: str, data_dir: Path) -> None:
    _check(real_economy(spec, data_dir), method)


def test_auto_uses_the_parallel_krylov_solver_for_large_economies() -> None:
    e = synthetic_economy(2100, seed=5)
    r = labour_values(e)  # the public function, method="auto"
    assert r.method == "bicgstab-parallel"
    assert r.residual <= 1e-10
    np.testing.assert_allclose(r.values.to_numpy(), _direct(e), rtol=1e-8)


def test_gross_output_with_the_parallel_solver() -> None:
    e = synthetic_economy(2500, seed=6)
    assert e.final_demand is not None
    y = e.final_demand["personal"].to_numpy()
    res = solve_leontief(e.A, y, method="bicgstab-parallel", tol=1e-11)
    assert res.success and res.residual <= 1e-11
    x = res.x
    np.testing.assert_allclose(x - e.A @ x, y, atol=1e-9 * np.linalg.norm(y))


def test_mixed_precision_reaches_float64_residual_beyond_float32() -> None:
    """float32 alone cannot get below ~1e-7; the float64 refinement must do the rest."""
    e = synthetic_economy(4000, seed=8, spectral_radius=0.9)
    M = sp.csr_array(e.A.T)
    r = solve_bicgstab(M, e.labour, rtol=1e-12, precision="mixed")
    assert r.success and r.residual <= 1e-12
    assert r.extra["refinements"] >= 2  # it really corrected in float64
    true = np.linalg.norm(e.labour - r.x + M @ r.x) / np.linalg.norm(e.labour)
    assert true == pytest.approx(r.residual, rel=1e-6)


def _not_productive(rho: float) -> Economy:
    A = synthetic_economy(1500, seed=3, spectral_radius=0.5).A * (rho / 0.5)
    return Economy(A, np.ones(1500), check_productive=False)


@pytest.mark.parametrize("method", PATHS)
@pytest.mark.parametrize("rho", [1.0, 1.1])
def test_spectral_radius_at_or_above_one_is_an_error(method: str, rho: float) -> None:
    e = _not_productive(rho)
    with pytest.raises(NotConverged):
        labour_values(e, method=method, maxiter=400)
    M = sp.csr_array(e.A.T)
    res = solve_leontief(M, e.labour, method=method, maxiter=400)
    assert not res.success
    assert res.status in (Status.BREAKDOWN, Status.ITERATION_LIMIT)


def test_krylov_converging_to_a_negative_solution_is_refused() -> None:
    # rho = 1.1 with a gap: BiCGSTAB finds the (negative) solution of (I - M) x = b
    e = _not_productive(1.1)
    res = solve_bicgstab(sp.csr_array(e.A.T), e.labour, maxiter=400)
    assert res.status == Status.BREAKDOWN
    assert "not productive" in res.message


def test_callback_sees_progress_and_can_stop() -> None:
    e = synthetic_economy(2500, seed=2)
    seen: list[tuple[int, float]] = []

    def cb(k: int, rel: float) -> None:
        seen.append((k, rel))
        if len(seen) >= 3:
            raise StopIteration

    res = solve_bicgstab(sp.csr_array(e.A.T), e.labour, callback=cb)
    assert res.status == Status.ITERATION_LIMIT and "callback" in res.message
    assert len(seen) == 3 and seen[-1][1] < seen[0][1]
    with pytest.raises(NotConverged, match="stopped short"):
        labour_values(e, callback=cb)


def test_parallel_jacobi_agrees_with_scipy_jacobi_sweep_for_sweep() -> None:
    e = synthetic_economy(2000, seed=4)
    M = sp.csr_array(e.A.T)
    a = solve_jacobi_parallel(M, e.labour, rtol=1e-9)
    b = solve_leontief(M, e.labour, method="jacobi", tol=1e-9)
    assert a.success and b.success
    assert abs(a.nit - b.nit) <= 1
    np.testing.assert_allclose(a.x, b.x, rtol=1e-8)


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    try:
        cuda_backend()
    except CudaUnavailable:
        pass
    else:
        pytest.skip("a CUDA device is present; the error path cannot be exercised here")
    e = synthetic_economy(300, seed=1)
    with pytest.raises(CudaUnavailable, match=r"CuPy or PyTorch with a CUDA GPU.*bicgstab"):
        labour_values(e, method="cuda")


def test_the_gpu_iteration_itself_on_numpy_arrays() -> None:
    """The GPU path's BiCGSTAB is array-library generic; run it on the CPU."""
    e = synthetic_economy(2000, seed=12, spectral_radius=0.9)
    M = sp.csr_array(e.A.T)
    b = e.labour
    x, nmv, ok = bicgstab_generic(
        lambda v: M @ v, b, b.copy(), tol_abs=1e-11 * np.linalg.norm(b), max_mv=500
    )
    assert ok and nmv < 200
    assert np.linalg.norm(b - x + M @ x) <= 1e-10 * np.linalg.norm(b)


@pytest.mark.parametrize("method", ["bicgstab-parallel", "mixed"])
def test_csc_view_of_the_transpose_needs_no_copy(method: str) -> None:
    """``A.T`` of a CSR ``A`` is a CSC view; the scatter kernel solves on it directly."""
    e = synthetic_economy(60_000, seed=13, inputs=6)
    MT = sp.csr_array(e.A).T
    assert MT.format == "csc"
    a = solve_leontief(MT, e.labour, method=method)
    b = solve_leontief(sp.csr_array(MT), e.labour, method=method)
    assert a.success and b.success
    np.testing.assert_allclose(a.x, b.x, rtol=1e-8)


def test_a_column_major_economy_gives_the_same_values_without_a_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CSC ``A`` is kept as given; labour values then solve on its transpose view.  A
    CSR ``A`` is not copied either: its CSC view feeds the row-scatter kernel."""
    import gosplan.core.values as values_mod
    from gosplan import Economy, labour_values

    e = synthetic_economy(20_000, seed=14, inputs=6)
    assert e.A.format == "csc"
    row_major = Economy(sp.csr_array(e.A), e.labour, products=e.products)
    assert row_major.A.format == "csr"
    seen: list[object] = []
    real = values_mod.solve_leontief

    def spy(M: object, *args: object, **kwargs: object) -> object:
        seen.append(M)
        return real(M, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(values_mod, "solve_leontief", spy)
    a = labour_values(e)
    b = labour_values(row_major)
    assert seen[0].format == "csr" and np.shares_memory(seen[0].data, e.A.data)  # type: ignore[attr-defined]
    assert seen[1].format == "csc" and np.shares_memory(seen[1].data, row_major.A.data)  # type: ignore[attr-defined]
    assert (a.layout_path, b.layout_path) == ("transposed-view", "csr-kernel")
    assert a.residual <= 1e-10 and b.residual <= 1e-10
    np.testing.assert_allclose(a.values.to_numpy(), b.values.to_numpy(), rtol=1e-9)
    # a subset keeps the column-major form
    assert e.take(list(e.products[:50])).A.format == "csc"
