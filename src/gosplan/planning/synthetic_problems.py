"""Synthetic planning problems with a real choice of technique, for tests and benchmarks.

Built on :func:`gosplan.scale.synthetic_economies.synthetic_economy` (cyclic, about
``log2 n + 5`` inputs per product).  Each product has its standard technique
(the economy's column of ``A`` and its labour) and, for a share ``alt_share``
of products, an **alternative** that saves labour (``× U(0.4, 0.9)``) but
uses more material inputs (``× U(1.05, 1.3)``, still productive) and a
scarce resource (one of ``resources`` kinds, e.g. energy or machine time).
The resources are set to ``scarcity`` of what the alternatives would need if
every product used them, so they bind and the optimum mixes techniques.
Targets are the economy's personal plus social final demand.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gosplan.planning.problem import Objective, PlanProblem


def synthetic_plan_problem(
    n: int,
    *,
    seed: int = 0,
    objective: Objective = "min_labour",
    alt_share: float = 1.0,
    resources: int = 3,
    scarcity: float = 0.3,
    labour_share: float = 0.9,
    split: int = 64,
) -> PlanProblem:
    """A ``PlanProblem`` with ``n`` products and ``n (1 + alt_share)`` techniques.

    For ``assortment`` the labour limit is ``labour_share`` times the labour
    the targets need with standard techniques only (so about ``labour_share``
    bundles, more where alternatives save labour).
    """
    from gosplan.core.linsolve import solve_leontief
    from gosplan.scale.synthetic_economies import synthetic_economy

    e = synthetic_economy(n, seed=seed, capital_inputs=0)
    rng = np.random.default_rng(seed + 7919)
    A = sp.csc_array(e.A)
    t = e.final_demand.to_numpy().sum(axis=1) if e.final_demand is not None else np.ones(n)
    alt = np.flatnonzero(rng.random(n) < alt_share)
    m = len(alt)
    lab_save = rng.uniform(0.4, 0.9, m)
    more_inputs = rng.uniform(1.05, 1.3, m)
    kind = rng.integers(0, max(resources, 1), m)
    use = rng.uniform(0.5, 1.5, m) * e.labour[alt]
    A_alt = sp.csc_array(A[:, alt] @ sp.diags_array(more_inputs))
    eye = sp.identity(n, format="csc")
    N = sp.hstack([eye - A, eye[:, alt] - A_alt], format="csc")
    O = sp.hstack([eye, eye[:, alt]], format="csc")  # noqa: E741
    labour = np.concatenate([e.labour, e.labour[alt] * lab_save])
    if resources:
        R = sp.csc_array((use, (kind, n + np.arange(m))), shape=(resources, n + m))
        # what the alternatives would need if every product used them
        x_std = np.asarray(solve_leontief(A, t, tol=1e-10).x)
        need = np.bincount(kind, weights=use * x_std[alt], minlength=resources)
        amounts = scarcity * need
    else:
        R = sp.csc_array((0, n + m))
        amounts = np.zeros(0)
    labour_limit = None
    if objective in ("assortment", "weighted"):
        x_std = np.asarray(solve_leontief(A, t, tol=1e-10).x)
        labour_limit = labour_share * float(e.labour @ x_std)
    return PlanProblem.from_arrays(
        N,
        labour,
        t,
        O=O,
        R=R,
        amounts=amounts,
        labour_limit=labour_limit,
        products=[f"p{i}" for i in range(n)],
        techniques=[f"p{i}" for i in range(n)] + [f"p{i}*" for i in alt],
        resources=[f"r{k}" for k in range(resources)],
        objective=objective,
        split=split,
    )
