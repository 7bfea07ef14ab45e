"""``gosplan plan CONFIG.toml``: plan an economy from a configuration file.

Prints the targets and their labour by purpose, the deduction for social
funds and the working week by year; writes tables (CSV) and charts (PNG).
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
)
from gosplan.cli._params import OutputPath
from gosplan.planning.plan_config import PlanRun
from gosplan.services.plan_runs import load_config, run_config


@click.command("plan")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=OutputPath(folder=True),
    default=None,
    help="Directory for tables and charts (overrides [output] dir).",
)
@click.option("--no-charts", is_flag=True, help="Do not write charts.")
@json_option
@domain_errors
def command(config: str, out_dir: str | None, no_charts: bool, as_json: bool = False) -> None:
    """Plan the economy named in CONFIG (TOML; see examples/plan-default.toml)."""
    data_on_stdout(as_json)
    cfg = load_config(config)
    with progress(f"planning from {config}") as advance:
        run = run_config(cfg)
        advance()
    show(run)
    target = Path(out_dir or cfg.get("output", "dir", "plan-out"))
    charts = not no_charts and bool(cfg.get("output", "charts", True))
    written = write(run, target, charts=charts)
    for path in written:
        console.print(f"wrote {path}")
    if as_json:
        echo_json({**summary(run), "written": [str(p) for p in written]})
    if run.plan is not None and not run.plan.success:
        raise click.ClickException(f"the multi-year plan failed: {run.plan.message}")


def show(run: PlanRun) -> None:
    """Print the summary tables."""
    e = run.economy
    first = run.first_year
    title = f"{e.name} {e.year or ''}".strip() or "economy"
    console.print(
        f"[bold]{title}[/bold]: {e.n} {e.kind}s; targets in {e.output_unit}; labour "
        f"in {first.labour_unit} ({first.hours_per_labour_unit:g} hours each)"
    )
    for note in first.notes:
        console.print(f"  note: {note}")
    plan = run.plan
    t = Table(title="Targets and plan by purpose (first plan year)")
    t.add_column("purpose")
    t.add_column(f"target ({e.output_unit})", justify="right")
    t.add_column("delivered", justify="right")
    t.add_column("labour (hours/yr)", justify="right")
    t.add_column("share", justify="right")
    t.add_column("hours/week", justify="right")
    if plan is not None and plan.success:
        y0 = plan.years[0]
        tg = plan.targets[y0]
        lab = plan.labour_by_purpose_table[y0]
        week = plan.working_week
        able = plan.able_bodied
        delivered = plan.net_output[y0].sum()
        for purpose in lab.index:
            hours = float(lab[purpose])
            share = hours / float(lab.sum()) if float(lab.sum()) else 0.0
            hw = (
                hours / (float(able[y0]) * first.weeks_per_year)
                if week is not None and able is not None
                else None
            )
            tv = tg.get(purpose)
            t.add_row(
                purpose,
                "" if tv is None else f"{tv:,.6g}",
                "" if tv is None else f"{tv:,.6g}" if purpose != "surplus" else "",
                f"{hours:,.4g}",
                f"{share:.1%}",
                "" if hw is None else f"{hw:.2f}",
            )
        t.add_row(
            "[bold]total[/bold]",
            f"{float(tg.sum()):,.6g}",
            f"{delivered:,.6g}",
            f"{float(lab.sum()):,.4g}",
            "100%",
            "" if week is None else f"{float(week[y0]):.2f}",
        )
    else:
        frame = first.to_frame()
        for purpose, row in frame.iterrows():
            hw = row.get("hours_per_week")
            t.add_row(
                str(purpose),
                f"{row['target']:,.6g}",
                f"{row['target']:,.6g}",
                f"{row['labour_hours']:,.4g}",
                f"{row['share']:.1%}",
                "" if hw is None or pd.isna(hw) else f"{hw:.2f}",
            )
    console.print(t)
    rate, shares = (
        plan.deduction_shares() if plan is not None and plan.success else first.deduction_shares()
    )
    console.print(
        f"deduction for social funds: {rate:.1%} of all labour ("
        + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
        + ")"
    )
    if first.working_week is not None:
        console.print(
            f"Leontief plan of the base-year targets: working week "
            f"{first.working_week:.2f} hours per able-bodied person"
        )
    if plan is None:
        return
    console.print(f"{plan.mode} plan ({plan.method}): {plan.message}")
    if not plan.success:
        return
    yt = Table(title="Working week by year")
    yt.add_column("year")
    yt.add_column(f"labour ({plan.labour_unit})", justify="right")
    yt.add_column("new capacity", justify="right")
    yt.add_column("output on new capacity", justify="right")
    yt.add_column("hours/week", justify="right")
    by = plan.by_year()
    for year, row in by.iterrows():
        yt.add_row(
            str(year),
            f"{row['labour']:,.6g}",
            f"{row['new_capacity']:,.6g}",
            f"{row['modern_share']:.1%}",
            f"{row['working_week']:.2f}" if "working_week" in row else "",
        )
    console.print(yt)
    for k, v in plan.assumptions.items():
        if k != "notes":
            console.print(f"  {k}: {v}")


def summary(run: PlanRun) -> dict[str, object]:
    """What :func:`show` prints, as data (``--json``)."""
    e = run.economy
    first = run.first_year
    plan = run.plan
    ok = plan is not None and plan.success
    rate, shares = plan.deduction_shares() if ok else first.deduction_shares()  # type: ignore[union-attr]
    out: dict[str, object] = {
        "economy": e.name,
        "year": e.year,
        "products": e.n,
        "output_unit": e.output_unit,
        "labour_unit": first.labour_unit,
        "hours_per_labour_unit": first.hours_per_labour_unit,
        "notes": list(first.notes),
        "first_year_by_purpose": first.to_frame(),
        "deduction": {"rate": rate, "shares": dict(shares)},
        "leontief_working_week": first.working_week,
        "plan": None,
    }
    if plan is not None:
        out["plan"] = {
            "mode": plan.mode,
            "method": plan.method,
            "success": plan.success,
            "message": plan.message,
            "by_year": plan.by_year() if plan.success else [],
            "assumptions": {k: v for k, v in plan.assumptions.items() if k != "notes"},
        }
    return out


def write(run: PlanRun, directory: Path, *, charts: bool = True) -> list[Path]:
    """Write the plan's tables (CSV) and charts (PNG) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []

    def csv(frame: pd.DataFrame | pd.Series, name: str) -> None:
        p = directory / name
        frame.to_csv(p)
        out.append(p)

    first = run.first_year
    csv(first.to_frame(), "first-year-by-purpose.csv")
    csv(
        pd.DataFrame(
            {
                "gross_output": first.gross_output,
                "net_output": first.net_output,
                "labour_value": first.values,
                "labour_hours": first.labour_by_sector,
            }
        ),
        "first-year-by-sector.csv",
    )
    plan = run.plan
    if plan is not None and plan.success:
        csv(plan.by_year(), "by-year.csv")
        csv(plan.targets, "targets-by-purpose.csv")
        csv(plan.labour_by_purpose_table, "labour-by-purpose.csv")
        csv(plan.gross_output, "gross-output.csv")
        csv(plan.new_capacity, "new-capacity.csv")
        csv(plan.shadow_prices, "shadow-prices.csv")
        if charts:
            from gosplan.charts import plan_by_purpose, working_week

            e = run.economy
            title = f"{e.name} {e.year or ''}".strip()
            if plan.working_week is not None and plan.able_bodied is not None:
                per_week = plan.labour_by_purpose_table.div(
                    plan.able_bodied * first.weeks_per_year, axis=1
                )
                out.append(
                    plan_by_purpose(
                        plan.targets,
                        per_week.drop(index="surplus", errors="ignore"),
                        directory / "plan-by-purpose.png",
                        title=f"Plan for {title}",
                        target_unit=e.output_unit,
                    )
                )
                out.append(
                    working_week(
                        plan.working_week,
                        directory / "working-week.png",
                        modern_share=plan.by_year()["modern_share"],
                        title=f"Working week by year: {title}",
                    )
                )
    return out
