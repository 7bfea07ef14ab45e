"""Errors raised by gosplan.

Every error is a :class:`GosplanError`.  Messages name the culprit (file,
sheet, row, column, product, account, field) and say what was expected.
Expected solver outcomes (infeasible, limit reached) are *returned* in result
objects; ``result.raise_for_status()`` turns them into these exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence


class GosplanError(Exception):
    """Base class of every error gosplan raises on purpose."""


class ValidationError(GosplanError, ValueError):
    """An argument or table is malformed: wrong shape, NaN, negative, unknown label."""


class ReaderError(GosplanError, ValueError):
    """A publisher's file could not be understood.

    The message names the file and, where known, the sheet, row and column.
    """

    def __init__(
        self,
        path: object,
        reason: str,
        *,
        sheet: str | None = None,
        row: int | str | None = None,
        column: int | str | None = None,
    ) -> None:
        self.path = str(path)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.reason = reason
        where = [f"file {self.path!r}"]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {reason}")


class NotProductive(ValidationError):
    """The technology cannot reproduce itself: spectral radius of A is >= 1."""

    def __init__(self, message: str, *, spectral_radius: float, sectors: Sequence[str]) -> None:
        self.spectral_radius = spectral_radius
        self.sectors = list(sectors)
        super().__init__(message)


class NotConverged(GosplanError, ArithmeticError):
    """An iterative solver stopped short of its tolerance."""

    def __init__(self, message: str, *, residual: float | None = None, nit: int | None = None):
        self.residual = residual
        self.nit = nit
        super().__init__(message)


class Infeasible(GosplanError):
    """A plan's targets cannot be met with the resources given."""


class Unbounded(GosplanError):
    """A plan's objective can grow without limit (a modelling error)."""


class StorageError(GosplanError):
    """A store operation was refused; nothing was written."""


__all__ = [
    "GosplanError",
    "Infeasible",
    "NotConverged",
    "NotProductive",
    "ReaderError",
    "StorageError",
    "Unbounded",
    "ValidationError",
]
