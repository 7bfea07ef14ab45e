"""``gosplan values SOURCE``: labour values of every product of an economy."""

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
from gosplan.cli._params import YEAR, FiniteFloat, OutputPath, count, read_option
from gosplan.cli._params import read_options as read_options_dict
from gosplan.core.methods import METHODS
from gosplan.core.values import labour_values
from gosplan.readers.registry import open_source


@click.command("values")
@click.argument("source")
@click.option(
    "--year",
    type=YEAR,
    default=None,
    help="Year, for multi-year sources (on a single-year file: its own year).",
)
@click.option(
    "--method",
    default="auto",
    show_default=True,
    type=click.Choice(list(METHODS["solve_leontief"])),
    help="Solver: auto picks sparse LU up to 500 products, threaded BiCGSTAB above; "
    "'mixed' is float32 with float64 refinement; 'cuda' needs CuPy or PyTorch.",
)
@click.option(
    "--tol",
    default=1e-10,
    show_default=True,
    type=FiniteFloat(0, 1, min_open=True),
    help="Relative residual to reach.",
)
@click.option(
    "--depreciation/--no-depreciation",
    default=False,
    help="Include the wear of fixed capital (needs capital data).",
)
@json_option
@click.option(
    "--imports",
    type=click.Choice(["ignore", "exports"]),
    default="ignore",
    show_default=True,
    help="Value imported inputs at the labour of exports.",
)
@click.option(
    "--top", default=8, show_default=True, type=count(1), help="How many highest/lowest to show."
)
@click.option("--csv", "csv_path", type=OutputPath(), help="Write values as CSV.")
@click.option(
    "--parquet", "parquet_path", type=OutputPath(allow_dash=False), help="Write values as Parquet."
)
@click.option(
    "--chart",
    "chart_path",
    type=OutputPath(allow_dash=False),
    help="Write a PNG of values against prices (log–log).",
)
@read_option
@domain_errors
def command(
    source: str,
    year: int | None,
    method: str,
    tol: float,
    depreciation: bool,
    as_json: bool,
    imports: str,
    top: int,
    csv_path: str | None,
    parquet_path: str | None,
    chart_path: str | None,
    read_options: tuple[tuple[str, str], ...] = (),
) -> None:
    """Labour values of every product of SOURCE (a publisher's file or 'default').

    --csv - writes the CSV to standard output (and nothing else there).
    """
    data_on_stdout(as_json, csv_path)
    with progress(f"reading {source}") as advance:
        economy = open_source(source, year=year, **read_options_dict(read_options))
        advance(description="solving v = vA + l")
        res = labour_values(
            economy,
            tol=tol,
            method=method,
            depreciation=depreciation,
            imports=imports,  # type: ignore[arg-type]
        )
    title = f"{economy.name} {economy.year or ''}".strip()
    if as_json:
        echo_json(
            {
                "economy": economy.name,
                "year": economy.year,
                "products": economy.n,
                "kind": economy.kind,
                "labour_unit": economy.labour_unit,
                "unit": res.unit,
                "method": res.method,
                "iterations": res.iterations,
                "residual": res.residual,
                "tolerance": tol,
                "conventions": dict(res.conventions),
                "values": {str(k): float(v) for k, v in res.values.items()},
            }
        )
    console.print(
        f"[bold]{title}[/bold]: {economy.n} {economy.kind}s; labour in {economy.labour_unit}"
    )
    its = f"{res.iterations} iteration{'' if res.iterations == 1 else 's'}"
    console.print(
        f"method {res.method}, {its}, relative residual "
        f"{res.residual:.2e} (tolerance {tol:.0e}); unit: {res.unit}"
    )
    for k, v in res.conventions.items():
        console.print(f"  {k}: {v}", markup=False)
    s = res.values.sort_values(ascending=False)
    table = Table(title=f"highest and lowest labour values ({res.unit})")
    table.add_column("product")
    table.add_column("labour value", justify="right")
    table.add_column("direct share", justify="right")
    direct = pd.Series(economy.labour, index=economy.products)
    for name in [*s.index[:top], *s.index[-top:]]:
        share = f"{direct[name] / s[name]:.0%}" if s[name] > 0 else "–"
        table.add_row(str(name), f"{s[name]:.6g}", share)
    console.print(table)
    if csv_path:
        write_frame_csv(res.to_frame(), csv_path)
    if parquet_path:
        res.to_frame().to_parquet(parquet_path)
        console.print(f"wrote {parquet_path}")
    if chart_path:
        from gosplan.charts import values_vs_prices

        if economy.output is None:
            raise click.ClickException("a chart against prices needs gross output in the table")
        x = pd.Series(economy.output, index=economy.products)
        vx = res.values * x
        vx = vx * (x.sum() / vx.sum())  # scale so total value = total price
        values_vs_prices(
            vx,
            x,
            Path(chart_path),
            title=f"Labour values vs prices: {title}",
            value_unit=economy.money_unit,
            money_unit=economy.money_unit,
        )
        console.print(f"wrote {chart_path}")
