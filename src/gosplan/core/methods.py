"""The one table of solver methods, and when a direct factorisation is used.

Each entry point accepts the method names of its row; a name outside it is a
:class:`~gosplan.errors.ValidationError` that lists the row.
"""

from __future__ import annotations

#: entry point -> the ``method=`` names it accepts
METHODS: dict[str, tuple[str, ...]] = {
    # (I - M) x = b: gosplan.core.linsolve.solve_leontief, and through it
    # labour_values, gross_output and leontief_plan
    "solve_leontief": (
        "auto",
        "direct",
        "jacobi",
        "gmres",
        "bicgstab",
        "bicgstab-parallel",
        "mixed",
        "jacobi-parallel",
        "cuda",
    ),
    # one optimal plan: gosplan.planning.solve (HiGHS LP, PDLP, or the harmony heuristic)
    "solve": ("lp", "simplex", "ipm", "pdlp", "harmony"),
    # years planned at once: HiGHS, or "forward" (capacity-following balancing with
    # investment re-timed) and "forward-plain" (the capacity-following pass alone)
    # and "dual" (forward, then the plan the certified bound's prices point to, if better)
    # and "primal-dual" (forward, then OR-tools PDLP's plan and prices, if better)
    # and "pdhg" (the forward pass, then our own PDHG's plan and prices, if better)
    "multi_year_plan": (
        "lp",
        "simplex",
        "ipm",
        "pdlp",
        "forward",
        "forward-plain",
        "dual",
        "primal-dual",
        "pdhg",
    ),
    # a window of years re-planned each year: HiGHS only
    "receding_horizon_plan": ("lp", "simplex", "ipm", "pdlp"),
}

#: up to this many products a Leontief system ``(I - M) x = b`` is solved by a sparse
#: LU factorisation; above it by the threaded BiCGSTAB (no fill-in).  One value for
#: every caller: on a synthetic economy (``log2 n + 5`` inputs per product) one LU
#: costs 38 ms at n = 500 and 2.6 s at n = 2000 against 1-3 ms for BiCGSTAB, so even a
#: factor reused over many solves does not pay above it.
DIRECT_LIMIT = 500
