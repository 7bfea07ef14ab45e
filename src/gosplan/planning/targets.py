"""Plan targets: final-demand bundles by purpose, and labour in hours.

The economy's final demand (``Economy.final_demand_by_purpose``: personal,
social, investment, stocks, exports, other) is the starting point.  Plans
speak of purposes society decides on: **personal** consumption, **health**,
**education**, **care**, **culture**, **social** (other public services:
administration, defence, social security), **investment**, **exports** (to
pay for imports), **reserves** (strategic stocks) and **other**.

:func:`purpose_bundles` makes that split.  With ``free=("health",
"education")`` the consumption of health and education products is taken out
of personal consumption (where households paid for it) and becomes a social
fund, free at the point of use; ``uplift`` scales those funds so that they
reach everyone (e.g. 1.2 = 20 % more than was bought and provided before).
Which products are health, education, care or culture is decided by keywords
in their names (:data:`PURPOSE_KEYWORDS`, Portuguese and English), or given
explicitly with ``assign={product: purpose}``; a product that matches both
health and education (e.g. IBGE's "Educação e saúde privadas") is split
half and half, and the split is recorded in the bundles' ``attrs["notes"]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.planning.problem import closest

#: the purposes a plan speaks of, in display order
PLAN_PURPOSES = (
    "personal",
    "health",
    "education",
    "care",
    "culture",
    "social",
    "investment",
    "exports",
    "reserves",
    "other",
)

#: which product names belong to which social purpose (lower-case substrings)
PURPOSE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "health": ("health", "saúde", "saude", "hospital", "medical", "human health"),
    "education": ("education", "educação", "educacao", "ensino"),
    "care": ("social work", "residential care", "assistência social", "assistencia social", "care"),
    "culture": (
        "arts",
        "arte",
        "cultura",
        "culture",
        "recreation",
        "entertainment",
        "library",
        "libraries",
        "museum",
        "sport",
    ),
}
#: names that mark public administration; they keep their own purpose ("social")
_PUBLIC_ADMIN = ("administração", "administracao", "public administration", "defence", "defense")

#: economy purposes (gosplan.core.economy.PURPOSES) -> plan purposes
_FROM_ECONOMY = {
    "personal": "personal",
    "social": "social",
    "investment": "investment",
    "stocks": "reserves",
    "exports": "exports",
    "other": "other",
}


def _matches(name: str, words: Iterable[str]) -> bool:
    low = name.lower()
    return any(re.search(r"(?<![a-zà-ü])" + re.escape(w), low) for w in words)


def purpose_bundles(
    economy: Economy,
    *,
    free: Iterable[str] = ("health", "education"),
    uplift: float | Mapping[str, float] = 1.0,
    assign: Mapping[str, str] | None = None,
    include: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Target bundles (products × plan purposes) from the economy's final demand.

    ``free`` names the social purposes that become free for all (taken out of
    personal consumption); ``uplift`` scales each free purpose (a number for
    all, or ``{purpose: factor}``).  ``assign`` maps products to a purpose
    explicitly.  ``include`` keeps only these purposes (default: all with a
    non-zero total).  Negative final demand (stock run-downs) is dropped:
    targets are what society wants delivered.

    Long because it maps each final-demand column to a purpose, then applies ``free``,
    ``uplift``, ``assign`` and ``include`` in that order, noting each step in
    ``attrs['notes']``; the steps share the bundle table.
    """
    fd = economy.final_demand_by_purpose()
    products = economy.products
    free = list(free)
    for f in free:
        if f not in PURPOSE_KEYWORDS:
            raise ValidationError(
                f"purpose_bundles: {f!r} cannot be made free; choose from "
                f"{tuple(PURPOSE_KEYWORDS)}.{closest(f, PURPOSE_KEYWORDS)}"
            )
    ups = (
        {f: float(uplift) for f in free}
        if not isinstance(uplift, Mapping)
        else {str(k): float(v) for k, v in uplift.items()}
    )
    for k, v in ups.items():
        if k not in free:
            raise ValidationError(
                f"purpose_bundles: uplift given for {k!r}, which is not among the free "
                f"purposes {free}.{closest(k, free)}"
            )
        if not (v > 0 and np.isfinite(v)):
            raise ValidationError(f"purpose_bundles: uplift of {k!r} must be > 0; got {v}.")
    out = pd.DataFrame(0.0, index=products, columns=list(PLAN_PURPOSES))
    out.columns.name = "purpose"
    for src, dst in _FROM_ECONOMY.items():
        out[dst] += fd[src].clip(lower=0.0).to_numpy()
    notes: list[str] = []
    vals = out.to_numpy(copy=True)
    col = {c: k for k, c in enumerate(out.columns)}
    explicit = dict(assign or {})
    for p, purpose in explicit.items():
        if p not in products:
            raise ValidationError(
                f"purpose_bundles: `assign` names unknown product {p!r}.{closest(p, products)}"
            )
        if purpose not in PLAN_PURPOSES:
            raise ValidationError(
                f"purpose_bundles: `assign` maps {p!r} to unknown purpose {purpose!r}."
                f"{closest(purpose, PLAN_PURPOSES)}"
            )
    for p in products:
        if p in explicit:
            shares = {explicit[p]: 1.0}
        elif _matches(p, _PUBLIC_ADMIN):
            continue
        else:
            hits = [f for f in free if _matches(p, PURPOSE_KEYWORDS[f])]
            if not hits:
                continue
            shares = {h: 1.0 / len(hits) for h in hits}
            if len(hits) > 1:
                notes.append(f"{p!r} split equally between {hits}")
        if set(shares) <= {"personal", "investment", "exports", "reserves", "other"}:
            continue
        # personal and social consumption of this product become the free fund(s)
        i = products.get_loc(p)
        moved = float(vals[i, col["personal"]] + vals[i, col["social"]])
        vals[i, col["personal"]] = 0.0
        vals[i, col["social"]] = 0.0
        for purpose, share in shares.items():
            vals[i, col[purpose]] += moved * share * ups.get(purpose, 1.0)
    out = pd.DataFrame(vals, index=out.index, columns=out.columns)
    if free:
        notes.append(f"free for all: {free} (uplift {ups}); taken out of personal consumption")
    if include is not None:
        inc = list(include)
        for k in inc:
            if k not in PLAN_PURPOSES:
                raise ValidationError(
                    f"purpose_bundles: unknown purpose {k!r} in `include`."
                    f"{closest(k, PLAN_PURPOSES)}"
                )
        out = out[inc]
    else:
        out = out.loc[:, out.sum(axis=0) > 0]
    out.attrs["notes"] = notes
    out.attrs["unit"] = economy.output_unit
    return out


