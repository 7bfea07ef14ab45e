"""Result objects shared by every solver: they say whether they succeeded and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class SolveResult:
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

    @property
    def success(self) -> bool:
        return self.status == Status.OPTIMAL

    def raise_for_status(self) -> SolveResult:
        """Return ``self`` if successful, else raise the matching :class:`GosplanError`."""
        if self.success:
            return self
        text = self.message or STATUS_MESSAGES[self.status]
        if self.status == Status.INFEASIBLE:
            raise Infeasible(text)
        if self.status == Status.UNBOUNDED:
            raise Unbounded(text)
        raise NotConverged(text, residual=self.residual, nit=self.nit)
