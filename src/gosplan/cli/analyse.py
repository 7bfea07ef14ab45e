"""``gosplan analyse SOURCE [--years 2000-2014]``: values against prices, surplus value, profit.

With ``--years`` on a multi-year source (WIOD, SCB, IBGE) it prints and charts the
series year by year; otherwise (or on a single-year source) it prints the full
analysis of one table.
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from gosplan.cli._common import (
    console,
    data_on_stdout,
    domain_errors,
    echo_json,
    json_option,
    progress,
    write_frame_csv,
)
from gosplan.cli._params import YEAR, OutputPath, YearList, read_option
from gosplan.cli._params import read_options as read_options_dict
from gosplan.core.economy import Economy
from gosplan.errors import GosplanError


@click.command("analyse")
@click.argument("source")
@click.option(
    "--years",
    "years_text",
    default=None,
    type=YearList(),
    help="Years of a multi-year source, e.g. 2000-2014 or 2005,2010 "
    "(a time series); without it one year is analysed.",
)
@click.option("--year", type=YEAR, default=None, help="The one year to analyse in detail.")
@click.option(
    "--imports",
    type=click.Choice(["ignore", "exports"]),
    default="ignore",
    show_default=True,
    help="Imported inputs: not counted, or valued at the labour of exports.",
)
@click.option(
    "--depreciation/--no-depreciation",
    default=False,
    help="Include the wear of fixed capital in values (needs capital data).",
)
@json_option
@click.option(
    "--labour",
    "labour_basis",
    default=None,
    type=click.Choice(["hours", "persons", "skill-adjusted"]),
    help="Count direct labour as hours, persons engaged, or skill-adjusted hours "
    "(hours weighted by the industry's hourly wage relative to the lowest); "
    "default: as the table gives it. See docs/analysis.md.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="PRODUCT",
    help="Leave a product out of the value–price comparison (repeatable).",
)
@read_option
@click.option(
    "--csv",
    "csv_path",
    type=OutputPath(),
    help="Write the series (or the per-sector comparison) as CSV.",
)
@click.option(
    "--parquet",
    "parquet_path",
    type=OutputPath(allow_dash=False),
    help="Write the series (or the per-sector comparison) as Parquet.",
)
@click.option(
    "--chart",
    "chart_path",
    type=OutputPath(allow_dash=False),
    help="Write a PNG: the series over the years, or values against prices.",
)
@domain_errors
def command(
    source: str,
    years_text: list[int] | None,
    year: int | None,
    imports: str,
    depreciation: bool,
    as_json: bool,
    labour_basis: str | None,
    exclude: tuple[str, ...],
    read_options: tuple[tuple[str, str], ...],
    csv_path: str | None,
    parquet_path: str | None,
    chart_path: str | None,
) -> None:
    """Labour values against market prices, the rate of surplus value and the value rate of
    profit of SOURCE (a publisher's file or 'default'; see 'gosplan sources')."""
    from gosplan.readers.registry import available_years

    years = years_text or None
    have = available_years(source)
    if years and have is None:
        if len(years) > 1 or year is not None:
            raise click.BadParameter(
                f"{source} holds a single table, so there is no series of years to analyse; "
                f"leave out --years (or give the table's own year).",
                param_hint="--years",
            )
        year, years = years[0], None  # one year: checked against the table's own
    if years and have is not None:
        missing = [y for y in years if y not in have]
        if missing:
            raise click.BadParameter(
                f"{source} has no year(s) {missing}; it covers {have[0]}–{have[-1]}.",
                param_hint="--years",
            )
    reader = read_options_dict(read_options)
    data_on_stdout(as_json, csv_path)
    options = {
        "imports": imports,
        "depreciation": depreciation,
        "exclude": list(exclude),
        "reader": reader,
        "json": as_json,
        "labour": labour_basis,
    }
    if years:
        _series(source, years, options, csv_path, parquet_path, chart_path)
    else:
        _single(source, year, options, csv_path, parquet_path, chart_path)


def _single(
    source: str,
    year: int | None,
    options: dict[str, object],
    csv_path: str | None,
    parquet_path: str | None,
    chart_path: str | None,
) -> None:
    from gosplan.analysis import (
        rate_of_surplus_value,
        value_price_analysis,
        value_rate_of_profit,
    )
    from gosplan.core.values import labour_values
    from gosplan.readers.registry import open_source

    with progress(f"reading {source}") as advance:
        economy = _labour(
            open_source(source, year=year, **options["reader"]),  # type: ignore[arg-type]
            options["labour"],
        )
        advance(description="solving v = vA + l")
        values = labour_values(
            economy,
            imports=options["imports"],  # type: ignore[arg-type]
            depreciation=bool(options["depreciation"]),
        )
        advance(description="comparing values with prices")
        vp = value_price_analysis(economy, values, exclude=options["exclude"])  # type: ignore[arg-type]
    console.print(vp.summary(), markup=False)
    notes: list[str] = []
    found: dict[str, object] = {"value_price": vp, "surplus_value": None, "profit_rate": None}
    try:
        sv = found["surplus_value"] = rate_of_surplus_value(economy, values)
        console.print(sv.summary(), markup=False)
        if economy.capital is not None or economy.capital_stock is not None:
            pr = found["profit_rate"] = value_rate_of_profit(economy, values, surplus_value=sv)
            console.print(pr.summary(), markup=False)
        else:
            notes.append("no value rate of profit: the table has no capital stock data")
    except GosplanError as exc:
        notes.append(f"no rate of surplus value: {exc}")
    for note in notes:
        console.print(note, style="dim", markup=False)
    if options["json"]:
        echo_json({**found, "notes": notes})
    frame = vp.to_frame()
    _write(frame, csv_path, parquet_path)
    if chart_path:
        from gosplan.charts import values_vs_prices

        title = f"{economy.name} {economy.year or ''}".strip()
        values_vs_prices(
            vp.value_of_output,
            vp.price_of_output,
            Path(chart_path),
            title=f"Labour values vs prices: {title} (r = {vp.correlation:.3f})",
            value_unit=vp.money_unit,
            money_unit=vp.money_unit,
        )
        console.print(f"wrote {chart_path}")


def _series(
    source: str,
    years: list[int],
    options: dict[str, object],
    csv_path: str | None,
    parquet_path: str | None,
    chart_path: str | None,
) -> None:
    from gosplan.readers.registry import open_source
    from gosplan.services.yearly_analysis import time_series

    current: dict[str, object] = {}
    reader: dict[str, str] = options["reader"]  # type: ignore[assignment]
    with progress(f"analysing {source}", total=len(years)) as advance:

        def read(y: int) -> Economy:
            current["year"] = y
            return _labour(open_source(source, year=y, **reader), options["labour"])

        def done(y: int, economy: Economy | None) -> None:
            current["name"] = economy.name if economy is not None else ""
            advance(description=f"analysed {y}")

        try:
            frame = time_series(
                read,
                years,
                on_year=done,
                imports=options["imports"],  # type: ignore[arg-type]
                depreciation=bool(options["depreciation"]),
                exclude=options["exclude"],  # type: ignore[arg-type]
            )
        except GosplanError as exc:
            raise click.ClickException(f"year {current.get('year')}: {exc}") from exc
    name = str(current.get("name") or source)
    if options["json"]:
        echo_json({"economy": name, "years": years, "series": frame})
    unit = str(frame["labour_unit"].iloc[0])
    table = Table(
        title=f"{name}: labour values against prices, surplus value and profit (labour in {unit})"
    )
    cols = [
        ("correlation", "corr", "{:.4f}"),
        ("log_r2", "R² log", "{:.4f}"),
        ("mad", "MAD", "{:.1%}"),
        ("d_distance", "d", "{:.4f}"),
        ("e", "e", "{:.3f}"),
        ("e_price", "e $", "{:.3f}"),
        ("r", "r", "{:.2%}"),
        ("r_price", "r $", "{:.2%}"),
    ]
    table.add_column("year")
    for _, head, _ in cols:
        table.add_column(head, justify="right")
    for y, row in frame.iterrows():
        table.add_row(
            str(y), *["–" if pd.isna(row[c]) else fmt.format(row[c]) for c, _, fmt in cols]
        )
    console.print(table)
    notes = sorted({n for n in frame["notes"] if n})
    for note in notes:
        console.print(note, style="dim", markup=False)
    console.print(
        "corr: correlation of output at values and at prices; R² log: of the log–log "
        "regression; MAD: output-weighted mean absolute deviation; d: Steedman–Tomkins "
        "distance; e: rate of surplus value (L − V)/V; r: value rate of profit "
        "S/(C + V); e $, r $: the same in price terms (operating surplus over "
        "compensation, over capital stock). Conventions: docs/analysis.md."
    )
    _write(frame, csv_path, parquet_path)
    if chart_path:
        from gosplan.charts import time_series as chart_series

        series = {
            "correlation": frame["correlation"],
            "R² (log–log)": frame["log_r2"],
            "d-distance": frame["d_distance"],
        }
        if frame["e"].notna().any():
            series["rate of surplus value e"] = frame["e"]
        if frame["r"].notna().any():
            series["value rate of profit r"] = frame["r"]
        chart_series(
            series,
            Path(chart_path),
            title=f"{name}: labour values and prices, {years[0]}–{years[-1]}",
            ylabel="dimensionless",
        )
        console.print(f"wrote {chart_path}")


def _labour(economy: Economy, basis: object) -> Economy:
    """The economy with labour counted on ``basis`` (``None``: as the table gives it)."""
    if basis is None:
        return economy
    from gosplan.analysis.labour import with_labour

    return with_labour(economy, str(basis))


def _write(frame: pd.DataFrame, csv_path: str | None, parquet_path: str | None) -> None:
    if csv_path:
        write_frame_csv(frame, csv_path)
    if parquet_path:
        frame.to_parquet(parquet_path)
        console.print(f"wrote {parquet_path}")
