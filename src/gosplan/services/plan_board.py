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
    effect: dict[str, Any] = field(default_factory=dict)  # the adopted effect, as voted


#: the parts a ``plan_change`` effect may hold (a workbench draft: several changes at once)
PART_KINDS = ("fund_split", "purpose_target", "sector_target", "working_week")


def _apply_one(
    out: pd.DataFrame, kind: str, eff: Mapping[str, Any], v: Any, proposal: Any
) -> tuple[str, dict[str, float], float | None]:
    """Apply one effect to ``out`` in place: (description, products scaled, week aimed for)."""
    products: dict[str, float] = {}
    limit: float | None = None
    if kind == "fund_split":
        shares = {FUND_PURPOSE.get(k, k): float(s) for k, s in eff["shares"].items()}
        present = [p for p in shares if p in out.columns and float(v @ out[p].to_numpy()) > 0]
        missing = [p for p in shares if p not in present]
        labour = {p: float(v @ out[p].to_numpy()) for p in present}
        total = sum(labour.values())
        weight = sum(shares[p] for p in present)
        if weight <= 0:
            return "social fund re-split: no fund named has targets here", products, limit
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
                f"decision {proposal}: product {product!r} is not in the economy."
            )
        out.loc[product] = out.loc[product] * factor
        products[product] = factor
        text = f"target of {product} × {factor:g}"
    elif kind == "purpose_target":
        purpose, factor = str(eff["purpose"]), float(eff["factor"])
        if purpose not in out.columns:
            raise ValidationError(
                f"decision {proposal}: purpose {purpose!r} has no targets in this plan."
            )
        out[purpose] = out[purpose] * factor
        text = f"targets for {purpose} × {factor:g}"
    elif kind == "working_week":
        limit = float(eff["hours"])
        text = f"the plan aims for a working week of at most {limit:g} hours"
    else:
        raise ValidationError(f"decision {proposal}: kind {kind!r} does not bind the plan.")
    return text, products, limit


