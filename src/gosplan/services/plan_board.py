"""How adopted decisions bind the plan, and the plan the web shows.

:func:`apply_effects` takes the target bundles (products × purposes) and the
adopted effects (:func:`gosplan.services.decisions.adopted_effects`, oldest
first) and returns new bundles plus one :class:`Change` per effect that says
what it did:

``fund_split``     the labour that goes to the named funds (health, education,
                   care, culture, investment, reserves; administration is the
                   plan's ``social``) is kept, and re-split by the adopted
                   shares: each purpose's bundle is scaled so that its labour
                   ``v · y_p`` equals its share of that total;
``sector_target``  the product's row is scaled by ``factor`` in every purpose;
``working_week``   the plan aims for that week: it becomes the multi-year
                   plan's limit on hours per able-bodied person.

:func:`plan_board` computes what the plan page shows: the first year's
Leontief plan (targets, labour and working week by purpose) for the bundles
without and with the decisions, and the multi-year plan by year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gosplan.core.economy import Economy
from gosplan.errors import GosplanError, ValidationError

#: decision funds -> plan purposes
FUND_PURPOSE = {
    "health": "health",
    "education": "education",
    "care": "care",
    "culture": "culture",
    "investment": "investment",
    "reserves": "reserves",
    "administration": "social",
}
#: yearly growth of targets by purpose in the multi-year plan (the default five-year plan's)
GROWTH = {
    "personal": 0.02,
    "health": 0.04,
    "education": 0.04,
    "care": 0.03,
    "culture": 0.02,
    "social": 0.01,
    "exports": 0.02,
    "reserves": 0.0,
    "other": 0.0,
}
HOURS_PER_JOB = 1800.0


@dataclass(frozen=True)
class Change:
    """What one adopted decision did to the plan."""

    proposal: int
    title: str
    kind: str
    option: str
    description: str
    by_purpose: dict[str, float]  # target total after / before, by purpose (1.0 = unchanged)
    products: dict[str, float] = field(default_factory=dict)  # product -> factor
    week_limit: float | None = None


def apply_effects(
    bundles: pd.DataFrame, effects: Sequence[Mapping[str, Any]], values: pd.Series
) -> tuple[pd.DataFrame, list[Change], float | None]:
    """Bundles with every adopted effect applied, what each did, and the week aimed for."""
    out = bundles.copy()
    v = values.reindex(out.index).to_numpy(dtype=float)
    changes: list[Change] = []
    week: float | None = None
    for e in effects:
        before = out.sum(axis=0)
        kind, eff = str(e["kind"]), dict(e["effect"])
        products: dict[str, float] = {}
        limit: float | None = None
        if kind == "fund_split":
            shares = {FUND_PURPOSE.get(k, k): float(s) for k, s in eff["shares"].items()}
            present = [p for p in shares if p in out.columns and float(v @ out[p].to_numpy()) > 0]
            missing = [p for p in shares if p not in present]
            labour = {p: float(v @ out[p].to_numpy()) for p in present}
            total = sum(labour.values())
            weight = sum(shares[p] for p in present)
            for p in present:
                out[p] = out[p] * (shares[p] / weight * total / labour[p])
            text = "social fund re-split: " + ", ".join(
                f"{p} {shares[p] / weight:.0%}" for p in present
            )
            if missing:
                text += f" (no targets for {', '.join(missing)} in this economy)"
        elif kind == "sector_target":
            product, factor = str(eff["product"]), float(eff["factor"])
            if product not in out.index:
                raise ValidationError(
                    f"decision {e['proposal']}: product {product!r} is not in the economy."
                )
            out.loc[product] = out.loc[product] * factor
            products[product] = factor
            text = f"target of {product} × {factor:g}"
        elif kind == "working_week":
            limit = float(eff["hours"])
            week = limit
            text = f"the plan aims for a working week of at most {limit:g} hours"
        else:
            continue
        after = out.sum(axis=0)
        ratio = {str(p): (float(after[p] / before[p]) if before[p] else 1.0) for p in out.columns}
        changes.append(
            Change(
                proposal=int(e["proposal"]),
                title=str(e["title"]),
                kind=kind,
                option=str(e["option"]),
                description=text,
                by_purpose=ratio,
                products=products,
                week_limit=limit,
            )
        )
    out.attrs.update(bundles.attrs)
    return out, changes, week


@dataclass(frozen=True)
class PurposeRow:
    purpose: str
    base_target: float
    target: float
    labour_hours: float
    hours_per_week: float | None
    changed_by: list[int]


@dataclass(frozen=True)
class PlanBoard:
    """Everything the plan page shows (numbers in the units named)."""

    economy: str
    target_unit: str
    workforce: float
    workforce_note: str
    rows: list[PurposeRow]
    working_week: float | None
    base_working_week: float | None
    week_limit: float | None
    changes: list[Change]
    years: list[int]
    targets_by_year: pd.DataFrame  # purposes × years
    week_by_year: pd.Series
    week_by_purpose_by_year: pd.DataFrame  # purposes × years
    multi_year: str  # how the years were planned
    notes: list[str]


def workforce_for(economy: Economy, population: float | None) -> tuple[float, str]:
    """Able-bodied people who share the work: given, or the base year's workforce."""
    if population is not None:
        return float(population), f"{population:,.0f} able-bodied people (setting)"
    from gosplan.planning.leontief import leontief_plan
    from gosplan.planning.plan_config import DEFAULT_PLAN
    from gosplan.planning.targets import purpose_bundles

    if economy.meta.source and "ibge" in str(economy.meta.source).lower():
        pop = DEFAULT_PLAN["population"]
        people = float(pop["population"]) * float(pop["participation"])
        return people, (
            f"{people:,.0f} able-bodied people ({pop['population']:,.0f} × "
            f"participation {pop['participation']})"
        )
    hours = leontief_plan(economy, purpose_bundles(economy)).labour_hours
    people = hours / HOURS_PER_JOB
    return people, (
        f"{people:,.1f} able-bodied people: the base year's labour "
        f"({hours:,.0f} hours) at {HOURS_PER_JOB:,.0f} hours a job"
    )