_MULT = (
    ("billion", 1e9),
    ("million", 1e6),
    ("mn", 1e6),
    ("thousand", 1e3),
    ("10k", 1e4),
    ("1000", 1e3),
)


def hours_per_labour_unit(economy: Economy, *, hours_per_job: float = 1800.0) -> float:
    """Hours in one unit of the economy's total labour (the numerator of ``labour_unit``).

    ``hours`` tables: 1, or the multiplier the unit names ("millions of hours"
    → 1e6).  ``persons`` tables (jobs, persons engaged): ``hours_per_job``
    hours a year per person (default 1,800 ≈ 39 h × 46 weeks), times the
    multiplier.  ``wages`` tables have no hours: raises, asking for
    ``hours_per_labour_unit`` explicitly.
    """
    unit = economy.labour_unit.split(" per ")[0].lower()
    mult = 1.0
    for word, m in _MULT:
        if word in unit:
            mult = m
            break
    if economy.labour_kind == "hours":
        return mult
    if economy.labour_kind == "persons":
        return mult * float(hours_per_job)
    raise ValidationError(
        f"The economy measures labour in wages ({economy.labour_unit!r}), not hours: give "
        "`hours_per_labour_unit` (hours per unit of wages, i.e. one over the average hourly "
        "wage) to state a working week."
    )
