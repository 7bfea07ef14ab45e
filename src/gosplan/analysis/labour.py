"""The measure of labour an analysis counts: raw hours, persons, or skill-adjusted hours.

Value–price studies on WIOD and similar tables count direct labour in one of
three ways (see ``docs/analysis.md``):

``"hours"``
    Hours worked, as the table gives them (every hour counts the same).
``"persons"``
    Persons engaged (jobs), where a table gives hours but also head counts.
``"skill-adjusted"``
    Heterogeneous labour reduced to simple labour by relative wages: the
    hours of industry ``j`` are weighted by its hourly wage relative to the
    lowest hourly wage of any industry,

    ``l*_j = l_j · w_j / min_k w_k``,  ``w_j = compensation_j / hours_j``

    so an hour of the lowest-paid industry counts 1 and an hour paid twice
    as much counts 2 (the wage-based reduction of heterogeneous labour of
    value–price studies, e.g. Fröhlich 2013; see docs/analysis.md).
"""

from __future__ import annotations

import copy
from typing import Literal

import numpy as np

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError

LabourBasis = Literal["hours", "persons", "skill-adjusted"]
BASES: tuple[str, ...] = ("hours", "persons", "skill-adjusted")


def with_labour(economy: Economy, basis: LabourBasis | str = "hours") -> Economy:
    """``economy`` with its direct labour counted on ``basis`` (a copy; the input is kept).

    ``"hours"`` returns ``economy`` itself.  ``"persons"`` needs ``persons``
    (head counts per sector) and gross ``output``; ``"skill-adjusted"`` needs
    labour in hours, ``compensation`` and gross ``output``.  The weights of a
    skill adjustment are kept in ``meta.history`` and returned by
    :func:`skill_weights`.

    Raises
    ------
    ValidationError
        If ``basis`` is unknown or the table lacks what the basis needs.
    """
    if basis not in BASES:
        raise ValidationError(f"`basis` of with_labour must be one of {BASES}; got {basis!r}.")
    if basis == "hours":
        if economy.labour_kind != "hours":
            raise ValidationError(
                f"{economy.name or 'the economy'} counts labour in {economy.labour_unit}, "
                "not hours; use --labour persons or leave --labour out."
            )
        return economy
    output = _need(economy, "output", basis)
    if basis == "persons":
        persons = _need(economy, "persons", basis)
        labour = np.divide(persons, output, out=np.zeros_like(persons), where=output > 0)
        return _replace(
            economy,
            labour,
            "persons employed",
            "persons",
            "labour counted in persons engaged (persons / gross output)",
        )
    weights = skill_weights(economy)
    lowest = economy.products[int(np.argmin(np.where(weights > 0, weights, np.inf)))]
    return _replace(
        economy,
        economy.labour * weights,
        f"skill-adjusted hours (hours of {lowest}, the lowest-paid industry)",
        "hours",
        "labour counted in skill-adjusted hours: hours × hourly wage / lowest hourly wage "
        f"({lowest}); weights from {float(weights.min(initial=np.inf, where=weights > 0)):.3g} "
        f"to {float(weights.max()):.3g}",
    )


def skill_weights(economy: Economy) -> np.ndarray:
    """Each industry's hourly wage relative to the lowest: ``w_j / min_k w_k`` (≥ 1).

    Industries without hours or without compensation get weight 0 (their
    labour is nil or cannot be priced; they stay out of the minimum).
    """
    if economy.labour_kind != "hours":
        raise ValidationError(
            f"skill-adjusted hours need labour in hours; {economy.name or 'the economy'} "
            f"counts it in {economy.labour_unit}."
        )
    output = _need(economy, "output", "skill-adjusted")
    comp = _need(economy, "compensation", "skill-adjusted")
    hours = economy.labour * output
    paid = (hours > 0) & (comp > 0)
    if not paid.any():
        raise ValidationError(
            "skill-adjusted hours need an industry with both hours and compensation; none has."
        )
    wage = np.zeros_like(hours)
    wage[paid] = comp[paid] / hours[paid]
    return np.where(paid, wage / wage[paid].min(), 0.0)


def _need(economy: Economy, attr: str, basis: str) -> np.ndarray:
    value = getattr(economy, attr)
    if value is None:
        raise ValidationError(
            f"labour counted as {basis!r} needs `{attr}` in the table; "
            f"{economy.name or 'this economy'} has none."
        )
    return np.asarray(value, dtype=np.float64)


def _replace(economy: Economy, labour: np.ndarray, unit: str, kind: str, note: str) -> Economy:
    out = copy.copy(economy)
    out.meta = copy.deepcopy(economy.meta)
    out.meta.note(note)
    out.labour = np.asarray(labour, dtype=np.float64)
    out.labour_unit = unit
    out.labour_kind = kind  # type: ignore[assignment]
    return out
