"""``gosplan fulfilment simulate|ingest``: reports, simulated from a real table or read from CSV."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gosplan.cli._common import console, db_option, domain_errors
from gosplan.cli._params import YEAR, FiniteFloat, OutputPath, count
from gosplan.cli.fulfilment._base import (
    _clock,
    _engine,
    _now,
    _table,
    command,
)


@command.command("simulate")
@click.option(
    "--source",
    default="default",
    show_default=True,
    help="Economy to build the population from (see 'gosplan sources'), e.g. "
    "../shared/data/wiod-2016/GBR_NIOT_nov16.xlsx.",
)
@click.option("--year", type=YEAR, default=None, help="Year of a multi-year source.")
@click.option(
    "--enterprises",
    type=count(1),
    default=2000,
    show_default=True,
    help="About how many enterprises (at least two per sector).",
)
@click.option("--periods", type=count(1), default=52, show_default=True)
@click.option(
    "--freq", type=click.Choice(["day", "week", "month"]), default="week", show_default=True
)
@click.option(
    "--fault-share",
    type=FiniteFloat(0, 1),
    default=0.05,
    show_default=True,
    help="Share of enterprises given one fault each.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    "out",
    type=OutputPath(folder=True),
    default=None,
    help="Folder for reports.csv (the reports as filed) and faults.csv (the truth).",
)
@click.option(
    "--store/--no-store",
    default=False,
    show_default=True,
    help="Register the population and its plan in the store and ingest the reports.",
)
@db_option
@_now
@domain_errors
def simulate_cmd(
    source: str,
    year: int | None,
    enterprises: int,
    periods: int,
    freq: str,
    fault_share: float,
    seed: int,
    out: str | None,
    store: bool,
    db: str | None,
    now: str | None,
) -> None:
    """Simulate enterprises of a real economy, inject faults, and measure the checks."""
    from gosplan.readers.registry import open_source
    from gosplan.services.fulfilment import simulator as simu
    from gosplan.services.fulfilment.checks import build_panel, run_checks
    from gosplan.services.fulfilment.faults import register_view

    clock = _clock(now)
    economy = open_source(source, year=year)
    pop, links = simu.build_population(
        economy, enterprises=enterprises, periods=periods, freq=freq, seed=seed
    )
    sim = simu.simulate(pop, links, fault_share=fault_share, seed=seed + 1)
    # the checks and the store get the register a real one would hold: engineering norms
    # with error for most enterprises, the sector's for the rest (never the true ones)
    pop = register_view(pop, links, seed=seed)
    sim.population = pop
    console.print(
        f"{pop.n:,} enterprises in {len(pop.sectors)} sectors of "
        f"{economy.name or source} {economy.year or ''}, {len(links.supplier):,} "
        f"supply links, {pop.T} {freq}s from {pop.periods[0].date()}; "
        f"{len(sim.truth)} faults injected"
    )
    t0 = time.perf_counter()
    panel = build_panel(pop, sim.reports, sim.lines)
    res = run_checks(pop, panel)
    secs = time.perf_counter() - t0
    table = simu.evaluate(res, sim)
    console.print(
        _table(
            table,
            f"Detection within 2 periods (checks took {secs:.2f} s)",
            index="fault",
            fmt={"detected_pct": ".2f", "mean_delay": ".2f"},
        )
    )
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        simu.report_frame(sim).to_csv(folder / "reports.csv", index=False)
        truth = sim.truth.assign(
            start_period=pop.periods[sim.truth["start"].to_numpy()].strftime("%Y-%m-%d")
        )
        truth.to_csv(folder / "faults.csv", index=False)
        console.print(f"wrote {folder / 'reports.csv'} and {folder / 'faults.csv'}")
    if store:
        from gosplan.services.fulfilment import store as ful
        from gosplan.storage.base import session_scope

        engine = _engine(db)
        with session_scope(engine) as s:
            plan = ful.register_population(
                s,
                pop,
                links,
                economy,
                now=clock,
                name=f"simulated {economy.name} {economy.year}",
                source=f"simulate --source {source} --seed {seed}",
            )
            got = ful.ingest(
                s, simu.report_frame(sim), now=clock, source="simulator", simulated_receipt=True
            )
        console.print(f"stored plan {plan.id} ({pop.n:,} enterprises) and {got.new:,} reports")


@command.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@db_option
@_now
@domain_errors
def ingest_cmd(files: tuple[str, ...], db: str | None, now: str | None) -> None:
    """Store reports from CSV files (columns: enterprise, period, kind, quantity,
    counterparty, product, submitted_at).  A file with any error stores nothing.

    A report sent again with other figures is a correction (the next version); the
    input and delivery lines it does not restate are kept from the version it corrects
    (restate a line with quantity 0 to withdraw it)."""
    from gosplan.services.fulfilment import corrections
    from gosplan.services.fulfilment import store as ful
    from gosplan.storage.base import session_scope

    clock = _clock(now)
    engine = _engine(db, read_only=True)
    for f in files:
        frame = ful.read_reports_csv(f)
        with session_scope(engine) as s:
            got = ful.ingest(s, corrections.carry_lines(s, frame), now=clock)
        console.print(
            f"{f}: {got.new} new, {got.corrected} corrected (new version), "
            f"{got.unchanged} unchanged"
        )
