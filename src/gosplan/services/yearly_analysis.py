"""Value–price analysis over many years: the loop that reads the tables.

The analysis core (:mod:`gosplan.analysis`) never reads files; this service takes a
source (a spec for :func:`gosplan.readers.registry.open_source`, or any callable
``year -> Economy``) and a list of years, analyses each year and returns one row
per year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from gosplan.analysis import (
    rate_of_surplus_value,
    value_price_analysis,
    value_rate_of_profit,
)
from gosplan.core.economy import Economy
from gosplan.core.values import ImportsMode, labour_values
from gosplan.errors import ValidationError

#: the columns of :func:`time_series`, with what they mean
COLUMNS = {
    "correlation": "Pearson correlation of output at values and at prices",
    "log_r2": "R² of the log–log regression of prices on values",
    "log_slope": "slope of that regression",
    "mad": "output-weighted mean absolute deviation of values from prices",
    "d_distance": "Steedman–Tomkins distance sqrt(2(1 − cos θ))",
    "angle": "angle between unit values and unit prices (degrees)",
    "e": "rate of surplus value (L − V)/V",
    "e_price": "operating surplus / compensation (price terms)",
    "r": "value rate of profit S/(C + V)",
    "r_price": "operating surplus / capital stock (price terms)",
    "residual": "relative residual of the labour-value solve",
}


def analyse(
    economy: Economy,
    *,
    imports: ImportsMode = "ignore",
    depreciation: bool = False,
    exclude: Iterable[str] = (),
    tol: float = 1e-10,
) -> dict[str, Any]:
    """Every statistic of :data:`COLUMNS` for one economy (NaN where data are lacking).

    The rate of surplus value needs compensation and household consumption; the rate
    of profit needs capital stock data.  Where an economy lacks them, the entry is
    NaN and ``notes`` says why; any other error propagates.
    """
    values = labour_values(economy, tol=tol, imports=imports, depreciation=depreciation)
    vp = value_price_analysis(economy, values, exclude=exclude)
    row: dict[str, Any] = {
        "correlation": vp.correlation,
        "log_r2": vp.log_r2,
        "log_slope": vp.log_slope,
        "mad": vp.mad,
        "d_distance": vp.d_distance,
        "angle": vp.angle,
        "e": np.nan,
        "e_price": np.nan,
        "r": np.nan,
        "r_price": np.nan,
        "residual": values.residual,
        "n": vp.n,
        "labour_unit": economy.labour_unit,
    }
    notes: list[str] = []
    sv = None
    try:
        sv = rate_of_surplus_value(economy, values)
        row["e"] = sv.rate
        row["e_price"] = np.nan if sv.price_rate is None else sv.price_rate
    except ValidationError as exc:
        notes.append(f"no rate of surplus value: {exc}")
    if sv is not None and (economy.capital is not None or economy.capital_stock is not None):
        try:
            pr = value_rate_of_profit(economy, values, surplus_value=sv)
            row["r"] = pr.rate
            row["r_price"] = np.nan if pr.price_rate is None else pr.price_rate
        except ValidationError as exc:
            notes.append(f"no rate of profit: {exc}")
    elif sv is not None:
        notes.append("no rate of profit: the table has no capital stock data")
    row["notes"] = " | ".join(notes)
    return row


def time_series(
    source: str | Callable[[int], Economy],
    years: Iterable[int],
    *,
    on_year: Callable[[int, Economy | None], None] | None = None,
    imports: ImportsMode = "ignore",
    depreciation: bool = False,
    exclude: Iterable[str] = (),
    tol: float = 1e-10,
    read_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per year: correlation, R², MAD, d-distance, e, r and the rest of :data:`COLUMNS`.

    ``source`` is a source spec (read with ``open_source(source, year=year)``) or a
    callable returning the economy of a year.  ``on_year(year, economy)`` is called
    after each year is analysed (for progress).  Errors name the year.
    """
    years = list(years)
    if not years:
        raise ValidationError("time_series needs at least one year; got none.")
    if callable(source):
        read: Callable[[int], Economy] = source
    else:
        from gosplan.readers.registry import open_source

        spec = source
        options = dict(read_options or {})

        def read(year: int) -> Economy:
            return open_source(spec, year=year, **options)

    excl = list(exclude)
    rows = []
    for year in years:
        try:
            economy = read(year)
            row = analyse(
                economy, imports=imports, depreciation=depreciation, exclude=excl, tol=tol
            )
        except Exception as exc:
            exc.add_note(f"(while analysing the year {year})")
            raise
        rows.append({"year": year, **row})
        if on_year is not None:
            on_year(year, economy)
    return pd.DataFrame(rows).set_index("year")
