"""Real goods a cooperative lists from a CSV: sold in their own units (a shirt, a kilo of
rice), each belonging to one of the economy's products and priced at its labour value.

The CSV has a header row and these columns:

==============  =========================================================================
``name``        what people call it ("Cotton shirt")                          required
``unit``        the unit it is sold in ("shirt", "kg", "pair")                required
``product``     the economy's product it belongs to ("Têxteis")               required
``labour_value`` hours per unit, when the cooperative knows it                one of these
``output_value`` or its derivation: the amount of the product's output one    two
                unit is, in the economy's currency ("40" for R$ 40 of
                textiles at the table's prices); labour value = the product's
                labour value per currency unit × this amount
``code``        short code (default: from the name)                           optional
``stock``       units delivered to the shops (default 0)                      optional
==============  =========================================================================

What the plan provides free for all (health, education) is never sold: a row whose
product is provided free is refused.  Every refusal names the line and the column, and
nothing of the file is listed unless all of it is valid.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.records import GoodSpec
from gosplan.labourtime.units import MICRO, check_code
from gosplan.services.accounts.catalogue import FREE_PURPOSES, _slug, money_of

REQUIRED = ("name", "unit", "product")
COLUMNS = (*REQUIRED, "labour_value", "output_value", "code", "stock")


def goods_from_csv(
    source: str | Path,
    economy: Any,
    *,
    values: Any = None,
    hours_per_labour_unit: float | None = None,
    free: tuple[str, ...] = FREE_PURPOSES,
) -> list[GoodSpec]:
    """The goods of a cooperative's CSV (a path, or the text itself when it has a newline).

    Labour values come from the ``labour_value`` column, or are derived from
    ``output_value`` and the product's labour value (converted to hours with
    ``hours_per_labour_unit``, by default the planning module's
    :func:`~gosplan.planning.targets.hours_per_labour_unit`).
    """
    from gosplan.planning.problem import closest

    where = "the CSV" if "\n" in str(source) else str(source)
    text = str(source) if "\n" in str(source) else _read(Path(source))
    reader = csv.DictReader(io.StringIO(text))
    _check_header([h.strip() for h in (reader.fieldnames or [])], where)
    products = [str(p) for p in economy.products]
    free_of = _free_funds(economy, free)
    per_hour = _PerHour(economy, values, hours_per_labour_unit)
    out: list[GoodSpec] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        at = f"{where}, line {line}"
        for c in REQUIRED:
            if not row.get(c):
                raise AccountsInputError(f"{at}, column `{c}`: empty; every good needs a {c}.")
        product = row["product"]
        if product not in products:
            raise AccountsInputError(
                f"{at}, column `product`: no product {product!r} in economy "
                f"{economy.name!r}.{closest(product, products)}"
            )
        funds = free_of.get(product, [])
        if funds:
            raise AccountsInputError(
                f"{at}, column `product`: {product!r} is provided free for all from the "
                f"{' and '.join(funds)} fund{'s' if len(funds) > 1 else ''}; its goods are "
                f"never sold."
            )
        value = _row_value(row, at, product, per_hour)
        code = row.get("code") or _slug(row["name"], words=3)
        check_code(code, "good")
        if code in seen:
            raise AccountsInputError(
                f"{at}, column `code`: {code!r} appears twice; give each good its own code."
            )
        seen.add(code)
        stock = row.get("stock") or "0"
        if not stock.isdigit():
            raise AccountsInputError(
                f"{at}, column `stock`: must be a whole number >= 0; got {stock!r}."
            )
        out.append(
            GoodSpec(
                code=code,
                name=row["name"],
                labour_value=value,
                unit=row["unit"],
                product=product,
                stock=int(stock),
            )
        )
    if not out:
        raise AccountsInputError(f"{where}: no goods (only a header).")
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AccountsInputError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsInputError(f"{path}: cannot be read as UTF-8 text ({exc}).") from None


def _decimal(text: str, at: str, column: str) -> Decimal:
    try:
        d = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise AccountsInputError(f"{at}, column `{column}`: not a number: {text!r}.") from None
    if not d.is_finite() or d <= 0:
        raise AccountsInputError(f"{at}, column `{column}`: must be positive; got {text!r}.")
    return d


def _check_header(header: list[str], where: str) -> None:
    from gosplan.planning.problem import closest

    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise AccountsInputError(
            f"{where}: unknown column(s) {', '.join(unknown)}; the columns are "
            f"{', '.join(COLUMNS)}.{closest(unknown[0], COLUMNS)}"
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing or not ({"labour_value", "output_value"} & set(header)):
        need = missing or ["labour_value or output_value"]
        raise AccountsInputError(
            f"{where}: the header must name the columns {', '.join(need)}; got "
            f"{', '.join(header) or 'no header'}. Columns: {', '.join(COLUMNS)}."
        )


def _free_funds(economy: Any, free: tuple[str, ...]) -> dict[str, list[str]]:
    """The funds that provide each product free (none when ``free`` is empty)."""
    if not free:
        return {}
    from gosplan.planning.targets import purpose_bundles

    bundles = purpose_bundles(economy, free=free, include=list(free))
    hits = bundles.to_numpy(dtype=float) > 0
    cols = [str(c) for c in bundles.columns]
    return {
        str(p): [f for f, hit in zip(cols, hits[i], strict=True) if hit]
        for i, p in enumerate(bundles.index)
    }


class _PerHour:
    """Hours per currency unit of each product's output, computed when first needed."""

    def __init__(self, economy: Any, values: Any, hours_per_labour_unit: float | None) -> None:
        self.economy, self.values, self.hpu = economy, values, hours_per_labour_unit
        self.table: dict[str, float] = {}

    def of(self, product: str, at: str) -> float:
        if not self.table:
            from gosplan.core.values import labour_values
            from gosplan.planning.targets import hours_per_labour_unit as _hpu

            eco = self.economy
            money = money_of(eco.output_unit or "")
            if money is None:
                raise AccountsInputError(
                    f"{at}, column `output_value`: economy {eco.name!r} measures "
                    f"output in {eco.output_unit!r}, not money; give `labour_value`."
                )
            v = (self.values if self.values is not None else labour_values(eco)).values
            hpu = _hpu(eco) if self.hpu is None else self.hpu
            self.table = {str(p): float(v[p]) * float(hpu) / money[0] for p in eco.products}
        return self.table[product]


def _row_value(row: dict[str, str], at: str, product: str, per_hour: _PerHour) -> Decimal:
    """A row's labour value in hours per unit, given or derived from ``output_value``."""
    if row.get("labour_value"):
        value = _decimal(row["labour_value"], at, "labour_value")
    elif row.get("output_value"):
        amount = _decimal(row["output_value"], at, "output_value")
        value = Decimal(repr(per_hour.of(product, at) * float(amount))).quantize(MICRO)
    else:
        raise AccountsInputError(
            f"{at}: give `labour_value` (hours per unit) or `output_value` (the amount "
            f"of {product!r}'s output one {row['unit']} is, in "
            f"{per_hour.economy.output_unit!r}'s currency)."
        )
    if value <= 0:
        raise AccountsInputError(
            f"{at}: the labour value of {row['name']!r} must be positive; got {value} h "
            "(use a larger unit)."
        )
    return value
