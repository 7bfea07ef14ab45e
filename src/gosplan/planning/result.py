"""The result of a plan solve, shared by the LP and harmony paths.

:class:`PlanResult` (the labelled plan), :class:`Diagnosis` (why a plan is
infeasible), :class:`LPForm` (the shape of the LP whose duals a result reads),
:func:`assemble` (intensities to a labelled result), :func:`working_week` and
:func:`gap`.  Both :mod:`gosplan.planning.solve` and
:mod:`gosplan.planning.harmony` build on this module; neither imports the other
back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.result import Result, Status
from gosplan.errors import ValidationError
from gosplan.planning.problem import PlanProblem


@dataclass(frozen=True)
class Diagnosis:
    """Why a plan is infeasible: the shortfall of each target and the binding limits.

    Found with an elastic LP: every target row gets a shortfall variable and
    the total relative shortfall is minimised with the limits kept hard.
    Binding limits are those with a non-zero dual in that LP.
    """

    shortfall: pd.Series  # by product: how much of the target cannot be delivered
    binding: pd.Series  # by limit (resource or 'labour'): its valuation in the elastic LP
    use: pd.Series  # by limit: how much of it the elastic plan uses
    available: pd.Series  # by limit: how much exists

    def __str__(self) -> str:
        short = self.shortfall[self.shortfall > 0].sort_values(ascending=False)
        parts = []
        if len(short):
            parts.append(
                "targets that cannot be met: "
                + ", ".join(f"{p!r} (short by {q:.6g})" for p, q in short.iloc[:10].items())
            )
        if len(self.binding):
            parts.append(
                "binding limits: "
                + ", ".join(
                    f"{r!r} (uses {self.use[r]:.6g} of {self.available[r]:.6g})"
                    for r in self.binding.index[:10]
                )
            )
        return "; ".join(parts) or "no shortfall found"


@dataclass(frozen=True)
class PlanResult(Result):
    """An optimal (or best-found) plan.  Attribute access in the style of OptimizeResult.

    ``objective`` is the value of the problem's objective: total labour for
    ``min_labour``, the number of bundles for ``assortment``, the weighted
    fulfilment for ``weighted``.  ``labour`` is always total labour in
    ``labour_unit``.  ``working_week`` is hours per able-bodied person per
    week (``None`` without a population).
    """

    status: Status
    message: str
    method: str
    objective_name: str
    objective: float
    intensities: pd.Series
    outputs: pd.Series
    net_output: pd.Series
    targets: pd.Series
    shadow_prices: pd.Series
    resource_use: pd.Series
    labour: float
    labour_unit: str
    working_week: float | None
    nit: int
    seconds: float
    backend_status: int | None = None
    backend_message: str = ""
    bundles: float | None = None
    fulfilment: pd.Series | None = None
    diagnosis: Diagnosis | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def x(self) -> pd.Series:
        return self.intensities

    def balances(self) -> dict[str, float]:
        """The worst violations: relative target shortfall, relative resource excess, least
        intensity (all <= 0 or tiny for a valid plan)."""
        t = self.targets.to_numpy()
        net = self.net_output.to_numpy()
        need = t * (self.bundles if self.bundles is not None else 1.0)
        if self.fulfilment is not None:
            need = t * self.fulfilment.reindex(self.targets.index, fill_value=0.0).to_numpy()
        scale = np.maximum(np.abs(need), 1.0)
        short = float(np.max((need - net) / scale)) if len(t) else 0.0
        avail = self.extra.get("available")
        excess = 0.0
        if avail is not None and len(avail):
            av = np.asarray(avail, dtype=float)
            use = self.resource_use.to_numpy()
            excess = float(np.max((use - av) / np.maximum(av, 1.0)))
        return {
            "shortfall": short,
            "excess": excess,
            "min_intensity": float(self.intensities.min()) if len(self.intensities) else 0.0,
        }

    def summary(self) -> str:
        lines = [
            f"{self.method}: {self.message}",
            f"objective ({self.objective_name}) = {self.objective:.8g}; labour = "
            f"{self.labour:.8g} {self.labour_unit}",
        ]
        if self.working_week is not None:
            lines.append(f"working week: {self.working_week:.2f} hours per able-bodied person")
        if self.diagnosis is not None:
            lines.append(f"diagnosis: {self.diagnosis}")
        return "\n".join(lines)


@dataclass
class LPForm:
    """The sparse LP of a plan problem and where its parts sit (rows, columns)."""

    c: np.ndarray
    A: Any
    rl: np.ndarray
    ru: np.ndarray
    cl: np.ndarray
    cu: np.ndarray
    maximize: bool
    n_x: int
    n_p: int
    n_r: int
    labour_row: int | None
    target_idx: np.ndarray  # product indices with a target (assortment/weighted)
    extra_cols: int


def assemble(
    problem: PlanProblem,
    x: np.ndarray,
    *,
    status: Status,
    message: str,
    method: str,
    objective: float | None,
    nit: int,
    seconds: float,
    row_dual: np.ndarray | None = None,
    form: LPForm | None = None,
    backend_status: int | None = None,
    backend_message: str = "",
    extra_x: np.ndarray | None = None,
    diagnosis: Diagnosis | None = None,
    shadow: pd.Series | None = None,
    extra: dict[str, Any] | None = None,
) -> PlanResult:
    """Labelled result from intensities (shared by the LP and harmony paths)."""
    net = problem.N @ x
    gross = problem.O @ x
    use = problem.R @ x
    labour = float(problem.labour @ x)
    t = problem.targets
    tgt = np.flatnonzero(t > 0)
    bundles = None
    fulfil = None
    obj = problem.objective
    if obj == "assortment":
        bundles = float(np.min(net[tgt] / t[tgt])) if len(tgt) else 0.0
        if objective is None or method in ("pdlp", "harmony"):
            objective = bundles
    elif obj == "weighted":
        f = np.clip(net[tgt] / t[tgt], 0.0, 1.0) if len(tgt) else np.zeros(0)
        if extra_x is not None and len(extra_x) == len(tgt):
            f = np.minimum(f, np.clip(extra_x, 0.0, 1.0))
        fulfil = pd.Series(f, index=problem.products[tgt], name="fulfilment")
        if objective is None or method in ("pdlp", "harmony"):
            objective = float(problem.weights[tgt] @ f)
    elif objective is None or method == "pdlp":
        objective = labour
    names = list(problem.products) + list(problem.resource_names)
    if shadow is None:
        if row_dual is not None and form is not None and np.isfinite(row_dual).all():
            sign = 1.0 if not form.maximize else -1.0
            prod = sign * row_dual[: form.n_p]
            resv = -sign * row_dual[form.n_p : form.n_p + form.n_r]
            vals = [*prod, *resv]
            if form.labour_row is not None:
                names.append("labour")
                vals.append(-sign * row_dual[form.labour_row])
            shadow = pd.Series(
                np.asarray(vals, dtype=float) + 0.0, index=names, name="shadow price"
            )
        else:
            shadow = pd.Series(np.nan, index=names, name="shadow price")
    ww = working_week(problem, labour)
    ex = {"available": problem.amounts.copy()}
    ex.update(extra or {})
    return PlanResult(
        status=status,
        message=message,
        method=method,
        objective_name=obj,
        objective=float(objective),
        intensities=pd.Series(x, index=problem.technique_names, name="intensity"),
        outputs=pd.Series(gross, index=problem.products, name="gross output"),
        net_output=pd.Series(net, index=problem.products, name="net output"),
        targets=pd.Series(t, index=problem.products, name="target"),
        shadow_prices=shadow,
        resource_use=pd.Series(use, index=problem.resource_names, name="use"),
        labour=labour,
        labour_unit=problem.labour_unit,
        working_week=ww,
        nit=nit,
        seconds=seconds,
        backend_status=backend_status,
        backend_message=backend_message,
        bundles=bundles,
        fulfilment=fulfil,
        diagnosis=diagnosis,
        extra=ex,
    )


def working_week(problem: PlanProblem, labour: float) -> float | None:
    """Hours per able-bodied person per week that ``labour`` implies (None without population)."""
    if problem.population is None:
        return None
    able = problem.population * problem.participation
    return labour * problem.hours_per_labour_unit / (able * problem.weeks_per_year)


def gap(result: PlanResult, exact: PlanResult) -> float:
    """Relative gap of ``result``'s objective to the exact optimum (>= 0 means worse)."""
    if not exact.success:
        raise ValidationError(f"gap: the exact plan did not succeed ({exact.message}).")
    ref = exact.objective
    if ref == 0:
        return abs(result.objective)
    if result.objective_name == "min_labour":
        return (result.objective - ref) / abs(ref)
    return (ref - result.objective) / abs(ref)
