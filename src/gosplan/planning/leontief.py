"""Leontief plan: gross outputs that deliver target bundles, their labour, the working week.

``x = A x + y`` is solved sparsely (:func:`gosplan.core.values.gross_output`);
labour is ``l · x``, and by the identity ``l · x = v · y`` (``v`` the labour
values) it splits exactly into what each purpose costs: ``v · y_p`` hours for
purpose ``p``.  The working week per able-bodied person is

    labour [hours per year] / (population × participation × weeks_per_year).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.core.result import STATUS_MESSAGES, Result, Status
from gosplan.core.values import gross_output, labour_values
from gosplan.errors import ValidationError
from gosplan.planning.problem import bundles_frame
from gosplan.planning.targets import hours_per_labour_unit as _hours_per_unit


@dataclass(frozen=True)
class LeontiefPlanResult(Result):
    """What a Leontief plan needs: gross outputs, labour, and the working week by purpose.

    ``labour_by_purpose`` is in **hours per year**; ``labour`` is in the
    economy's own labour unit, ``labour_hours`` in hours.  ``residual`` is the
    gross-output solve's; ``nit`` counts the iterations of it and of the
    labour values.  :func:`leontief_plan` raises rather than return a failure.
    """

    targets: pd.DataFrame  # products × purposes
    gross_output: pd.Series
    net_output: pd.Series
    values: pd.Series  # labour values (economy labour unit per output unit)
    labour: float
    labour_unit: str
    labour_hours: float
    labour_by_purpose: pd.Series  # hours per year
    labour_by_sector: pd.Series  # hours per year
    working_week: float | None
    working_week_by_purpose: pd.Series | None
    able_bodied: float | None
    weeks_per_year: float
    hours_per_labour_unit: float
    residual: float
    method: str
    notes: list[str] = field(default_factory=list)
    status: Status = Status.OPTIMAL
    message: str = ""
    nit: int = 0
    tol: float | None = None

    def deduction_shares(self) -> tuple[float, pd.Series]:
        """``(rate, shares)``: the share of all labour that does not go to personal
        consumption (the deduction for social funds), and how it splits by fund."""
        return deduction_shares(self.labour_by_purpose)

    def summary(self) -> str:
        lines = [
            f"Leontief plan: total labour {self.labour:,.6g} {self.labour_unit} = "
            f"{self.labour_hours:,.6g} hours a year"
        ]
        if self.working_week is not None:
            lines.append(
                f"working week: {self.working_week:.2f} hours per able-bodied person "
                f"({self.able_bodied:,.0f} people, {self.weeks_per_year:g} weeks)"
            )
        rate, _ = self.deduction_shares()
        lines.append(f"deduction for social funds: {rate:.1%} of all labour")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per purpose: target total, labour hours, share, hours per week."""
        lab = self.labour_by_purpose
        df = pd.DataFrame(
            {
                "target": self.targets.sum(axis=0).reindex(lab.index),
                "labour_hours": lab,
                "share": lab / lab.sum() if lab.sum() else lab * 0.0,
            }
        )
        if self.working_week_by_purpose is not None:
            df["hours_per_week"] = self.working_week_by_purpose
        return df


def deduction_shares(labour_by_purpose: pd.Series) -> tuple[float, pd.Series]:
    """Share of total labour not for personal consumption, and its split by purpose."""
    total = float(labour_by_purpose.sum())
    if total <= 0:
        raise ValidationError("deduction_shares: the plan uses no labour.")
    social = labour_by_purpose.drop("personal", errors="ignore")
    social = social[social.abs() > 1e-6 * total]  # drop rounding-level rows (the 1e-7 margin)
    rate = float(social.sum()) / total
    shares = social / float(social.sum()) if float(social.sum()) else social
    shares.name = "share of deduction"
    return rate, shares


def leontief_plan(
    economy: Economy,
    targets: Mapping[str, Any] | pd.DataFrame | pd.Series,
    *,
    population: float | None = None,
    participation: float = 1.0,
    weeks_per_year: float = 46.0,
    hours_per_labour_unit: float | None = None,
    hours_per_job: float = 1800.0,
    method: str = "auto",
    tol: float = 1e-10,
) -> LeontiefPlanResult:
    """Gross outputs, labour and working week that deliver ``targets`` (bundles by purpose).

    ``targets`` maps purpose → bundle (mapping over products, Series or
    vector), or is a products × purposes DataFrame (e.g. from
    :func:`gosplan.planning.targets.purpose_bundles`).  ``population`` ×
    ``participation`` is the number of able-bodied people who share the
    work.  Labour is converted to hours with ``hours_per_labour_unit``
    (default: :func:`gosplan.planning.targets.hours_per_labour_unit`).
    """
    if population is not None and not population > 0:
        raise ValidationError(f"leontief_plan: population must be > 0; got {population}.")
    if not 0 < participation <= 1:
        raise ValidationError(
            f"leontief_plan: participation must be in (0, 1]; got {participation}."
        )
    if not 0 < weeks_per_year <= 53:
        raise ValidationError(
            f"leontief_plan: weeks_per_year must be in (0, 53]; got {weeks_per_year}."
        )
    bundles = bundles_frame(economy, targets)
    y = bundles.sum(axis=1).to_numpy()
    res = gross_output(economy, y, tol=tol, method=method)
    x = np.asarray(res.x)
    if (x < -1e-9 * max(1.0, float(np.abs(x).max()))).any():
        i = int(np.argmin(x))
        raise ValidationError(
            f"leontief_plan: negative gross output {x[i]:g} for {economy.products[i]!r}; "
            "the technology is not productive enough for these targets."
        )
    x = np.maximum(x, 0.0)
    lv = labour_values(economy, tol=tol, method=method)
    vals = lv.values
    hpu = (
        hours_per_labour_unit
        if hours_per_labour_unit is not None
        else _hours_per_unit(economy, hours_per_job=hours_per_job)
    )
    labour = float(economy.labour @ x)
    by_purpose = pd.Series(
        vals.to_numpy() @ bundles.to_numpy() * hpu,
        index=bundles.columns,
        name="labour (hours per year)",
    )
    by_sector = pd.Series(
        economy.labour * x * hpu, index=economy.products, name="labour (hours per year)"
    )
    able = population * participation if population is not None else None
    ww = labour * hpu / (able * weeks_per_year) if able else None
    wwp = by_purpose / (able * weeks_per_year) if able else None
    net = x - economy.A @ x
    return LeontiefPlanResult(
        targets=bundles,
        gross_output=pd.Series(x, index=economy.products, name="gross output"),
        net_output=pd.Series(net, index=economy.products, name="net output"),
        values=vals,
        labour=labour,
        labour_unit=economy.labour_unit.split(" per ")[0],
        labour_hours=labour * hpu,
        labour_by_purpose=by_purpose,
        labour_by_sector=by_sector,
        working_week=ww,
        working_week_by_purpose=wwp,
        able_bodied=able,
        weeks_per_year=float(weeks_per_year),
        hours_per_labour_unit=float(hpu),
        residual=float(res.residual),
        method=res.method,
        notes=list(bundles.attrs.get("notes", [])),
        status=res.status,
        message=res.message or STATUS_MESSAGES[res.status],
        nit=res.nit + lv.nit,
        tol=float(tol),
    )
