from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gosplan import (
    Economy,
    NotConverged,
    Status,
    ValidationError,
    embodied_labour,
    labour_values,
)
from gosplan.core.values import gross_output

METHODS = ["direct", "jacobi", "gmres", "bicgstab", "auto"]


def cyclic_economy(n: int, seed: int = 1, rho: float = 0.7) -> Economy:
    rng = np.random.default_rng(seed)
    k = max(2, int(np.log2(n)) + 5)
    rows = np.concatenate(
        [rng.integers(0, n, size=(n, k - 1)).ravel(), (np.arange(n) + 1) % n]
    )  # a cycle through all products
    cols = np.concatenate([np.repeat(np.arange(n), k - 1), np.arange(n)])
    vals = rng.random(rows.size)
    A = sp.csr_array((vals, (rows, cols)), shape=(n, n))
    colsum = np.asarray(A.sum(axis=0)).ravel()
    A = sp.csr_array(A @ sp.diags_array(rho / colsum))
    return Economy.from_coefficients(A, rng.random(n) + 0.1)


@pytest.mark.parametrize("method", METHODS)
def test_matches_dense_reference(method: str) -> None:
    e = cyclic_economy(300)
    ref = np.linalg.solve((np.eye(e.n) - e.A.toarray()).T, e.labour)
    r = labour_values(e, method=method, tol=1e-11)
    np.testing.assert_allclose(r.values.to_numpy(), ref, rtol=1e-9)
    # the residual the result claims is the one of the values it returns, recomputed here
    v = r.values.to_numpy()
    true_residual = np.linalg.norm(v - e.A.toarray().T @ v - e.labour) / np.linalg.norm(e.labour)
    assert r.residual == pytest.approx(true_residual, rel=1e-6, abs=1e-15)
    assert r.residual <= 1e-11
    assert r.status is Status.OPTIMAL and r.success and r.nit >= 1
    assert "tol" in r.message
    assert r.unit == "hours per unit"


def test_textbook_two_sector() -> None:
    # v1 = 0.1 v1 + 0.3 v2 + 1 ; v2 = 0.2 v1 + 0.1 v2 + 2  ->  v = (2, 8/3)
    e = Economy.from_coefficients([[0.1, 0.2], [0.3, 0.1]], [1, 2], products=["corn", "iron"])
    r = labour_values(e)
    assert r.values["corn"] == pytest.approx(2.0, rel=1e-14)
    assert r.values["iron"] == pytest.approx(8 / 3, rel=1e-14)


def test_refuses_when_solver_stops_short() -> None:
    e = cyclic_economy(200, rho=0.95)
    with pytest.raises(NotConverged, match="stopped short of the tolerance"):
        labour_values(e, method="jacobi", maxiter=5)


def test_callback_can_stop_and_then_it_refuses() -> None:
    e = cyclic_economy(200)
    seen: list[int] = []

    def cb(nit: int, res: float) -> None:
        seen.append(nit)
        if nit >= 3:
            raise StopIteration

    with pytest.raises(NotConverged):
        labour_values(e, method="jacobi", callback=cb)
    assert seen == [1, 2, 3]


def test_bad_parameters() -> None:
    e = cyclic_economy(20)
    with pytest.raises(ValidationError, match="'tol' parameter of labour_values"):
        labour_values(e, tol=0)
    with pytest.raises(ValidationError, match="'method' parameter"):
        labour_values(e, method="magic")
    with pytest.raises(ValidationError, match="needs the economy's `capital`"):
        labour_values(e, depreciation=True)
    with pytest.raises(ValidationError, match="needs an export column"):
        labour_values(e, imports="exports")


def test_depreciation_variant_matches_dense() -> None:
    A = np.array([[0.1, 0.2], [0.3, 0.1]])
    K = np.array([[1.0, 2.0], [0.5, 0.0]])
    delta = np.array([0.1, 0.05])
    e = Economy.from_coefficients(A, [1, 2], products=["a", "b"], capital=K, depreciation=delta)
    r = labour_values(e, depreciation=True)
    ref = np.linalg.solve((np.eye(2) - A - np.diag(delta) @ K).T, [1, 2])
    np.testing.assert_allclose(r.values.to_numpy(), ref, rtol=1e-12)
    assert "included" in r.conventions["depreciation"]
    assert (r.values > labour_values(e).values).all()


def test_imports_valued_at_export_labour() -> None:
    A = np.array([[0.1, 0.2], [0.3, 0.1]])
    Mimp = np.array([[0.05, 0.1], [0.0, 0.1]])
    fd = pd.DataFrame({"Households": [50.0, 50.0], "Exports": [30.0, 10.0]})
    e = Economy.from_coefficients(A, [1, 2], products=["a", "b"], imports=Mimp, final_demand=fd)
    r = labour_values(e, imports="exports")
    v, c = r.values.to_numpy(), r.import_cost
    assert c is not None
    m = Mimp.sum(axis=0)
    ex = np.array([30.0, 10.0])
    # the fixed point: v = vA + l + c m with c = v·e / p·e
    np.testing.assert_allclose(v, v @ A + np.array([1, 2]) + c * m, rtol=1e-12)
    assert c == pytest.approx(v @ ex / ex.sum(), rel=1e-12)


def test_embodied_labour_of_bundle() -> None:
    e = Economy.from_coefficients([[0.1, 0.2], [0.3, 0.1]], [1, 2], products=["corn", "iron"])
    out = embodied_labour(e, {"corn": 3, "iron": 1.5})
    assert out.sum() == pytest.approx(3 * 2 + 1.5 * 8 / 3)
    with pytest.raises(ValidationError, match="unknown products in the bundle: \\['gold'\\]"):
        embodied_labour(e, {"gold": 1})


def test_gross_output_delivers_net_output() -> None:
    e = cyclic_economy(150)
    y = np.linspace(1, 2, e.n)
    x = gross_output(e, y).x
    np.testing.assert_allclose(x - e.A @ x, y, rtol=1e-9)