def apply_effects(
    bundles: pd.DataFrame, effects: Sequence[Mapping[str, Any]], values: pd.Series
) -> tuple[pd.DataFrame, list[Change], float | None]:
    """Bundles with every adopted effect applied, what each did, and the week aimed for.

    A ``plan_change`` effect (``{"changes": [{"kind": ..., "effect": ...}, ...]}``, what the
    planner's workbench proposes) applies its parts in order, as one change."""
    out = bundles.copy()
    v = values.reindex(out.index).to_numpy(dtype=float)
    changes: list[Change] = []
    week: float | None = None
    for e in effects:
        before = out.sum(axis=0)
        kind, eff = str(e["kind"]), dict(e["effect"])
        if kind == "plan_change":
            parts = [(str(c["kind"]), dict(c["effect"])) for c in eff.get("changes", [])]
        elif kind in PART_KINDS:
            parts = [(kind, eff)]
        else:
            continue
        texts: list[str] = []
        products: dict[str, float] = {}
        limit: float | None = None
        for k, pe in parts:
            text, prods, lim = _apply_one(out, k, pe, v, e["proposal"])
            texts.append(text)
            products.update(prods)
            if lim is not None:
                limit = lim
        if limit is not None:
            week = limit
        after = out.sum(axis=0)
        ratio = {str(p): (float(after[p] / before[p]) if before[p] else 1.0) for p in out.columns}
        changes.append(
            Change(
                proposal=int(e["proposal"]),
                title=str(e["title"]),
                kind=kind,
                option=str(e["option"]),
                description="; ".join(texts) if texts else "the plan as it is",
                by_purpose=ratio,
                products=products,
                week_limit=limit,
                effect=eff,
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
class Unmet:
    """An adopted decision the plan cannot meet, and what the plan does instead.

    ``instead`` is ``"multi_year_uncapped"`` (the multi-year plan solved without the
    decision's limit) or ``"leontief_per_year"`` (one Leontief plan per year, no investment
    in capacity); ``needed`` is the working week the plan then needs at most, in ``year``."""

    proposal: int
    title: str
    option: str
    kind: str
    limit: float
    needed: float
    year: int
    instead: str
    why: str  # the solver's own words, for the technical notes


@dataclass(frozen=True)
class Shortfall:
    """A product whose first-year targets need more than the capacity there is."""

    product: str
    need: float  # what the targets need, as a share of the capacity (1.3 = 130 %)


def shortfalls(message: str | None) -> list[Shortfall]:
    """The products a multi-year plan's infeasibility message names as short of capacity."""
    import re

    out = []
    for m in re.finditer(
        r"""(['"])(.+?)\1 \(needs (\d+(?:\.\d+)?)% of its capacity\)""", message or ""
    ):
        out.append(Shortfall(product=m.group(2), need=float(m.group(3)) / 100.0))
    return out


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
    #: purposes × years, final output in ``target_unit``; in the multi-year plan investment
    #: is decided by the plan, not a target, so its row is NaN there
    targets_by_year: pd.DataFrame
    week_by_year: pd.Series
    week_by_purpose_by_year: pd.DataFrame  # purposes × years, hours per able-bodied person
    multi_year: str  # how the years were planned (words)
    notes: list[str]
    #: ``"multi_year"``, ``"multi_year_uncapped"`` (an adopted week could not be met) or
    #: ``"leontief_per_year"`` (the multi-year plan could not be solved)
    method: str = "multi_year"
    unmet: list[Unmet] = field(default_factory=list)
    #: why the multi-year plan failed, when it did (the solver's words)
    failure: str | None = None
    labour_unit: str = "hours"
    hours_per_labour_unit: float = 1.0
    workforce_basis: dict[str, float | str] = field(default_factory=dict)
    #: when the multi-year plan could not be solved for want of capacity: which products
    shortfalls: list[Shortfall] = field(default_factory=list)


def workforce_basis(economy: Economy, population: float | None) -> dict[str, float | str]:
    """How many able-bodied people share the work, and on what basis: ``kind`` is
    ``"setting"`` (given), ``"population"`` (population × participation, the default plan's)
    or ``"labour"`` (the base year's labour at :data:`HOURS_PER_JOB` hours a job)."""
    if population is not None:
        return {"kind": "setting", "people": float(population)}
    from gosplan.planning.leontief import leontief_plan
    from gosplan.planning.plan_config import DEFAULT_PLAN
    from gosplan.planning.targets import purpose_bundles

    if economy.meta.source and "ibge" in str(economy.meta.source).lower():
        pop = DEFAULT_PLAN["population"]
        return {
            "kind": "population",
            "people": float(pop["population"]) * float(pop["participation"]),
            "population": float(pop["population"]),
            "participation": float(pop["participation"]),
        }
    hours = float(leontief_plan(economy, purpose_bundles(economy)).labour_hours)
    return {
        "kind": "labour",
        "people": hours / HOURS_PER_JOB,
        "hours": hours,
        "hours_per_job": HOURS_PER_JOB,
    }


def workforce_for(economy: Economy, population: float | None) -> tuple[float, str]:
    """Able-bodied people who share the work: given, or the base year's workforce."""
    return _workforce_note(workforce_basis(economy, population))


def _workforce_note(b: Mapping[str, float | str]) -> tuple[float, str]:
    people = float(b["people"])
    if b["kind"] == "setting":
        return people, f"{people:,.0f} able-bodied people (setting)"
    if b["kind"] == "population":
        return people, (
            f"{people:,.0f} able-bodied people ({float(b['population']):,.0f} × "
            f"participation {b['participation']})"
        )
    return people, (
        f"{people:,.1f} able-bodied people: the base year's labour "
        f"({float(b['hours']):,.0f} hours) at {HOURS_PER_JOB:,.0f} hours a job"
    )


WEEKS_PER_YEAR = 46.0
CAPITAL_OUTPUT = 1.5
DEPRECIATION = 0.045


def _multi_year(
    economy: Economy,
    bundles: pd.DataFrame,
    *,
    years: int,
    start: int,
    growth: Mapping[str, float],
    people: float,
    limit: float | None,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame] | str:
    """The multi-year plan's targets, week and week by purpose, or why it failed."""
    from gosplan.planning.multiyear import multi_year_plan

    try:
        plan = multi_year_plan(
            economy,
            bundles,
            years=years,
            start_year=start,
            growth=dict(growth),
            population=people,
            capital_output_ratio=CAPITAL_OUTPUT,
            depreciation=DEPRECIATION,
            max_week=limit,
        )
    except GosplanError as exc:
        return str(exc)
    if not plan.success or plan.working_week is None:
        return plan.message or "the multi-year plan was not solved"
    targets = plan.targets.reindex(bundles.columns)
    if "investment" in targets.index:  # decided by the plan, not a target
        targets.loc["investment"] = float("nan")
    wbp = plan.labour_by_purpose_table.reindex(bundles.columns).fillna(0.0) / (
        people * WEEKS_PER_YEAR
    )
    return targets, plan.working_week.astype(float), wbp


def _per_year(
    economy: Economy,
    bundles: pd.DataFrame,
    yrs: Sequence[int],
    growth: Mapping[str, float],
    people: float,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """One Leontief plan per year on the grown targets (no investment in capacity)."""
    from gosplan.planning.leontief import leontief_plan

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
    return pd.DataFrame(cols), pd.Series(wk), pd.DataFrame(wbp_cols)


def _words(notes: Sequence[str]) -> list[str]:
    """The bundles' notes without Python reprs (lists and dicts) in them."""
    import re

    out = []
    for n in notes:
        m = re.match(r"free for all: \[(.*?)\]", n)
        if m:
            names = [x.strip(" '\"") for x in m.group(1).split(",") if x.strip()]
            out.append(
                f"{' and '.join(names)} are free for all: what households bought of them is "
                "planned as social consumption, not personal consumption"
            )
            continue
        out.append(re.sub(r"[\[\]{}']", "", n))
    return out


def plan_board(
    economy: Economy,
    effects: Sequence[Mapping[str, Any]],
    *,
    population: float | None = None,
    years: int = 5,
) -> PlanBoard:
    """The plan with the adopted decisions applied, against the plan without them.

    The years come from the multi-year plan (an LP that also invests in capacity).  When
    an adopted working week cannot be met, the multi-year plan is solved without it and
    the decision is reported in :attr:`PlanBoard.unmet`; when the multi-year plan cannot
    be solved at all, each year is one Leontief plan (``method="leontief_per_year"``)."""
    from gosplan.planning.leontief import leontief_plan
    from gosplan.planning.targets import purpose_bundles

    base = purpose_bundles(economy)
    basis = workforce_basis(economy, population)
    people, note = _workforce_note(basis)
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
    growth = {str(p): GROWTH.get(str(p), 0.0) for p in bundles.columns}
    notes = _words(bundles.attrs.get("notes", []))
    kw = {"years": years, "start": start, "growth": growth, "people": people}
    solved = _multi_year(economy, bundles, limit=limit, **kw)  # type: ignore[arg-type]
    method = "multi_year"
    unmet: list[Unmet] = []
    failure: str | None = None
    if isinstance(solved, str) and limit is not None:
        failure = solved
        solved = _multi_year(economy, bundles, limit=None, **kw)  # type: ignore[arg-type]
        method = "multi_year_uncapped"
    if isinstance(solved, str):
        failure = failure or solved
        if failure != solved:
            failure = f"{failure}; without the adopted working week: {solved}"
        solved = _per_year(economy, bundles, yrs, growth, people)
        method = "leontief_per_year"
    targets, week, wbp = solved
    if method != "multi_year" and limit is not None:
        src = next(c for c in reversed(changes) if c.week_limit is not None)
        worst = int(week.idxmax())  # type: ignore[call-overload]
        if float(week.max()) > limit + 1e-9 or method == "multi_year_uncapped":
            unmet.append(
                Unmet(
                    proposal=src.proposal,
                    title=src.title,
                    option=src.option,
                    kind=src.kind,
                    limit=limit,
                    needed=float(week.max()),
                    year=worst,
                    instead=method,
                    why=failure or "",
                )
            )
    if method == "multi_year":
        how = (
            "multi-year plan (sparse LP, HiGHS): investment in new capacity, "
            f"capital/output {CAPITAL_OUTPUT:g}, depreciation {DEPRECIATION:.1%}"
        )
        if limit is not None:
            how += f", working week at most {limit:g} h"
    elif method == "multi_year_uncapped":
        how = (
            "multi-year plan (sparse LP, HiGHS) solved WITHOUT the adopted working week, "
            "which cannot be met: investment in new capacity, "
            f"capital/output {CAPITAL_OUTPUT:g}, depreciation {DEPRECIATION:.1%}"
        )
    else:
        how = (
            "one Leontief plan per year on the grown targets: the multi-year plan could not "
            "be solved, so these years build no new capacity"
        )
    if failure:
        notes.append(f"the solver's words: {failure}")
    hpu = float(getattr(first, "hours_per_labour_unit", 1.0) or 1.0)
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
        method=method,
        unmet=unmet,
        failure=failure,
        labour_unit=str(economy.labour_unit or "hours"),
        hours_per_labour_unit=hpu,
        workforce_basis=basis,
        shortfalls=shortfalls(failure) if method == "leontief_per_year" else [],
    )


def effects_key(effects: Sequence[Mapping[str, Any]]) -> str:
    """A cache key for a list of adopted effects."""
    import json

    return json.dumps([[e["proposal"], e["effect"]] for e in effects], sort_keys=True)


@dataclass(frozen=True)
class Preview:
    """A draft change beside the plan as it stands (the planner's workbench)."""

    current: PlanBoard
    draft: PlanBoard
    effect: dict[str, Any]  # the draft as one ``plan_change`` effect: what a vote would adopt


#: the proposal number a draft's change carries in a preview (no proposal has it)
DRAFT = 0


def preview(
    economy: Economy,
    adopted: Sequence[Mapping[str, Any]],
    effect: Mapping[str, Any],
    *,
    population: float | None = None,
    current: PlanBoard | None = None,
) -> Preview:
    """The plan with ``effect`` (a ``plan_change`` effect) adopted after ``adopted``, beside
    the plan with ``adopted`` alone (``current``, when the caller has it already)."""
    draft_effect = {
        "proposal": DRAFT,
        "title": "draft",
        "kind": "plan_change",
        "option": "draft",
        "effect": dict(effect),
    }
    cur = current or plan_board(economy, adopted, population=population)
    new = plan_board(economy, [*adopted, draft_effect], population=population)
    return Preview(current=cur, draft=new, effect=dict(effect))
