"""``gosplan run SCENARIO.toml``: the living plan, period after period, through the real store.

Writes a one-page report (``report.md``) with charts, the figures per period
(``periods.csv``) and a summary (``summary.json``) into ``--out``; the run
itself is recorded in the store's public log.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gosplan.cli._common import domain_errors, echo_json


@click.command("run")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out",
    default="living-plan",
    show_default=True,
    metavar="DIR",
    help="Folder for the report, charts and tables.",
)
@click.option(
    "--db",
    "db",
    default=None,
    metavar="URL",
    help="Store for the run (default: a new SQLite file in --out).",
)
@click.option(
    "--periods",
    type=click.IntRange(1, 1000),
    default=None,
    help="Override the scenario's number of periods.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@domain_errors
def command(scenario: str, out: str, db: str | None, periods: int | None, as_json: bool) -> None:
    """Run the living plan of SCENARIO (TOML) with its open-loop twin; write the report."""
    import dataclasses

    from gosplan.cli._living_report import write_report
    from gosplan.errors import ValidationError
    from gosplan.services.living_plan import load_scenario, run

    sc = load_scenario(scenario)
    if periods is not None:
        sc = dataclasses.replace(sc, periods=periods)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise ValidationError(f"--out {out}: cannot write there ({exc.strerror}).") from None
    for name in ("store.db", "open-loop.db"):
        if (folder / name).exists() and db is None:
            raise ValidationError(
                f"--out {out} already holds a run ({name}); choose another folder or remove it."
            )
    url = db or f"sqlite:///{(folder / 'store.db').resolve()}"
    twin = f"sqlite:///{(folder / 'open-loop.db').resolve()}" if sc.open_loop else None
    err = sys.stderr
    last = [-1]

    tty = err.isatty()

    def progress(message: str, done: int, total: int) -> None:
        """One updating line on a terminal; a line per tenth of the work when piped."""
        pct = int(100 * done / total)
        if as_json or pct == last[0]:
            return
        if tty:
            err.write(f"\r{message:<40} {pct:3d} %")
        elif pct // 10 != last[0] // 10 or done == total:
            err.write(f"{message}: {pct} %\n")
        last[0] = pct
        err.flush()

    result = run(sc, url, twin_url=twin, progress=progress)
    if tty and not as_json:
        err.write("\n")
    report = write_report(result, folder)
    summary = result.summary()
    if as_json:
        echo_json(summary)
        return
    loop = summary["loop"]
    conv = loop["converged_at"]
    click.echo(f"{sc.name}: {sc.periods} periods, {sc.persons} persons")
    click.echo(
        f"  unmet demand last period: {loop['unmet_share_last']:.1%}"
        + (
            f" (open loop {summary['open-loop']['unmet_share_last']:.1%})"
            if "open-loop" in summary
            else ""
        )
    )
    click.echo(f"  price/value ratio CV: {loop['ratio_cv_last']:.1%}")
    click.echo(
        f"  working week: {loop['working_week_first']:.1f} -> {loop['working_week_last']:.1f} h"
    )
    click.echo(
        "  converged (unmet <= 2 %, CV <= 5 %) from period "
        + (str(conv + 1) if conv is not None else "- (not reached)")
    )
    click.echo(f"report: {report}")
