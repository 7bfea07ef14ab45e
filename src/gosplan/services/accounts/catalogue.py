"""The catalogue of consumer goods built from an economy's personal consumption, the goods
the plan provides free for all (health, education …), and the deduction that pays for them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from gosplan.labourtime.deduction import Deduction, exact_shares
from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.records import GoodSpec
from gosplan.labourtime.units import MICRO

#: what the plan provides free for all unless told otherwise (as ``plan_config``'s default)
FREE_PURPOSES = ("health", "education")
#: plan purposes paid for by the deduction, and the fund each goes to
_FUND_OF = {
    "health": "health",
    "education": "education",
    "care": "care",
    "culture": "culture",
    "social": "social",
    "investment": "investment",
    "reserves": "reserves",
}

#: words that scale a money unit ("BRL million")
MULTIPLIERS = {"billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "thousand": 1e3}
_MONEY = re.compile(
    r"^\s*(?:(?P<size>[0-9.]+(?:[eE][-+]?[0-9]+)?)\s+)?(?P<cur>[A-Z]{2,4})"
    r"(?:\s+(?P<mult>billion|bn|million|mn|thousand))?\s*$"
)


def money_of(unit: str) -> tuple[float, str] | None:
    """``(amount, currency)`` of a money unit: "0.0001 BRL million" → (100.0, "BRL"),
    "BRL million" → (1e6, "BRL"); None for a unit that is not an amount of money (kg,
    litre, pair, jobs)."""
    m = _MONEY.match(unit or "")
    if m is None:
        return None
    size = float(m["size"]) if m["size"] else 1.0
    return size * MULTIPLIERS.get(m["mult"] or "", 1.0), str(m["cur"])


_STOPWORDS = {"e", "de", "da", "do", "das", "dos", "and", "of", "the", "och", "av", "for"}


def _slug(text: str, words: int = 2) -> str:
    """A short code from a product's name: its first ``words`` significant words, ASCII."""
    import unicodedata

    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    parts = [w for w in re.split(r"[^a-z0-9]+", s) if w and w not in _STOPWORDS]
    return "-".join(parts[:words])[:48] or "good"


def _values_in_hours(economy: Any, values: Any, hours_per_labour_unit: float | None) -> Any:
    """The products' labour values in hours (refusing labour known only as wages)."""
    from gosplan.core.values import labour_values

    if hours_per_labour_unit is None:
        if getattr(economy, "labour_kind", "hours") == "wages":
            raise AccountsInputError(
                f"catalogue_from_economy: economy {economy.name!r} measures labour as "
                f"{economy.labour_unit!r} (wages), not hours; give `hours_per_labour_unit`."
            )
        from gosplan.planning.targets import hours_per_labour_unit as _hpu

        hours_per_labour_unit = _hpu(economy)
    if values is None:
        values = labour_values(economy)
    return values.values.astype(float) * float(hours_per_labour_unit)


