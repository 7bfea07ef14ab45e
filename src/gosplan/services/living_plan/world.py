"""The living plan's world: the economy's consumer goods, periods, and the period's plan."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.planning.living import fit_working_week
from gosplan.services.living_plan.scenario import Scenario

__all__ = [
    "Goods",
    "economy_and_goods",
    "normalise_shares",
    "period_label",
    "period_start",
    "plan_period",
    "table_digest",
]


@dataclass
class Goods:
    codes: list[str]
    products: list[str]
    value: np.ndarray  # hours per unit
    size: np.ndarray  # output (money) units per good unit
    base_units: np.ndarray  # base-year personal consumption of the run's population, units


def period_label(start: str, i: int, per_year: int) -> str:
    y, m = (int(x) for x in start.split("-"))
    if per_year == 12:
        k = (m - 1) + i
        return f"{y + k // 12:04d}-{k % 12 + 1:02d}"
    if per_year == 52:
        d = dt.date(y, m, 1) + dt.timedelta(weeks=i)
        iso = d.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    if per_year == 4:
        q0 = (m - 1) // 3 + i
        return f"{y + q0 // 4:04d}-Q{q0 % 4 + 1}"
    return f"{y + i:04d}"


def period_start(start: str, i: int, per_year: int) -> dt.datetime:
    """The first moment of period ``i`` (UTC, naive, as the store keeps times)."""
    y, m = (int(x) for x in start.split("-"))
    first = dt.datetime(y, m, 1)
    if per_year == 52:
        return first + dt.timedelta(weeks=i)
    k = (m - 1) + i * (12 // per_year)
    return dt.datetime(y + k // 12, k % 12 + 1, 1)


def economy_and_goods(sc: Scenario) -> tuple[Any, Goods, Any, float]:
    from gosplan.core.values import labour_values
    from gosplan.planning.targets import hours_per_labour_unit
    from gosplan.readers.registry import open_source
    from gosplan.services.accounts import catalogue_from_economy

    if sc.synthetic_products is not None:
        from gosplan.scale.synthetic_economies import synthetic_economy

        eco = synthetic_economy(sc.synthetic_products, seed=sc.synthetic_seed)
    else:
        eco = open_source(sc.source, year=sc.year)
    vals = labour_values(eco)
    hpu = hours_per_labour_unit(eco) if getattr(eco, "labour_kind", "hours") != "wages" else None
    if hpu is None:
        raise ValidationError(
            f"economy {eco.name!r} measures labour as wages; the living plan "
            "needs hours or persons employed."
        )
    # free=(): the simulation's households buy everything they bought before (its own model)
    specs = catalogue_from_economy(
        eco, personal_hours=0.0, values=vals, hours_per_labour_unit=hpu, free=()
    )
    personal = eco.final_demand_by_purpose()["personal"].clip(lower=0.0)
    if sc.max_goods is not None and len(specs) > sc.max_goods:
        keep = set(personal.loc[[str(s.product) for s in specs]].nlargest(sc.max_goods).index)
        specs = [s for s in specs if s.product in keep]
    # units a hundred times smaller than the catalogue's (a unit costs about 0.003-0.03
    # hours), so that households buying whole units lose little to rounding
    size = np.array([float(s.unit.split()[0]) for s in specs]) / 100.0
    value = np.array([float(s.labour_value) for s in specs]) / 100.0
    goods = Goods(
        codes=[s.code for s in specs],
        products=[str(s.product) for s in specs],
        value=value,
        size=size,
        base_units=np.zeros(len(specs)),
    )
    return eco, goods, vals, float(hpu)


def plan_period(
    eco: Any,
    fd: pd.DataFrame,
    personal_money: pd.Series,
    phi: float,
    able: int,
    weeks_per_year: float,
    max_week: float | None,
    hpu: float,
    extra_investment: float = 0.0,
) -> tuple[Any, float]:
    """The period's Leontief plan (yearly rates) and the factor applied to personal targets.

    ``extra_investment`` (money, at a yearly rate) is added to the investment bundle in
    the base year's composition: the capacity the loop builds or rebuilds this period.
    """
    from gosplan.planning.leontief import leontief_plan

    def targets(factor: float) -> pd.DataFrame:
        t = fd.drop(columns=["personal"]).clip(lower=0.0) * phi
        t = t[[c for c in ("social", "investment", "stocks", "exports") if c in t.columns]]
        if extra_investment > 0 and "investment" in t.columns and t["investment"].sum() > 0:
            inv = t["investment"]
            t["investment"] = inv + inv / inv.sum() * extra_investment
        t.insert(0, "personal", personal_money.reindex(fd.index).fillna(0.0) * factor)
        return t

    plan = leontief_plan(
        eco,
        targets(1.0),
        population=float(able),
        weeks_per_year=weeks_per_year,
        hours_per_labour_unit=hpu,
    )
    if max_week is None:
        return plan, 1.0
    lab = plan.labour_by_purpose
    personal_h = float(lab.get("personal", 0.0))
    factor, _ = fit_working_week(
        personal_h, float(lab.sum()) - personal_h, float(able), weeks_per_year, max_week
    )
    if factor < 1.0:
        plan = leontief_plan(
            eco,
            targets(factor),
            population=float(able),
            weeks_per_year=weeks_per_year,
            hours_per_labour_unit=hpu,
        )
    return plan, factor


def normalise_shares(d: Any) -> Any:
    """Fund shares rounded to 6 places summing to exactly 1 (the rest to the largest)."""
    from gosplan.services.accounts import Deduction

    shares = dict(d.shares)
    if not shares:
        return d
    gap = Decimal(1) - sum(shares.values(), Decimal(0))
    top = max(shares, key=lambda k: shares[k])
    shares[top] += gap
    return Deduction(rate=d.rate, shares=shares, source=d.source)


def table_digest(frame: pd.DataFrame | pd.Series) -> str:
    hashed = np.asarray(pd.util.hash_pandas_object(frame, index=True), dtype=np.uint64)
    return hashlib.sha256(hashed.tobytes()).hexdigest()
