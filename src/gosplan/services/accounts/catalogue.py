"""The catalogue of consumer goods built from an economy's personal consumption."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.records import GoodSpec
from gosplan.labourtime.units import MICRO

_STOPWORDS = {"e", "de", "da", "do", "das", "dos", "and", "of", "the", "och", "av", "for"}


def _slug(text: str, words: int = 2) -> str:
    """A short code from a product's name: its first ``words`` significant words, ASCII."""
    import unicodedata

    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    parts = [w for w in re.split(r"[^a-z0-9]+", s) if w and w not in _STOPWORDS]
    return "-".join(parts[:words])[:48] or "good"


def catalogue_from_economy(
    economy: Any,
    *,
    personal_hours: float,
    values: Any = None,
    hours_per_labour_unit: float | None = None,
) -> list[GoodSpec]:
    """Consumer goods for the catalogue: one per product with personal final demand.

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
    from gosplan.core.values import labour_values

    if hours_per_labour_unit is None:
        if getattr(economy, "labour_kind", "hours") == "wages":
            raise AccountsInputError(
                f"catalogue_from_economy: economy {economy.name!r} measures labour as "
                f"{economy.labour_unit!r} (wages), not hours; give `hours_per_labour_unit`."
            )
        from gosplan.planning.targets import hours_per_labour_unit as _hpu

        hours_per_labour_unit = _hpu(economy)
    per = float(hours_per_labour_unit)
    if values is None:
        values = labour_values(economy)
    v = values.values.astype(float) * per
    personal = economy.final_demand_by_purpose()["personal"].clip(lower=0.0)
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
        if personal[product] <= 0 or val <= 0:
            continue
        size = 10.0 ** round(-math.log10(val))  # output units per good unit
        value_per_unit = Decimal(repr(val * size)).quantize(MICRO)
        if value_per_unit <= 0:
            continue
        stock = int(personal_hours * float(emb[product]) / total / float(value_per_unit))
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
            )
        )
    return out
