"""``gosplan demo``: the main job — what gosplan is for, on the embedded default economy.

1. read a real economy (Brazil's official supply–use tables, IBGE, shipped in
   the ``iotbr`` package: no download);
2. labour values of every product, with their residual;
3. how labour values compare with market prices, and the rate of surplus value;
4. a five-year plan with free health care and education for all, and the
   working week it needs, year by year.

Tables and charts are written to ``--out`` (default ``gosplan-demo/``).
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from gosplan.cli._common import console, domain_errors, progress


@click.command("demo")
@click.option(
    "--source",
    default="default",
    show_default=True,
    help="Economy to demonstrate on (any SOURCE; see 'gosplan sources').",
)
@click.option(
    "--out",
    "out_dir",
    default="gosplan-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for tables and charts.",
)
@click.option("--years", default=5, show_default=True, help="Length of the plan in years.")
@domain_errors
def command(source: str, out_dir: str, years: int) -> None:
    """Labour values, value–price analysis and a five-year plan on the default economy.

    \f
    Long because it is the tour itself: economy, labour values, value–price analysis,
    the five-year plan and the charts, printed in that order with progress.
    """
    from gosplan.analysis import rate_of_surplus_value, value_price_analysis
    from gosplan.charts import values_vs_prices
    from gosplan.core.values import labour_values
    from gosplan.readers.registry import open_source
    from gosplan.services.plan_runs import default_five_year_plan

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with progress("reading the economy") as advance:
        economy = open_source(source)
        advance(description="solving v = vA + l")
        values = labour_values(economy)
        advance(description="comparing values with prices")
        vp = value_price_analysis(economy, values)
        sv = rate_of_surplus_value(economy, values)
        advance(description=f"planning {years} years")
        run = default_five_year_plan(economy, plan={"years": years})
    title = f"{economy.name} {economy.year or ''}".strip()

    console.rule(f"[bold]1. The economy: {title}")
    console.print(
        f"{economy.n} {economy.kind}s; labour measured as {economy.labour_unit} "
        f"({economy.labour_kind}); money in {economy.money_unit}."
    )
    if economy.meta.source:
        console.print(f"source: {economy.meta.source}")

    console.rule("[bold]2. What each product costs society in labour")
    console.print(
        f"Solved v = vA + l by {values.method}: relative residual "
        f"{values.residual:.1e} (asked for {values.tol:.0e}). Unit: {values.unit}."
    )
    s = values.values.sort_values(ascending=False)
    table = Table(show_header=True, header_style="bold")
    table.add_column("most labour per unit of output")
    table.add_column("value", justify="right")
    table.add_column("least labour per unit of output")
    table.add_column("value", justify="right")
    for (hi_name, hi), (lo_name, lo) in zip(
        s.iloc[:6].items(), s.iloc[::-1].iloc[:6].items(), strict=True
    ):
        table.add_row(str(hi_name)[:45], f"{hi:.4g}", str(lo_name)[:45], f"{lo:.4g}")
    console.print(table)

    console.rule("[bold]3. Labour values against market prices")
    console.print(vp.summary())
    console.print(sv.summary())

    console.rule(f"[bold]4. A {years}-year plan: free health care and education for all")
    first = run.first_year
    by = first.to_frame()
    pt = Table(show_header=True, header_style="bold")
    pt.add_column("purpose")
    pt.add_column("labour (hours/yr)", justify="right")
    pt.add_column("share", justify="right")
    if "hours_per_week" in by:
        pt.add_column("hours per week", justify="right")
    for purpose, row in by.iterrows():
        cells = [str(purpose), f"{row['labour_hours']:,.3g}", f"{row['share']:.1%}"]
        if "hours_per_week" in by:
            cells.append(f"{row['hours_per_week']:.2f}")
        pt.add_row(*cells)
    console.print(pt)
    rate, shares = first.deduction_shares()
    console.print(
        f"Deduction for social funds from every hour worked: {rate:.1%} "
        f"({', '.join(f'{k} {v:.0%}' for k, v in shares.items())})."
    )
    plan = run.plan
    if plan is not None and plan.working_week is not None:
        wk = plan.working_week
        console.print(
            "Working week per able-bodied person, by year: "
            + ", ".join(f"{y}: [bold]{h:.1f} h[/bold]" for y, h in wk.items())
        )
        pd.DataFrame({"working_week_hours": wk}).to_csv(out / "working-week.csv")
        from gosplan.charts import working_week as chart_week

        chart_week(wk, out / "working-week.png", title=f"Working week needed: {title}")
    elif first.working_week is not None:
        console.print(f"Working week per able-bodied person: {first.working_week:.1f} h")

    values.to_frame().to_csv(out / "labour-values.csv")
    by.to_csv(out / "plan-by-purpose.csv")
    if economy.output is not None:
        x = pd.Series(economy.output, index=economy.products)
        vx = values.values * x
        values_vs_prices(
            vx * (x.sum() / vx.sum()),
            x,
            out / "values-vs-prices.png",
            title=f"Labour values vs prices: {title}",
            value_unit=economy.money_unit,
            money_unit=economy.money_unit,
        )
    console.rule()
    console.print(
        f"Tables and charts in {out}/ ({time.perf_counter() - t0:.1f} s). "
        "Next: `gosplan serve` for the web application, `gosplan --help` for the rest."
    )
