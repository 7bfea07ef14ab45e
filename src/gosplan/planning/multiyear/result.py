"""The result of a multi-year plan and its assembly from a solved window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.result import Result, Status
from gosplan.errors import ValidationError
from gosplan.planning.leontief import deduction_shares as _deduction_shares
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solve


@dataclass(frozen=True)
class MultiYearPlanResult(Result):
    """A plan over several years.  Tables are indexed by product (rows) and year (columns).

    ``working_week`` (Series by year) is hours per able-bodied person per
    week; ``labour_by_purpose_table`` (purposes × years) is in hours per year
    and ``labour_by_purpose`` is its first year (what the labour-time
    accounts deduct for social funds).
    """

    status: Status
    message: str
    method: str
    mode: str
    years: list[int]
    gross_output: pd.DataFrame
    output_old: pd.DataFrame
    output_modern: pd.DataFrame
    new_capacity: pd.DataFrame
    modern_capacity: pd.DataFrame
    targets: pd.DataFrame  # purposes × years (totals)
    target_bundles: dict[int, pd.DataFrame]
    net_output: pd.DataFrame
    labour: pd.Series  # economy labour unit, by year
    labour_hours: pd.Series
    working_week: pd.Series | None
    able_bodied: pd.Series | None
    labour_by_purpose_table: pd.DataFrame
    shadow_prices: pd.DataFrame  # labour (economy unit) per unit of product, by year
    objective: float
    nit: int
    seconds: float
    labour_unit: str
    assumptions: dict[str, Any] = field(default_factory=dict)
    backend_status: int | None = None
    backend_message: str = ""
    #: certified lower bound on the optimum of the plan's LP (weak duality; see
    #: :mod:`gosplan.planning.multiyear.bound`), in the units of ``lp_objective``
    bound: float | None = None
    #: the plan's own value of that LP objective (sum over years of labour per able-bodied
    #: person, or of labour when no population is given)
    lp_objective: float | None = None
    #: (lp_objective - bound) / lp_objective: proven, not estimated; None when no bound
    gap_proven: float | None = None
    bound_source: str = ""

    @property
    def labour_by_purpose(self) -> pd.Series:
        """Hours a year by purpose in the first plan year."""
        s = self.labour_by_purpose_table.iloc[:, 0].copy()
        s.name = "labour (hours per year)"
        return s

    def deduction_shares(self, year: int | None = None) -> tuple[float, pd.Series]:
        """``(rate, shares)`` of the deduction for social funds in ``year`` (default first)."""
        col = self.years[0] if year is None else year
        if col not in self.labour_by_purpose_table.columns:
            raise ValidationError(f"deduction_shares: no year {col}; the plan has {self.years}.")
        return _deduction_shares(self.labour_by_purpose_table[col])

    def by_year(self) -> pd.DataFrame:
        """One row per year: labour, working week, investment, modern share."""
        df = pd.DataFrame(
            {
                "labour": self.labour,
                "labour_hours": self.labour_hours,
                "new_capacity": self.new_capacity.sum(axis=0),
                "modern_share": self.output_modern.sum(axis=0) / self.gross_output.sum(axis=0),
            }
        )
        if self.working_week is not None:
            df["working_week"] = self.working_week
        df.index.name = "year"
        return df

    def summary(self) -> str:
        lines = [f"{self.mode} plan over {len(self.years)} years ({self.method}): {self.message}"]
        if self.success and self.working_week is not None:
            ww = ", ".join(f"{y}: {w:.2f} h" for y, w in self.working_week.items())
            lines.append(f"working week per able-bodied person: {ww}")
        if self.success:
            rate, _ = self.deduction_shares()
            lines.append(f"deduction for social funds (first year): {rate:.1%} of all labour")
        if self.gap_proven is not None:
            lines.append(
                f"proven within {self.gap_proven:.3%} of the optimum (certified bound "
                f"{self.bound:.8g} from {self.bound_source})"
            )
        return "\n".join(lines)


def assemble(
    m: Model,
    w: Window,
    *,
    years: list[int],
    t0s: list[int],
    method: str,
    mode: str,
    seconds: float,
    assumptions: dict[str, Any],
    labour_unit: str,
    message: str | None = None,
) -> MultiYearPlanResult:
    n = len(m.products)
    cols = pd.Index(years, name="year")

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a.T, index=m.products, columns=cols)

    x = w.xo + w.xn
    net = np.stack([x[t] - m.A @ x[t] for t in range(len(years))])
    labour = np.array(
        [m.labour @ w.xo[t] + (1 - m.pi) * (m.labour @ w.xn[t]) for t in range(len(years))]
    )
    bundles = {y: m.targets(t) for y, t in zip(years, t0s, strict=True)}
    purposes = list(m.bundles.columns)
    table = pd.DataFrame(0.0, index=[*purposes, "investment", "surplus"], columns=cols)
    table.index.name = "purpose"
    ok = w.status == Status.OPTIMAL
    s_vec = np.zeros(0) if m.s is None else m.s
    kap = np.zeros(0) if m.kappa is None else m.kappa
    if ok:
        for k, yr in enumerate(years):
            xt = x[k]
            l_eff = np.where(
                xt > 0,
                (m.labour * w.xo[k] + (1 - m.pi) * m.labour * w.xn[k]) / np.maximum(xt, 1e-300),
                m.labour,
            )
            v = np.asarray(leontief_solve(sp.csr_array(m.A.T), l_eff, rtol=1e-12).x)
            yb = bundles[yr]
            table.loc[purposes, yr] = (v @ yb.to_numpy()) * m.hpu
            if m.B is not None:
                inv_goods = m.B @ w.g[k]
            else:
                inv_goods = s_vec * float(kap @ w.g[k])
            table.loc["investment", yr] = float(v @ inv_goods) * m.hpu
            needs = yb.sum(axis=1).to_numpy() + inv_goods
            table.loc["surplus", yr] = float(v @ (net[k] - needs)) * m.hpu
    targets_tot = pd.DataFrame({y: bundles[y].sum(axis=0) for y in years})
    targets_tot.columns.name = "year"
    hours = pd.Series(labour * m.hpu, index=cols, name="labour (hours)")
    ww = None
    able = None
    if m.able is not None:
        able = pd.Series([m.able[t] for t in t0s], index=cols, name="able-bodied")
        ww = pd.Series(
            hours.to_numpy() / (able.to_numpy() * m.weeks), index=cols, name="working week (hours)"
        )
    del n
    return MultiYearPlanResult(
        status=w.status,
        message=message or w.message,
        method=method,
        mode=mode,
        years=years,
        gross_output=frame(x),
        output_old=frame(w.xo),
        output_modern=frame(w.xn),
        new_capacity=frame(w.g),
        modern_capacity=frame(w.K),
        targets=targets_tot,
        target_bundles=bundles,
        net_output=frame(net),
        labour=pd.Series(labour, index=cols, name=f"labour ({labour_unit})"),
        labour_hours=hours,
        working_week=ww,
        able_bodied=able,
        labour_by_purpose_table=table,
        shadow_prices=frame(w.duals),
        objective=w.objective,
        nit=w.nit,
        seconds=seconds,
        labour_unit=labour_unit,
        assumptions=assumptions,
        backend_status=w.backend_status,
        backend_message=w.backend_message,
    )
