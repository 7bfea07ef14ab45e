"""A thin, sparse interface to HiGHS (``highspy``): one LP in, arrays and a status out.

The LP is ``min/max c·x`` subject to ``row_lower <= A x <= row_upper`` and
``col_lower <= x <= col_upper`` with ``A`` a CSC matrix passed to
``Highs.passModel`` without densifying.  HiGHS's model statuses are
translated onto :class:`gosplan.core.result.Status` by one table,
:data:`HIGHS_STATUS`; the original code and text are kept.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from gosplan.core.result import Status

INF = float(highspy.kHighsInf)

_M = highspy.HighsModelStatus

#: HiGHS model status -> (gosplan status, message).  Unknown codes become ERROR.
HIGHS_STATUS: dict[Any, tuple[Status, str]] = {
    _M.kOptimal: (Status.OPTIMAL, "Optimal plan found."),
    _M.kInfeasible: (
        Status.INFEASIBLE,
        "The plan is infeasible: the targets cannot all be met "
        "with the resources and labour given.",
    ),
    _M.kUnboundedOrInfeasible: (Status.INFEASIBLE, "The plan is infeasible or unbounded."),
    _M.kUnbounded: (Status.UNBOUNDED, "The objective is unbounded: a limit is missing."),
    _M.kTimeLimit: (Status.TIME_LIMIT, "Time limit reached before an optimal plan was found."),
    _M.kIterationLimit: (
        Status.ITERATION_LIMIT,
        "Iteration limit reached before an optimal plan was found.",
    ),
    _M.kInterrupt: (Status.ITERATION_LIMIT, "Interrupted before an optimal plan was found."),
    _M.kObjectiveBound: (Status.ITERATION_LIMIT, "Stopped at the objective bound."),
    _M.kObjectiveTarget: (Status.ITERATION_LIMIT, "Stopped at the objective target."),
    _M.kModelEmpty: (Status.ERROR, "The model is empty."),
    _M.kUnknown: (
        Status.ERROR,
        "HiGHS ended without a definite result (e.g. PDLP stopped "
        "short of its tolerance); the plan is not certified.",
    ),
    _M.kSolveError: (Status.ERROR, "HiGHS reported a solve error."),
    _M.kModelError: (Status.ERROR, "HiGHS rejected the model."),
    _M.kMemoryLimit: (Status.ERROR, "HiGHS ran out of memory."),
}

#: gosplan method name -> HiGHS ``solver`` option
SOLVERS = {"lp": "choose", "simplex": "simplex", "ipm": "ipm", "pdlp": "pdlp"}


_BANNER_SHOWN = False


def _new_highs() -> Any:
    """A silent ``highspy.Highs``.  The first one in a process prints HiGHS's
    banner from C++ before any option can be set, so that construction runs
    with file descriptor 1 pointed at ``os.devnull``."""
    global _BANNER_SHOWN
    if not _BANNER_SHOWN:
        _BANNER_SHOWN = True
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
    else:
        h = highspy.Highs()
    h.silent()
    return h


@dataclass
class LPSolution:
    x: np.ndarray
    row_value: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
    status: Status
    message: str
    backend_status: int
    backend_message: str
    nit: int
    seconds: float
    dual_valid: bool


def translate(
    model_status: Any, highs: highspy.Highs | None = None
) -> tuple[Status, str, int, str]:
    """(status, message, backend code, backend text) for a HiGHS model status."""
    status, text = HIGHS_STATUS.get(model_status, (Status.ERROR, "Unrecognised HiGHS status."))
    raw_text = highs.modelStatusToString(model_status) if highs is not None else str(model_status)
    code = int(model_status)
    return status, f"{text} [HiGHS status {code}: {raw_text}]", code, raw_text


def solve_lp(
    c: np.ndarray,
    A: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    *,
    maximize: bool = False,
    method: str = "lp",
    time_limit: float | None = None,
    tol: float | None = None,
    options: dict[str, Any] | None = None,
    threads: int | None = None,
) -> LPSolution:
    """Solve one LP with HiGHS; ``method`` is ``lp``/``simplex``/``ipm``/``pdlp``."""
    Ac = sp.csc_array(A)
    Ac.sort_indices()
    m, n = Ac.shape
    h = _new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(col_lower, dtype=float)
    lp.col_upper_ = np.asarray(col_upper, dtype=float)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.a_matrix_.start_ = Ac.indptr.astype(np.int32)
    lp.a_matrix_.index_ = Ac.indices.astype(np.int32)
    lp.a_matrix_.value_ = Ac.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h.passModel(lp)
    h.setOptionValue("solver", SOLVERS[method])
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if tol is not None:
        if method == "pdlp":
            h.setOptionValue("pdlp_optimality_tolerance", float(tol))
        elif method == "ipm":
            h.setOptionValue("ipm_optimality_tolerance", float(tol))
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    status, message, code, raw = translate(ms, h)
    sol = h.getSolution()
    info = h.getInfo()
    nit = (
        int(info.simplex_iteration_count)
        + int(info.ipm_iteration_count)
        + int(info.pdlp_iteration_count)
    )
    x = np.asarray(sol.col_value, dtype=float) if sol.value_valid else np.full(n, np.nan)
    rv = np.asarray(sol.row_value, dtype=float) if sol.value_valid else np.full(m, np.nan)
    rd = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else np.full(m, np.nan)
    cd = np.asarray(sol.col_dual, dtype=float) if sol.dual_valid else np.full(n, np.nan)
    return LPSolution(
        x=x,
        row_value=rv,
        row_dual=rd,
        col_dual=cd,
        objective=float(info.objective_function_value),
        status=status,
        message=message,
        backend_status=code,
        backend_message=raw,
        nit=nit,
        seconds=seconds,
        dual_valid=bool(sol.dual_valid),
    )
