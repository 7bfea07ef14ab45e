"""The multi-year model (capacities, capital, targets by year) built from an economy,
and :class:`Window`, a solved stretch of years."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy
from gosplan.core.result import Status
from gosplan.errors import ValidationError
from gosplan.planning.multiyear.steady import stationary_output
from gosplan.planning.problem import bundles_frame, closest
from gosplan.planning.targets import PLAN_PURPOSES
from gosplan.planning.targets import hours_per_labour_unit as _hours_per_unit


@dataclass
class Model:
    A: Any
    labour: np.ndarray
    products: pd.Index
    C0: np.ndarray
    delta: np.ndarray
    B: Any | None  # capital goods per unit of new capacity (n × n), or None
    kappa: np.ndarray | None  # capital-output ratio per sector (aggregate form)
    s: np.ndarray | None  # composition of investment
    pi: float
    bundles: pd.DataFrame
    growth: dict[str, float]
    imports: np.ndarray | None
    able: np.ndarray | None  # able-bodied people for year offsets 0..
    max_labour: np.ndarray | None
    terminal_growth: float
    hpu: float
    weeks: float

    def targets(self, t: int) -> pd.DataFrame:
        g = np.array([(1.0 + self.growth.get(str(p), 0.0)) ** t for p in self.bundles.columns])
        return self.bundles * g


@dataclass
class Window:
    xo: np.ndarray  # years × n
    xn: np.ndarray
    g: np.ndarray
    K: np.ndarray  # capacity at the start of each year (years × n)
    duals: np.ndarray  # balance-row duals (years × n)
    status: Status
    message: str
    objective: float
    nit: int
    backend_status: int
    backend_message: str


def build_model(
    economy: Economy,
    targets: Any,
    *,
    years: int,
    growth: float | Mapping[str, float],
    population: float | None,
    population_growth: float,
    participation: float,
    weeks_per_year: float,
    hours_per_labour_unit: float | None,
    hours_per_job: float,
    capital_output_ratio: float | None,
    depreciation: float | None,
    utilisation: float,
    modern_labour_saving: float,
    terminal_growth: float | None,
    max_week: float | None,
    balanced_trade: bool,
) -> tuple[Model, dict[str, Any]]:
    caller = "multi_year_plan"
    if years < 1:
        raise ValidationError(f"{caller}: years must be >= 1; got {years}.")
    if not 0 < utilisation <= 1:
        raise ValidationError(f"{caller}: utilisation must be in (0, 1]; got {utilisation}.")
    if not 0 <= modern_labour_saving < 1:
        raise ValidationError(
            f"{caller}: modern_labour_saving must be in [0, 1); got {modern_labour_saving}."
        )
    bundles = bundles_frame(economy, targets)
    notes: list[str] = list(bundles.attrs.get("notes", []))
    if "investment" in bundles.columns:
        bundles = bundles.drop(columns="investment")
        notes.append(
            "the 'investment' purpose is endogenous (capacity built by the plan), not a target"
        )
    if isinstance(growth, Mapping):
        gr = {str(k): float(v) for k, v in growth.items()}
        for k in gr:
            if k not in bundles.columns and k not in PLAN_PURPOSES:
                raise ValidationError(
                    f"{caller}: growth given for purpose {k!r}, which has no target bundle; "
                    f"purposes are {list(bundles.columns)}.{closest(k, bundles.columns)}"
                )
    else:
        gr = {str(p): float(growth) for p in bundles.columns}
    n = economy.n
    assumptions: dict[str, Any] = {
        "utilisation": utilisation,
        "modern_labour_saving": modern_labour_saving,
    }
    # capital
    B = None
    kappa = None
    s = None
    if economy.capital is not None:
        B = sp.csc_array(economy.capital)
        assumptions["capital"] = "capital coefficients of the table (Economy.capital)"
    else:
        if (
            economy.capital_stock is not None
            and economy.output is not None
            and capital_output_ratio is None
        ):
            kappa = economy.capital_stock / np.maximum(economy.output, 1e-300)
            assumptions["capital"] = (
                "capital-output ratio per sector from the table's capital "
                "stock (Economy.capital_stock / output)"
            )
        else:
            ratio = 1.5 if capital_output_ratio is None else float(capital_output_ratio)
            if not ratio > 0:
                raise ValidationError(f"{caller}: capital_output_ratio must be > 0; got {ratio}.")
            kappa = np.full(n, ratio)
            assumptions["capital"] = (
                f"stated capital-output ratio {ratio:g} per unit of gross "
                "output (the table has none)"
            )
        inv = None
        if economy.final_demand is not None:
            inv = economy.final_demand_by_purpose()["investment"].clip(lower=0).to_numpy()
        if inv is None or inv.sum() <= 0:
            raise ValidationError(
                f"{caller}: the economy has no capital coefficients and no investment column "
                "whose composition could stand for the capital goods; give Economy.capital."
            )
        s = inv / inv.sum()
    if depreciation is not None:
        if not 0 <= depreciation < 1:
            raise ValidationError(f"{caller}: depreciation must be in [0, 1); got {depreciation}.")
        delta = np.full(n, float(depreciation))
        assumptions["depreciation"] = f"stated {depreciation:g} a year"
    elif B is not None and economy.depreciation is not None:
        tot = np.asarray(B.sum(axis=0)).ravel()
        delta = np.where(tot > 0, (economy.depreciation @ B) / np.maximum(tot, 1e-300), 0.045)
        assumptions["depreciation"] = "capital-weighted depreciation rates of the table"
    else:
        delta = np.full(n, 0.045)
        assumptions["depreciation"] = "0.045 a year (assumed; the table has no rates)"
    x0 = economy.output
    if x0 is None:
        if economy.final_demand is None:
            raise ValidationError(
                f"{caller}: the economy has neither gross output nor final demand, so its "
                "initial capacity is unknown."
            )
        # a stationary base: final demand (without investment) plus the replacement of
        # the capital it wears out, x = A x + B diag(δ) x + y
        y0 = bundles.sum(axis=1).to_numpy()
        x0 = stationary_output(economy.A, B, s, kappa, delta, y0)
        notes.append(
            "initial output: the stationary output of the targets plus capital "
            "replacement, (I - A - B diag(δ))⁻¹ y (the table has no gross output)"
        )
    C0 = np.asarray(x0, dtype=float) / utilisation
    hpu = (
        hours_per_labour_unit
        if hours_per_labour_unit is not None
        else _hours_per_unit(economy, hours_per_job=hours_per_job)
    )
    able = None
    max_labour = None
    if population is not None:
        if not population > 0:
            raise ValidationError(f"{caller}: population must be > 0; got {population}.")
        if not 0 < participation <= 1:
            raise ValidationError(
                f"{caller}: participation must be in (0, 1]; got {participation}."
            )
        horizon = years + 64  # room for receding windows
        able = population * participation * (1 + population_growth) ** np.arange(horizon)
        if max_week is not None:
            max_labour = able * weeks_per_year * max_week / hpu
    elif max_week is not None:
        raise ValidationError(f"{caller}: max_week needs a population.")
    imports = None
    if balanced_trade:
        if economy.imports is None:
            raise ValidationError(
                f"{caller}: balanced_trade needs the economy's imported inputs (imports)."
            )
        if "exports" not in bundles.columns:
            raise ValidationError(f"{caller}: balanced_trade needs an 'exports' target bundle.")
        imports = economy.imports_per_unit
    tg = (
        terminal_growth
        if terminal_growth is not None
        else float(np.mean(list(gr.values())))
        if gr
        else 0.0
    )
    assumptions.update(
        {
            "growth": gr,
            "terminal_growth": tg,
            "notes": notes,
            "hours_per_labour_unit": hpu,
            "weeks_per_year": weeks_per_year,
        }
    )
    return Model(
        A=sp.csc_array(economy.A),
        labour=economy.labour.copy(),
        products=economy.products,
        C0=C0,
        delta=delta,
        B=B,
        kappa=kappa,
        s=s,
        pi=float(modern_labour_saving),
        bundles=bundles,
        growth=gr,
        imports=imports,
        able=able,
        max_labour=max_labour,
        terminal_growth=float(tg),
        hpu=float(hpu),
        weeks=float(weeks_per_year),
    ), assumptions


DEFAULTS: dict[str, Any] = {
    "growth": 0.02,
    "population": None,
    "population_growth": 0.0,
    "participation": 1.0,
    "weeks_per_year": 46.0,
    "hours_per_labour_unit": None,
    "hours_per_job": 1800.0,
    "capital_output_ratio": None,
    "depreciation": None,
    "utilisation": 0.9,
    "modern_labour_saving": 0.25,
    "terminal_growth": None,
    "max_week": None,
    "balanced_trade": False,
}


def model_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    unknown = [k for k in kwargs if k not in DEFAULTS]
    if unknown:
        raise ValidationError(
            f"receding_horizon_plan got unknown keyword {unknown[0]!r}."
            f"{closest(unknown[0], DEFAULTS)}"
        )
    out = dict(DEFAULTS)
    out.update(kwargs)
    return out
