"""``gosplan accounts feedback``: sales against stock, clearing ratios, next targets."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from gosplan.cli._common import (
    console,
    data_on_stdout,
    db_option,
    domain_errors,
    write_frame_csv,
)
from gosplan.cli._params import YEAR, FiniteFloat, OutputPath
from gosplan.cli.accounts._base import (
    _economy,
    _store,
    command,
)


@command.command("feedback")
@click.argument("period")
@click.option(
    "--source",
    default=None,
    help="Economy whose next plan's personal-consumption targets to adjust.",
)
@click.option("--year", type=YEAR, default=None)
@click.option(
    "--elasticity",
    type=FiniteFloat(0, 100, min_open=True),
    default=1.0,
    show_default=True,
    help="Assumed price elasticity of demand.",
)
@click.option(
    "--sell-through",
    type=FiniteFloat(0, 1, min_open=True),
    default=0.9,
    show_default=True,
    help="Share of the available stock the plan means to sell.",
)
@click.option(
    "--max-step",
    type=FiniteFloat(0, 10, min_open=True),
    default=0.25,
    show_default=True,
    help="Largest change of a ratio in one period (0.25 = ±25 %).",
)
@click.option(
    "--apply",
    "apply_prices",
    is_flag=True,
    help="Set each good's ratio to its clearing ratio (published).",
)
@click.option(
    "--csv",
    "csv_path",
    type=OutputPath(),
    help="Write the per-good report (and targets, with --source) as CSV.",
)
@db_option
@domain_errors
def feedback_cmd(
    period: str,
    source: str | None,
    year: int | None,
    elasticity: float,
    sell_through: float,
    max_step: float,
    apply_prices: bool,
    csv_path: str | None,
    db: str | None,
) -> None:
    """Sales against stock per good in PERIOD; clearing ratios; next plan's targets."""
    data_on_stdout(csv_path)
    acc = _store(db)
    rep = acc.feedback(
        period, elasticity=elasticity, target_sell_through=sell_through, max_step=max_step
    )
    tab = rep.table
    table = Table(
        title=f"feedback from period {period} (elasticity {elasticity:g}, "
        f"sell-through goal {sell_through:.0%})"
    )
    for col in ("good", "available", "sold", "sell-through", "ratio", "clearing", "target ×"):
        table.add_column(col, justify="left" if col == "good" else "right")
    for code, r in tab.iterrows():
        table.add_row(
            str(code),
            f"{r['available']:,}",
            f"{r['sold']:,}",
            "" if pd.isna(r["sell_through"]) else f"{r['sell_through']:.0%}",
            f"{r['ratio']:.4g}",
            f"{r['clearing_ratio']:.4g}" + ("+" if r["censored"] else ""),
            f"{r['target_factor']:.3f}",
        )
    console.print(table)
    console.print("[dim]+ sold out: demand was at least this (censored)[/dim]")
    out = tab.copy()
    if source:
        economy = _economy(source, year)
        current = economy.final_demand_by_purpose()["personal"].clip(lower=0.0)
        nxt = rep.next_targets(current)
        changed = (nxt - current).abs() > 1e-12 * current.abs().max()
        t2 = Table(
            title=f"next plan: personal-consumption targets of {economy.name} "
            f"({economy.money_unit or economy.output_unit})"
        )
        for col in ("product", "current", "next", "change"):
            t2.add_column(col, justify="left" if col == "product" else "right")
        for prod in current.index[changed.to_numpy()]:
            c, n = float(current[prod]), float(nxt[prod])
            t2.add_row(str(prod), f"{c:,.6g}", f"{n:,.6g}", f"{(n / c - 1):+.1%}" if c else "")
        console.print(t2)
        console.print(f"total personal consumption: {current.sum():,.6g} → {nxt.sum():,.6g}")
        out = pd.DataFrame({"current_target": current, "next_target": nxt})
        out.index.name = "product"
        if csv_path and csv_path != "-":
            tab.to_csv(Path(csv_path).with_suffix(".goods.csv"))
    if csv_path:
        write_frame_csv(out, csv_path)
    if apply_prices:
        changed_goods = acc.apply_feedback(rep)
        console.print(f"set the clearing ratio of {len(changed_goods)} good(s)")
