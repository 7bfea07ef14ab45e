"""The block BiCGSTAB of the multi-year heuristics against a sparse LU (small sizes)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gosplan.planning.multiyear.blocksolve import BlockSolver
from gosplan.planning.multiyear.steady import leontief_solver, stationary_output
from gosplan.scale.synthetic_economies import synthetic_economy, synthetic_matrix


@pytest.mark.parametrize("k", [1, 3, 11])
@pytest.mark.parametrize("transpose", [False, True])
def test_block_solve_matches_lu(k: int, transpose: bool) -> None:
    n = 300
    A = synthetic_matrix(n, seed=3)
    M = A.T if transpose else A
    rng = np.random.default_rng(k)
    b = rng.random((k, n)) if k > 1 else rng.random(n)
    x = BlockSolver(M).solve(b, 1e-12)
    lu = splu(sp.csc_matrix(sp.identity(n, format="csc") - M))
    want = lu.solve(b) if k == 1 else lu.solve(b.T).T
    assert x.shape == np.shape(b)
    np.testing.assert_allclose(x, want, rtol=1e-9, atol=1e-12)
    # warm start from the answer: nothing to do, same answer
    np.testing.assert_allclose(BlockSolver(M).solve(b, 1e-12, x0=x), want, rtol=1e-9)


def test_diverging_block_is_an_error_not_a_number() -> None:
    A = sp.csr_array(np.array([[0.6, 0.6], [0.6, 0.6]]))  # spectral radius 1.2
    with pytest.raises(RuntimeError):
        BlockSolver(A).solve(np.ones((2, 2)), 1e-12, maxiter=60)


def test_stationary_output_of_a_block_is_each_column_solved() -> None:
    e = synthetic_economy(300, seed=2)
    B = None if e.capital is None else sp.csc_array(e.capital)
    rate = np.full(300, 0.06)
    Y = np.random.default_rng(1).random((4, 300))
    one = np.stack([stationary_output(e.A, B, None, None, rate, Y[i]) for i in range(4)])
    np.testing.assert_allclose(stationary_output(e.A, B, None, None, rate, Y), one, rtol=1e-10)
    # the direct path (small tables) and the block path agree
    L = leontief_solver(sp.csc_array(e.A))
    assert np.allclose(L(Y), BlockSolver(sp.csr_array(e.A)).solve(Y, 1e-13), rtol=1e-9)


@pytest.mark.parametrize("transpose", [False, True])
def test_iterative_leontief_solver_matches_lu(transpose: bool) -> None:
    # above DIRECT_LIMIT: one right-hand side through core.kernels, a block through
    # BlockSolver, both with operators kept across calls
    n = 600
    A = synthetic_matrix(n, seed=5)
    L = leontief_solver(A, transpose=transpose)
    lu = splu(sp.csc_matrix(sp.identity(n, format="csc") - (A.T if transpose else A)))
    Y = np.random.default_rng(2).random((3, n))
    np.testing.assert_allclose(L(Y[0], 1e-12), lu.solve(Y[0]), rtol=1e-9)
    np.testing.assert_allclose(L(Y, 1e-12), lu.solve(Y.T).T, rtol=1e-9)
    np.testing.assert_allclose(L(Y[1], 1e-12, Y[1]), lu.solve(Y[1]), rtol=1e-9)