def catalogue_from_economy(
    economy: Any,
    *,
    personal_hours: float,
    values: Any = None,
    hours_per_labour_unit: float | None = None,
    free: Iterable[str] = FREE_PURPOSES,
) -> list[GoodSpec]:
    """Consumer goods for the catalogue: one per product with personal final demand.

    Products that the plan provides free for all (the purposes in ``free``, found as
    :func:`~gosplan.planning.targets.purpose_bundles` finds them: health and education by
    default) are listed too, but marked ``free_fund`` (the fund(s) that provide them) and
    with no stock: they are never sold.  ``free=()`` lists every product with personal
    consumption for sale, as households bought them before.

    Each good's unit is a money amount of the product at base prices (a power
    of ten of the economy's output unit, chosen so a unit costs between about
    0.3 and 3 hours); its labour value is the product's labour value per unit.
    Stocks share ``personal_hours`` (the hours persons will be able to spend)
    in proportion to personal consumption, rounded down to whole units.
    Labour is converted to hours with ``hours_per_labour_unit`` (default: the
    planning module's :func:`~gosplan.planning.targets.hours_per_labour_unit`,
    which counts a job as 1,800 hours a year); labour known only as wages is
    refused unless that factor is given (wages are not hours).
    """
    v = _values_in_hours(economy, values, hours_per_labour_unit)
    from gosplan.planning.targets import purpose_bundles

    free = tuple(free)
    bundles = purpose_bundles(economy, free=free, include=["personal", *free])
    personal = bundles["personal"].clip(lower=0.0)
    freely = bundles[list(free)].clip(lower=0.0) if free else None
    emb = v * personal
    total = float(emb.sum())
    if total <= 0:
        raise AccountsInputError(
            f"catalogue_from_economy: economy {economy.name!r} has no personal consumption."
        )
    out: list[GoodSpec] = []
    seen: set[str] = set()
    unit_name = economy.output_unit or "unit"
    for product in economy.products:
        val = float(v[product])
        funds = [] if freely is None else [f for f in free if freely.loc[product, f] > 0]
        if (personal[product] <= 0 and not funds) or val <= 0:
            continue
        size = 10.0 ** round(-math.log10(val))  # output units per good unit
        value_per_unit = Decimal(repr(val * size)).quantize(MICRO)
        if value_per_unit <= 0:
            continue
        stock = (
            0
            if funds
            else int(personal_hours * float(emb[product]) / total / float(value_per_unit))
        )
        code = _slug(str(product))[:40]
        base, i = code, 2
        while code in seen:
            code, i = f"{base}-{i}", i + 1
        seen.add(code)
        out.append(
            GoodSpec(
                code=code,
                name=str(product),
                labour_value=value_per_unit,
                unit=f"{size:g} {unit_name}",
                product=str(product),
                stock=stock,
                free_fund=",".join(funds) or None,
            )
        )
    return out


def deduction_with_free(
    economy: Any, *, values: Any = None, free: Iterable[str] = FREE_PURPOSES
) -> Deduction:
    """The deduction for social funds when the plan provides ``free`` purposes free for all.

    As :meth:`Deduction.from_economy`, from the labour embodied in final demand, but by the
    plan's purposes (:func:`~gosplan.planning.targets.purpose_bundles`): health and
    education (what households bought of them included) are funds of their own, beside
    care, culture, other public services (``social``), investment and reserves.  The rate is
    the share of those funds in the labour of personal consumption plus the funds, so each
    credited hour pays its share of what everyone gets free.
    """
    from gosplan.core.values import labour_values
    from gosplan.planning.targets import purpose_bundles

    if values is None:
        values = labour_values(economy)
    v = values.values.reindex(economy.products).to_numpy(dtype=float)
    bundles = purpose_bundles(economy, free=tuple(free))
    emb = {str(p): float(v @ bundles[p].to_numpy(dtype=float)) for p in bundles.columns}
    funds = {
        fund: max(emb.get(purpose, 0.0), 0.0)
        for purpose, fund in _FUND_OF.items()
        if emb.get(purpose, 0.0) > 0
    }
    personal = max(emb.get("personal", 0.0), 0.0)
    deducted = sum(funds.values())
    if personal + deducted <= 0:
        raise AccountsInputError(
            f"deduction_with_free: economy {getattr(economy, 'name', '')!r} embodies no labour "
            "in personal consumption or in any social fund."
        )
    rate = deducted / (personal + deducted)
    shares = exact_shares({k: x / deducted for k, x in funds.items()} if deducted else {})
    src = (
        f"economy {getattr(economy, 'name', '')} {getattr(economy, 'year', '') or ''}".strip()
        + f"; free for all: {', '.join(free) or 'nothing'}; labour embodied in final demand "
        + f"by purpose ({getattr(values, 'unit', 'hours')}): "
        + ", ".join(f"{k}={x:.6g}" for k, x in emb.items())
    )
    return Deduction(Decimal(repr(rate)), shares, source=src)