def plan_board(
    economy: Economy,
    effects: Sequence[Mapping[str, Any]],
    *,
    population: float | None = None,
    years: int = 5,
) -> PlanBoard:
    """The plan with the adopted decisions applied, against the plan without them."""
    from gosplan.planning.leontief import leontief_plan
    from gosplan.planning.multiyear import multi_year_plan
    from gosplan.planning.targets import purpose_bundles

    base = purpose_bundles(economy)
    people, note = workforce_for(economy, population)
    first_base = leontief_plan(economy, base, population=people)
    bundles, changes, limit = apply_effects(base, effects, first_base.values)
    first = leontief_plan(economy, bundles, population=people)
    changed: dict[str, list[int]] = {}
    for c in changes:
        for p, r in c.by_purpose.items():
            if abs(r - 1.0) > 1e-9:
                changed.setdefault(p, []).append(c.proposal)
    rows = []
    wwp = first.working_week_by_purpose
    for p in bundles.columns:
        rows.append(
            PurposeRow(
                purpose=str(p),
                base_target=float(base[p].sum()),
                target=float(bundles[p].sum()),
                labour_hours=float(first.labour_by_purpose[p]),
                hours_per_week=None if wwp is None else float(wwp[p]),
                changed_by=changed.get(str(p), []),
            )
        )
    start = (economy.year or 0) + 1
    yrs = list(range(start, start + years))
    growth = {p: GROWTH.get(str(p), 0.0) for p in bundles.columns}
    notes = list(bundles.attrs.get("notes", []))
    try:
        plan = multi_year_plan(
            economy,
            bundles,
            years=years,
            start_year=start,
            growth=growth,
            population=people,
            capital_output_ratio=1.5,
            depreciation=0.045,
            max_week=limit,
        )
        if not plan.success or plan.working_week is None:
            raise ValidationError(plan.message)
        targets = plan.targets.reindex(bundles.columns).fillna(0.0)
        week = plan.working_week
        weeks_per_year = 46.0
        wbp = plan.labour_by_purpose_table.reindex(bundles.columns).fillna(0.0) / (
            people * weeks_per_year
        )
        how = (
            "multi-year plan (sparse LP, HiGHS): investment in new capacity, "
            "capital/output 1.5, depreciation 4.5 %"
        )
        if limit is not None:
            how += f", working week at most {limit:g} h"
    except GosplanError as exc:
        # one Leontief plan per year on the grown targets (no investment in capacity)
        cols: dict[int, pd.Series] = {}
        wk: dict[int, float] = {}
        wbp_cols: dict[int, pd.Series] = {}
        for t, y in enumerate(yrs):
            grown = bundles * pd.Series({p: (1 + growth[p]) ** t for p in bundles.columns})
            yp = leontief_plan(economy, grown, population=people)
            cols[y] = grown.sum(axis=0)
            wk[y] = float(yp.working_week or 0.0)
            wbp_cols[y] = (
                yp.working_week_by_purpose
                if yp.working_week_by_purpose is not None
                else yp.labour_by_purpose * 0.0
            )
        targets = pd.DataFrame(cols)
        week = pd.Series(wk)
        wbp = pd.DataFrame(wbp_cols)
        how = "one Leontief plan per year on the grown targets (no capacity model)"
        notes.append(f"the multi-year plan could not be solved here: {exc}")
        if limit is not None and max(wk.values()) > limit:
            notes.append(
                f"the adopted working week of {limit:g} h is exceeded: "
                f"the plan needs up to {max(wk.values()):.1f} h"
            )
    return PlanBoard(
        economy=f"{economy.name} {economy.year or ''}".strip(),
        target_unit=economy.output_unit or "",
        workforce=people,
        workforce_note=note,
        rows=rows,
        working_week=first.working_week,
        base_working_week=first_base.working_week,
        week_limit=limit,
        changes=changes,
        years=yrs,
        targets_by_year=targets,
        week_by_year=week.astype(float),
        week_by_purpose_by_year=wbp,
        multi_year=how,
        notes=notes,
    )


def effects_key(effects: Sequence[Mapping[str, Any]]) -> str:
    """A cache key for a list of adopted effects."""
    import json

    return json.dumps([[e["proposal"], e["effect"]] for e in effects], sort_keys=True)
