"""The one result protocol: every computation that can succeed partly or fail says
whether it succeeded and why.

:class:`Result` is the base of every result object (``SolveResult``,
``PlanResult``, ``MultiYearPlanResult``, ``LabourValues``,
``LeontiefPlanResult``).  Each carries

``status``   a :class:`Status` (``OPTIMAL`` also stands for "converged")
``success``  ``status == OPTIMAL`` (and, where a tolerance is stated, the residual met it)
``message``  why, in words
``nit``      iterations (or LP iterations) spent
``residual`` the relative residual of the system actually solved (NaN where none)

and ``raise_for_status()``, which returns the result when it succeeded and
otherwise raises :class:`~gosplan.errors.Infeasible`,
:class:`~gosplan.errors.Unbounded` or :class:`~gosplan.errors.NotConverged`.

Which functions raise and which return (docs/architecture.md): **solvers
return** (``solve_leontief``, ``planning.solve``, ``harmony``,
``multi_year_plan``, ``receding_horizon_plan``, the distributed solver) — an
expected failure is ``success=False``, never an exception; **derived
quantities raise** (``labour_values``, ``gross_output``, ``leontief_plan``)
because a number that cannot be right is an error, so what they return has
``status=OPTIMAL``.  Invalid input raises :class:`~gosplan.errors.ValidationError`
at entry in both.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any, Self

from gosplan.errors import Infeasible, NotConverged, Unbounded


class Status(enum.IntEnum):
    """Outcome of a solve.  ``OPTIMAL`` also stands for "converged"."""

    OPTIMAL = 0
    ITERATION_LIMIT = 1
    TIME_LIMIT = 2
    INFEASIBLE = 3
    UNBOUNDED = 4
    BREAKDOWN = 5
    ERROR = 6


STATUS_MESSAGES: dict[Status, str] = {
    Status.OPTIMAL: "Converged to the requested tolerance.",
    Status.ITERATION_LIMIT: "Iteration limit reached before the tolerance was met.",
    Status.TIME_LIMIT: "Time limit reached before the tolerance was met.",
    Status.INFEASIBLE: "The problem is infeasible.",
    Status.UNBOUNDED: "The problem is unbounded.",
    Status.BREAKDOWN: "The method broke down (division by a vanishing quantity).",
    Status.ERROR: "The solver reported an error.",
}


class Result:
    """Base of every result object: ``success`` and ``raise_for_status()`` from ``status``.

    Subclasses are (frozen) dataclasses that declare ``status``, ``message``
    and ``nit`` as fields; ``residual`` too where the computation has one
    (else it reads NaN).  ``tol``, where declared, is the residual the caller
    asked for: a result whose residual exceeds it is not a success.
    """

    status: Status
    message: str
    nit: int
    residual: float

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: a result without a residual reads NaN
        if name == "residual":
            return math.nan
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def success(self) -> bool:
        if self.status != Status.OPTIMAL:
            return False
        tol = getattr(self, "tol", None)
        return tol is None or not self.residual > tol

    def raise_for_status(self) -> Self:
        """Return ``self`` if successful, else raise the matching :class:`GosplanError`."""
        if self.success:
            return self
        text = self.message or STATUS_MESSAGES[self.status]
        if self.status == Status.INFEASIBLE:
            raise Infeasible(text)
        if self.status == Status.UNBOUNDED:
            raise Unbounded(text)
        if self.status == Status.OPTIMAL:  # converged, but not to the tolerance asked for
            tol = getattr(self, "tol", None)
            text = f"{text} (relative residual {self.residual:.3g} > tol {tol})"
        residual = None if math.isnan(self.residual) else self.residual
        raise NotConverged(text, residual=residual, nit=self.nit)


@dataclass(frozen=True)
class SolveResult(Result):
    """A low-level solve of a linear system ``M x = b``.

    ``residual`` is the relative residual ``||b - M x|| / ||b||`` computed in
    float64 after the solve, whatever precision the solver used internally.
    """

    x: Any
    status: Status
    nit: int
    residual: float
    method: str
    message: str = ""
    backend_status: int | None = None
    backend_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
