"""``gosplan fulfilment check``: every check on the stored reports; flags and alerts."""

from __future__ import annotations

from typing import Any

import click
import numpy as np
import pandas as pd

from gosplan.cli._common import console, data_on_stdout, db_option, domain_errors
from gosplan.cli._params import OutputPath, count
from gosplan.cli.fulfilment._base import (
    FLAG_COLUMNS,
    _clock,
    _engine,
    _formats,
    _ladder,
    _machine,
    _now,
    _table,
    command,
)
from gosplan.errors import ValidationError


@command.command("check")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Reports due by this date count as late when missing (default: --now).",
)
@click.option(
    "--by",
    type=click.Choice(["sector", "enterprise", "economy"]),
    default="sector",
    show_default=True,
    help="Fulfilment table per sector, enterprise or economy.",
)
@click.option("--enterprise", default=None, help="Report on one enterprise (with --chart).")
@click.option(
    "--chart",
    type=OutputPath(allow_dash=False),
    default=None,
    help="PNG: fulfilment over time with forecast bands (one enterprise, or the most flagged one).",
)
@click.option(
    "--alerts/--no-alerts",
    default=True,
    show_default=True,
    help="Open alerts on the escalation ladder for new flags.",
)
@click.option(
    "--ladder",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="TOML file of [[levels]] (name, owner, days) for new alerts.",
)
@click.option("--top", type=count(1), default=15, show_default=True, help="Flags to list.")
@_formats
@db_option
@_now
@domain_errors
def check_cmd(
    as_of: str | None,
    by: str,
    enterprise: str | None,
    chart: str | None,
    alerts: bool,
    ladder: str | None,
    top: int,
    as_json: bool,
    as_csv: bool,
    db: str | None,
    now: str | None,
) -> None:
    """Run every check on the stored reports: flags, fulfilment, credibility, alerts."""
    data_on_stdout(as_json)
    from gosplan.services.fulfilment import store as ful
    from gosplan.storage.base import session_scope

    clock = _clock(now)
    when = _clock(as_of) if as_of else clock
    engine = _engine(db, read_only=True)
    with session_scope(engine) as s:
        run = ful.check(s, as_of=when, now=clock, open_alerts=alerts, ladder=_ladder(ladder))
        opened = [(a.id, a.subject, a.owner) for a in run.alerts]
    res = run.result
    seen = run.flags
    if enterprise:
        seen = seen[seen["enterprise"] == enterprise]
    if _machine(
        seen.assign(week=seen["period"].dt.strftime("%Y-%m-%d"))[FLAG_COLUMNS]
        if len(seen)
        else pd.DataFrame(columns=FLAG_COLUMNS),
        as_json,
        as_csv,
    ):
        return
    _print_check(res, by=by, enterprise=enterprise, top=top)
    console.print(f"check run {run.run.id}: {len(opened)} alert(s) opened or updated")
    if chart:
        _chart(res, enterprise, chart)


#: the columns of the fulfilment table
_FULFILMENT_COLUMNS = [
    "period_output",
    "period_plan",
    "period_pct",
    "cumulative_output",
    "cumulative_plan",
    "cumulative_pct",
    "flags",
]


def _print_check(res: Any, *, by: str, enterprise: str | None, top: int) -> None:
    """Print the fulfilment table, the flags by check, the latest flags and the least
    credible reporters of a check run's result ``res`` (``--json`` and ``--csv`` print
    the flags instead)."""
    from gosplan.services.fulfilment.checks import credibility

    pop = res.population
    ful_table = res.fulfilment(by=by)
    cols = _FULFILMENT_COLUMNS
    if enterprise:
        if enterprise not in set(pop.codes):
            raise ValidationError(f"enterprise {enterprise!r} is not in the register.")
        ful_table = res.fulfilment(by="enterprise").loc[[enterprise]]
    console.print(
        _table(
            ful_table[cols].head(60 if by != "enterprise" else 30),
            f"Fulfilment ({pop.output_unit}) to {ful_table.attrs['period'].date()}",
            index=by if not enterprise else "enterprise",
        )
    )
    counts = {k: v for k, v in res.counts().items() if v}
    console.print("flags by check: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    flags = res.flags()
    if enterprise:
        flags = flags[flags["enterprise"] == enterprise]
    if len(flags):
        show = flags.sort_values("period").groupby(["enterprise", "check"]).tail(1).tail(top)
        console.print(
            _table(
                show[["enterprise", "period", "check", "detail"]]
                .assign(period=show["period"].dt.date.astype(str))
                .reset_index(drop=True),
                "Latest flag per enterprise and check",
            )
        )
    cred = credibility(res).sort_values("credibility").head(10)
    console.print(
        _table(cred, "Least credible reporters", index="enterprise", fmt={"credibility": ".3f"})
    )


def _chart(res: Any, enterprise: str | None, chart: str) -> None:
    """Fulfilment over time with forecast bands: ``enterprise``, or the most flagged one."""
    from gosplan.charts import fulfilment_forecast

    pop = res.population
    e = list(pop.codes).index(enterprise) if enterprise else int(np.argmax(res.any_flag().sum(1)))
    path = fulfilment_forecast(
        pop.periods,
        res.ratio[e],
        res.forecast.forecast[e],
        res.forecast.sd[e],
        {c: res.masks[c][e] for c in res.masks},
        chart,
        title=f"Enterprise {pop.codes[e]}: output as % of plan, with forecast band",
    )
    console.print(f"chart: {path}")
