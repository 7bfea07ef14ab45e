"""Plan configurations: the schema, its validation, and planning from one.

A configuration names the economy, the targets by purpose, the years, the
population that works, the capital assumptions, the limits and the method.
Every key is checked: an unknown key is an error that names it and suggests
the closest valid one.  See ``examples/plan-default.toml`` and
``docs/planning.md`` for every key.

This module is maths only: it takes a mapping, an :class:`Economy` and
tables, never a path.  Reading the TOML file, the feedback CSV and the
economy's source is :mod:`gosplan.services.plan_runs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.core.methods import METHODS
from gosplan.core.validation import check_number
from gosplan.errors import ValidationError
from gosplan.planning.leontief import LeontiefPlanResult, leontief_plan
from gosplan.planning.multiyear import (
    MultiYearPlanResult,
    multi_year_plan,
    receding_horizon_plan,
)
from gosplan.planning.problem import closest
from gosplan.planning.targets import PLAN_PURPOSES, purpose_bundles

NUM = (int, float)
#: section -> key -> (allowed types, help)
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "economy": {
        "source": ((str,), "economy source: 'default', a publisher's file, a Parquet directory"),
        "year": ((int,), "year, for multi-year sources (WIOD, SCB, IBGE)"),
        "hours_per_labour_unit": (NUM, "hours in one unit of the table's labour (wages tables)"),
        "hours_per_job": (NUM, "hours a year per job/person when labour counts persons"),
    },
    "plan": {
        "mode": ((str,), "'multi-year', 'receding' or 'leontief'"),
        "years": ((int,), "number of plan years"),
        "start_year": ((int,), "first plan year (default: the table's year + 1)"),
        "horizon": ((int,), "years in view in receding-horizon mode"),
        "method": ((str,), "lp, simplex, ipm, pdlp (HiGHS) or forward (fast heuristic)"),
        "time_limit": (NUM, "seconds per LP"),
    },
    "targets": {
        "free": ((list,), "purposes made free for all (from health, education, care, culture)"),
        "uplift": ((int, float, dict), "scale of the free purposes (number or {purpose: x})"),
        "include": ((list,), "purposes to plan for (default: all with targets)"),
        "growth": ((int, float, dict), "yearly growth of targets (number or {purpose: rate})"),
        "assign": ((dict,), "{product: purpose} overriding the keyword rules"),
        "scale": (NUM, "multiply every target (e.g. 1.1 = 10 % more than the table)"),
        "feedback": (
            (str,),
            "CSV from `gosplan accounts feedback --csv`: personal-consumption "
            "targets scaled by next_target / current_target per product",
        ),
    },
    "population": {
        "population": (NUM, "people in the first plan year"),
        "growth": (NUM, "yearly growth of the population"),
        "participation": (NUM, "share of the population able to work (0-1]"),
        "weeks_per_year": (NUM, "working weeks a year"),
    },
    "capital": {
        "capital_output_ratio": (NUM, "capital per unit of gross output, when the table has none"),
        "depreciation": (NUM, "yearly wear of capacity"),
        "utilisation": (NUM, "base-year output / capacity"),
        "modern_labour_saving": (NUM, "labour saved per unit by newly built capacity (0-1)"),
        "terminal_growth": (NUM, "growth the capacity left at the end must allow"),
    },
    "limits": {
        "max_week": (NUM, "upper limit on hours per able-bodied person per week"),
        "balanced_trade": ((bool,), "imports paid for by exports"),
    },
    "output": {
        "dir": ((str,), "directory for tables (CSV) and charts (PNG)"),
        "charts": ((bool,), "write charts"),
    },
}
MODES = ("multi-year", "receding", "leontief")

#: section -> key -> (lowest, highest, lowest excluded, highest excluded) for numbers;
#: every number must also be finite (TOML allows ``inf`` and ``nan``)
BOUNDS: dict[str, dict[str, tuple[float | None, float | None, bool, bool]]] = {
    "economy": {
        "year": (1000, 9999, False, False),
        "hours_per_labour_unit": (0, None, True, False),
        "hours_per_job": (0, 8784, True, False),
    },
    "plan": {
        "years": (1, 100, False, False),
        "start_year": (1000, 9999, False, False),
        "horizon": (1, 100, False, False),
        "time_limit": (0, None, True, False),
    },
    "targets": {
        "uplift": (0, 100, False, False),
        "growth": (-1, 1, True, False),
        "scale": (0, 1e6, True, False),
    },
    "population": {
        "population": (0, 1e11, True, False),
        "growth": (-1, 1, True, False),
        "participation": (0, 1, True, False),
        "weeks_per_year": (0, 53, True, False),
    },
    "capital": {
        "capital_output_ratio": (0, 100, False, False),
        "depreciation": (0, 1, False, False),
        "utilisation": (0, 1, True, False),
        "modern_labour_saving": (0, 1, False, True),
        "terminal_growth": (-1, 1, True, False),
    },
    "limits": {"max_week": (0, 168, True, False)},
}
#: why a bound is what it is, where that is not obvious
BOUND_HINTS: dict[tuple[str, str], str] = {
    ("targets", "growth"): "(a yearly rate: 0.02 is 2 %; -1 or below would make targets zero "
    "or negative, above 1 more than doubles them each year — a "
    "percentage written as a number?)",
    ("population", "growth"): "(a yearly rate: 0.006 is 0.6 %)",
    ("capital", "terminal_growth"): "(a yearly rate: 0.02 is 2 %)",
    ("population", "participation"): "(the share of the population able to work)",
    ("limits", "max_week"): "(hours in a week: a week has 168)",
    ("economy", "hours_per_job"): "(hours in a year: a year has at most 8784)",
}


@dataclass(frozen=True)
class PlanConfig:
    """A validated plan configuration (sections of :data:`SCHEMA`)."""

    data: dict[str, dict[str, Any]]
    path: str = "<dict>"

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.data.get(section, {}).get(key, default)


def validate_config(raw: Mapping[str, Any], *, path: str = "<dict>") -> PlanConfig:
    """Check every section and key of ``raw``; errors name the key and suggest a fix."""
    data: dict[str, dict[str, Any]] = {}
    for section, body in raw.items():
        if section not in SCHEMA:
            raise ValidationError(
                f"{path}: unknown section [{section}].{closest(section, SCHEMA)} "
                f"Sections are {list(SCHEMA)}."
            )
        if not isinstance(body, Mapping):
            raise ValidationError(f"{path}: [{section}] must be a table of keys.")
        keys = SCHEMA[section]
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key not in keys:
                raise ValidationError(
                    f"{path}: unknown key {key!r} in [{section}].{closest(key, keys)} "
                    f"Valid keys: {list(keys)}."
                )
            types, help_ = keys[key]
            if isinstance(value, bool) and bool not in types:
                ok = False
            else:
                ok = isinstance(value, types)
            if not ok:
                names = " or ".join(t.__name__ for t in types)
                raise ValidationError(
                    f"{path}: [{section}] {key} must be {names} ({help_}); got {value!r}."
                )
            _check_bounds(section, key, value, path)
            out[key] = value
        data[section] = out
    cfg = PlanConfig(data=data, path=path)
    mode = cfg.get("plan", "mode", "multi-year")
    if mode not in MODES:
        raise ValidationError(
            f"{path}: [plan] mode must be one of {MODES}; got {mode!r}.{closest(mode, MODES)}"
        )
    method = cfg.get("plan", "method", "lp")
    if method not in METHODS["multi_year_plan"]:
        raise ValidationError(
            f"{path}: [plan] method must be one of {METHODS['multi_year_plan']}; got {method!r}."
            f"{closest(method, METHODS['multi_year_plan'])}"
        )
    for where in ("growth", "uplift"):
        v = cfg.get("targets", where)
        if isinstance(v, Mapping):
            for k in v:
                if k not in PLAN_PURPOSES:
                    raise ValidationError(
                        f"{path}: [targets.{where}] names unknown purpose {k!r}."
                        f"{closest(k, PLAN_PURPOSES)} Purposes: {list(PLAN_PURPOSES)}."
                    )
    for k in cfg.get("targets", "include", []) or []:
        if k not in PLAN_PURPOSES:
            raise ValidationError(
                f"{path}: [targets] include names unknown purpose {k!r}.{closest(k, PLAN_PURPOSES)}"
            )
    return cfg


def _check_bounds(section: str, key: str, value: Any, path: str) -> None:
    """Numbers finite and within :data:`BOUNDS` (also each rate of a ``{purpose: rate}``)."""
    bounds = BOUNDS.get(section, {}).get(key)
    if bounds is None:
        return
    lo, hi, lo_open, hi_open = bounds
    hint = BOUND_HINTS.get((section, key), "")
    items = value.items() if isinstance(value, Mapping) else [(None, value)]
    for sub, v in items:
        name = f"{path}: [{section}] {key}" if sub is None else f"{path}: [{section}.{key}] {sub}"
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValidationError(f"{name} must be a number; got {v!r}.")
        try:
            check_number(v, name=name, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, hint=hint)
        except ValidationError as exc:
            raise ValidationError(str(exc).replace(f"`{name}`", name, 1)) from None


def apply_feedback(
    bundles: pd.DataFrame, feedback: pd.DataFrame, *, source: str = "feedback"
) -> pd.DataFrame:
    """Scale the ``personal`` bundle by the market feedback of the accounts.

    ``feedback`` is the table ``gosplan accounts feedback PERIOD --source … --csv
    FILE`` writes (columns ``product``, ``current_target``, ``next_target``;
    :func:`gosplan.services.plan_runs.read_feedback` reads it): each product's
    personal-consumption target is multiplied by ``next_target /
    current_target`` (a product whose current target is zero, or that the table
    does not list, keeps its target).  ``source`` names the table in messages
    (the file's path).  See docs/accounts.md.
    """
    need = ["product", "current_target", "next_target"]
    missing = [c for c in need if c not in feedback.columns]
    if missing:
        raise ValidationError(
            f"[targets] feedback: {source} lacks column(s) {missing}; it must be the CSV written "
            f"by `gosplan accounts feedback PERIOD --source SOURCE --csv FILE` "
            f"(columns {need}); it has {list(feedback.columns)}."
        )
    if "personal" not in bundles.columns:
        raise ValidationError(
            "[targets] feedback adjusts personal-consumption targets, but this plan has no "
            f"'personal' purpose (purposes: {list(bundles.columns)})."
        )
    index = [str(x) for x in bundles.index]
    position = {name: i for i, name in enumerate(index)}
    out = bundles.copy()
    personal = out["personal"].to_numpy(dtype=float, copy=True)
    columns = (feedback["product"], feedback["current_target"], feedback["next_target"])
    for row, (prod, cur, nxt) in enumerate(zip(*columns, strict=True), start=2):
        prod = str(prod)
        if prod not in position:
            raise ValidationError(
                f"[targets] feedback: {source} row {row}: product {prod!r} is not a product of "
                f"this economy.{closest(prod, index)}"
            )
        try:
            c, x = float(cur), float(nxt)
        except (TypeError, ValueError):
            raise ValidationError(
                f"[targets] feedback: {source} row {row} ({prod!r}): current_target and "
                f"next_target must be numbers; got {cur!r}, {nxt!r}."
            ) from None
        if not (np.isfinite(c) and np.isfinite(x)) or c < 0 or x < 0:
            raise ValidationError(
                f"[targets] feedback: {source} row {row} ({prod!r}): targets must be finite and "
                f">= 0; got current {c!r}, next {x!r}."
            )
        if c > 0:
            personal[position[prod]] *= x / c
    out["personal"] = personal
    before = float(bundles["personal"].sum())
    after = float(out["personal"].sum())
    out.attrs["notes"] = [
        *bundles.attrs.get("notes", []),
        f"personal consumption adjusted by the accounts' market feedback "
        f"({PurePath(source).name}): total {before:.6g} -> {after:.6g}",
    ]
    return out


@dataclass(frozen=True)
class PlanRun:
    """What running a configuration produced."""

    config: PlanConfig
    economy: Economy
    first_year: LeontiefPlanResult
    plan: MultiYearPlanResult | None


def plan_from_config(
    cfg: PlanConfig,
    economy: Economy,
    *,
    feedback: pd.DataFrame | None = None,
    feedback_source: str = "feedback",
) -> PlanRun:
    """Plan ``economy`` as ``cfg`` says: a Leontief plan for the first year and, unless
    ``mode = "leontief"``, the multi-year (or receding-horizon) plan.

    ``feedback`` is the table named by ``[targets] feedback`` (already read;
    see :func:`apply_feedback`).  To plan from a file and a source name, use
    :func:`gosplan.services.plan_runs.run_config`.
    """
    bundles = purpose_bundles(
        economy,
        free=cfg.get("targets", "free", ["health", "education"]),
        uplift=cfg.get("targets", "uplift", 1.0),
        assign=cfg.get("targets", "assign"),
        include=cfg.get("targets", "include"),
    )
    if feedback is not None:
        bundles = apply_feedback(bundles, feedback, source=feedback_source)
    scale = float(cfg.get("targets", "scale", 1.0))
    if scale != 1.0:
        notes = bundles.attrs.get("notes", [])
        bundles = bundles * scale
        bundles.attrs["notes"] = [*notes, f"every target scaled by {scale:g}"]
    pop = cfg.get("population", "population")
    common: dict[str, Any] = {
        "population": pop,
        "participation": cfg.get("population", "participation", 1.0),
        "weeks_per_year": cfg.get("population", "weeks_per_year", 46.0),
        "hours_per_labour_unit": cfg.get("economy", "hours_per_labour_unit"),
        "hours_per_job": cfg.get("economy", "hours_per_job", 1800.0),
    }
    first = leontief_plan(economy, bundles, **common)
    mode = cfg.get("plan", "mode", "multi-year")
    if mode == "leontief":
        return PlanRun(cfg, economy, first, None)
    kwargs: dict[str, Any] = dict(common)
    kwargs.update(
        {
            "years": cfg.get("plan", "years", 5),
            "start_year": cfg.get("plan", "start_year"),
            "growth": cfg.get("targets", "growth", 0.02),
            "population_growth": cfg.get("population", "growth", 0.0),
            "method": cfg.get("plan", "method", "lp"),
            "time_limit": cfg.get("plan", "time_limit"),
            "max_week": cfg.get("limits", "max_week"),
            "balanced_trade": cfg.get("limits", "balanced_trade", False),
        }
    )
    for key in (
        "capital_output_ratio",
        "depreciation",
        "utilisation",
        "modern_labour_saving",
        "terminal_growth",
    ):
        if cfg.get("capital", key) is not None:
            kwargs[key] = cfg.get("capital", key)
    if mode == "receding":
        plan = receding_horizon_plan(
            economy, bundles, horizon=cfg.get("plan", "horizon", 3), **kwargs
        )
    else:
        plan = multi_year_plan(economy, bundles, **kwargs)
    return PlanRun(cfg, economy, first, plan)


#: the default five-year plan (also examples/plan-default.toml)
DEFAULT_PLAN: dict[str, dict[str, Any]] = {
    "economy": {"source": "default", "hours_per_job": 1800.0},
    "plan": {"mode": "multi-year", "years": 5, "method": "lp"},
    "targets": {
        "free": ["health", "education"],
        "uplift": 1.0,
        "growth": {
            "personal": 0.02,
            "health": 0.04,
            "education": 0.04,
            "social": 0.01,
            "exports": 0.02,
            "reserves": 0.0,
            "other": 0.0,
        },
    },
    "population": {
        "population": 213.3e6,
        "growth": 0.006,
        "participation": 0.65,
        "weeks_per_year": 46.0,
    },
    "capital": {
        "capital_output_ratio": 1.5,
        "depreciation": 0.045,
        "utilisation": 0.9,
        "modern_labour_saving": 0.25,
    },
}


def default_plan_config(economy: Economy | None = None, **overrides: Any) -> PlanConfig:
    """The default five-year plan's configuration for ``economy`` (``None``: the
    embedded default economy, Brazil, IBGE): free health and education for all.
    ``overrides`` are ``section={key: value}`` updates of :data:`DEFAULT_PLAN`.
    The default population is Brazil's (2021); for another economy without a
    ``population`` override, the people who share the work are the base year's
    workforce (its labour at ``hours_per_job`` hours a year each).
    :func:`gosplan.services.plan_runs.default_five_year_plan` runs it.
    """
    raw = {k: dict(v) for k, v in DEFAULT_PLAN.items()}
    for section, changes in overrides.items():
        if section not in SCHEMA:
            raise ValidationError(
                f"default five-year plan: unknown section {section!r}.{closest(section, SCHEMA)}"
            )
        raw.setdefault(section, {}).update(changes)
    if economy is not None:
        if economy.year is not None:
            raw["plan"].setdefault("start_year", economy.year + 1)
        brazil = "ibge" in str(economy.meta.source).lower() or economy.name.startswith("Brazil")
        if not brazil and "population" not in overrides:
            # the default population is Brazil's; elsewhere the people who work are the
            # base year's workforce: its labour at hours_per_job hours a year each
            hpj = float(raw["economy"].get("hours_per_job", 1800.0))
            hpu = raw["economy"].get("hours_per_labour_unit")
            if hpu is None and economy.labour_kind == "wages":
                raw["population"] = {}
            else:
                hours = leontief_plan(
                    economy, purpose_bundles(economy), hours_per_labour_unit=hpu, hours_per_job=hpj
                ).labour_hours
                raw["population"] = {
                    "population": hours / hpj,
                    "participation": 1.0,
                    "weeks_per_year": 46.0,
                }
        gr = raw["targets"].get("growth")
        if isinstance(gr, dict) and economy.final_demand is None:
            raw["targets"]["growth"] = 0.02
    return validate_config(raw, path="default five-year plan")
