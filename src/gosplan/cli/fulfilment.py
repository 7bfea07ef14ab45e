"""``gosplan fulfilment …``: verification of fulfilment (thin over the services).

Commands: ``simulate`` (a population from a real table, reports, faults,
detection table; ``--store`` puts it in the store), ``ingest`` (reports from
CSV), ``check`` (every check on the stored reports; flags and alerts),
``alerts`` (list, acknowledge, resolve; ladder chart), ``tick`` (climb
overdue alerts and directives) and ``directive`` (assign a decision with a
deadline).  Every command takes ``--db URL`` and ``--now`` (the clock: an
ISO date-time, default the current UTC time), so a run can be replayed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np
import pandas as pd
from rich.table import Table

from gosplan.cli._common import console, data_on_stdout, domain_errors, echo_json
from gosplan.cli._params import YEAR, FiniteFloat, OutputPath, count
from gosplan.config import Settings
from gosplan.errors import ValidationError

F = TypeVar("F", bound=Callable[..., Any])


def _db(func: F) -> F:
    return click.option(
        "--db",
        "db",
        default=None,
        metavar="URL",
        help="Database URL (default: GOSPLAN_DATABASE_URL, else sqlite:///gosplan.db).",
    )(func)


def _now(func: F) -> F:
    return click.option(
        "--now",
        "now",
        default=None,
        metavar="DATETIME",
        help="The clock: ISO date or date-time in UTC (default: now).",
    )(func)


def _clock(now: str | None) -> dt.datetime:
    from gosplan.core.validation import parse_iso_datetime
    from gosplan.services.escalation import utcnow

    if not now:
        return utcnow()
    try:
        return parse_iso_datetime(now, name="--now")
    except ValidationError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None


def _engine(db: str | None, *, read_only: bool = False) -> Any:
    """The store at ``db``; commands that need stored data never create or migrate one."""
    from gosplan.storage.base import open_store

    return open_store(db or Settings().database_url, create=not read_only)


def _ladder(path: str | None) -> Any:
    from gosplan.services import escalation as esc

    return esc.Ladder.from_toml(path) if path else esc.DEFAULT_LADDER


def _table(
    frame: pd.DataFrame, title: str, *, index: str | None = None, fmt: dict[str, str] | None = None
) -> Table:
    fmt = fmt or {}
    t = Table(title=title, title_justify="left")
    if index:
        t.add_column(index)
    for c in frame.columns:
        t.add_column(str(c), justify="right" if frame[c].dtype.kind in "fiu" else "left")
    for idx, *vals in frame.itertuples(name=None):
        cells = [str(idx)[:48]] if index else []
        for c, v in zip(frame.columns, vals, strict=True):
            if isinstance(v, float | np.floating):
                cells.append(format(v, fmt.get(str(c), ",.1f")) if np.isfinite(v) else "–")
            else:
                cells.append(str(v)[:60])
        t.add_row(*cells)
    return t


def _machine(frame: pd.DataFrame, as_json: bool, as_csv: bool) -> bool:
    """Print ``frame`` as JSON records or CSV on stdout; False when neither was asked."""
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    elif as_csv:
        click.echo(frame.to_csv(index=False), nl=False)
    return as_json or as_csv


def _formats(func: F) -> F:
    func = click.option(
        "--csv",
        "as_csv",
        is_flag=True,
        help="Print the rows as CSV (machine-readable) instead of tables.",
    )(func)
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the rows as JSON records instead of tables."
    )(func)


FLAG_COLUMNS = ["enterprise", "sector", "week", "check", "route", "value", "detail", "evidence"]


@click.group("fulfilment")
def command() -> None:
    """Verification of fulfilment: reports against plan, norms, each other and over time."""


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
@_db
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
@_db
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
@_db
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
    from gosplan.services.fulfilment.checks import credibility
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
    pop = res.population
    ful_table = res.fulfilment(by=by)
    cols = [
        "period_output",
        "period_plan",
        "period_pct",
        "cumulative_output",
        "cumulative_plan",
        "cumulative_pct",
        "flags",
    ]
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
    console.print(f"check run {run.run.id}: {len(opened)} alert(s) opened or updated")
    if as_json:
        echo_json(
            {
                "run": run.run.id,
                "as_of": when,
                "by": "enterprise" if enterprise else by,
                "fulfilment": ful_table[cols],
                "flags_by_check": counts,
                "flags": flags.sort_values("period")
                .groupby(["enterprise", "check"])
                .tail(1)
                .tail(top)
                if len(flags)
                else [],
                "least_credible": cred,
                "alerts": [{"id": i, "subject": sub, "owner": o} for i, sub, o in opened],
            }
        )
    if chart:
        from gosplan.charts import fulfilment_forecast

        e = (
            list(pop.codes).index(enterprise)
            if enterprise
            else int(np.argmax(res.any_flag().sum(1)))
        )
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


@command.command("alerts")
@click.option("--all", "show_all", is_flag=True, help="Include resolved items.")
@click.option("--kind", type=click.Choice(["alert", "directive"]), default=None)
@click.option(
    "--min-level",
    type=count(1),
    default=None,
    help="Only items at this level or above (1 = first).",
)
@click.option("--ack", "ack", type=int, default=None, help="Acknowledge item ID (needs --by).")
@click.option(
    "--resolve",
    "resolve_id",
    type=int,
    default=None,
    help="Resolve item ID (needs --by and --resolution).",
)
@click.option("--by", default=None, help="Who acknowledges or resolves.")
@click.option("--resolution", default=None, help="What was done.")
@click.option(
    "--chart",
    type=OutputPath(allow_dash=False),
    default=None,
    help="PNG: open items on each rung of the ladder.",
)
@click.option("--limit", type=count(1), default=40, show_default=True)
@_formats
@_db
@_now
@domain_errors
def alerts_cmd(
    show_all: bool,
    kind: str | None,
    min_level: int | None,
    ack: int | None,
    resolve_id: int | None,
    by: str | None,
    resolution: str | None,
    chart: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
    db: str | None,
    now: str | None,
) -> None:
    """List alerts and directives (fulfilment area), or acknowledge / resolve one."""
    data_on_stdout(as_json)
    from gosplan.services import escalation as esc
    from gosplan.storage.base import session_scope

    clock = _clock(now)
    engine = _engine(db, read_only=True)
    with session_scope(engine) as s:
        if ack is not None:
            esc.acknowledge(s, ack, by=by or "", now=clock)
            if not (as_json or as_csv):
                console.print(f"item {ack} acknowledged by {by}")
        if resolve_id is not None:
            esc.resolve(s, resolve_id, by=by or "", resolution=resolution or "", now=clock)
            if not (as_json or as_csv):
                console.print(f"item {resolve_id} resolved by {by}")
        found = esc.items(
            s,
            area="fulfilment",
            kind=kind,  # type: ignore[arg-type]
            open_only=not show_all,
            min_level=None if min_level is None else min_level - 1,
        )
        rows = [esc.view(i) for i in found]
        extra = [
            {
                "enterprise": i.subject.removeprefix("enterprise ")
                if not i.private
                else "(private)",
                "check": i.details.get("check", ""),
                "route": i.details.get("route", ""),
                "weeks": ";".join(i.details.get("periods", [])),
                "evidence": i.details.get("evidence", ""),
            }
            for i in found
        ]
    if as_json or as_csv:
        cols = [
            "id",
            "kind",
            "enterprise",
            "check",
            "route",
            "weeks",
            "level",
            "level_name",
            "owner",
            "opened",
            "deadline",
            "resolved",
            "reason",
            "evidence",
        ]
        frame = (
            pd.concat([pd.DataFrame(rows), pd.DataFrame(extra)], axis=1)[cols]
            if rows
            else pd.DataFrame(columns=cols)
        )
        _machine(frame, as_json, as_csv)
        return
    if not rows:
        console.print("no items")
        return
    frame = pd.DataFrame(rows)
    by_level = frame.groupby(["level", "level_name"]).size().reset_index(name="n")
    console.print(
        "items by level: "
        + ", ".join(
            f"{lv} {name}: {n}"
            for lv, name, n in zip(
                by_level["level"], by_level["level_name"], by_level["n"], strict=True
            )
        )
    )
    shown = frame[["id", "kind", "level", "owner", "deadline", "resolved", "reason"]].tail(limit)
    console.print(_table(shown.set_index("id"), "Alerts and directives", index="id"))
    if chart:
        from gosplan.charts import escalation_ladder

        open_ = frame[frame["resolved"].isna()]
        names = list(dict.fromkeys(frame.sort_values("level")["level_name"]))
        counts = [int((open_["level_name"] == n).sum()) for n in names]
        path = escalation_ladder(names, counts, chart, title="Open fulfilment items by rung")
        console.print(f"chart: {path}")


@command.command("tick")
@_db
@_now
@domain_errors
def tick_cmd(db: str | None, now: str | None) -> None:
    """Climb every open alert and directive whose deadline has passed."""
    from gosplan.services import escalation as esc
    from gosplan.storage.base import session_scope

    clock = _clock(now)
    engine = _engine(db, read_only=True)
    with session_scope(engine) as s:
        climbed = [(i.id, i.kind, i.subject, i.level + 1, i.owner) for i in esc.tick(s, clock)]
    console.print(f"{len(climbed)} item(s) climbed at {clock.isoformat()}")
    for iid, kind, subject, level, owner in climbed[:50]:
        console.print(f"  {kind} {iid} on {subject}: now level {level}, {owner}")


@command.command("directive")
@click.argument("enterprise")
@click.argument("decision")
@click.option("--deadline", default=None, help="ISO date by which it must be done.")
@click.option(
    "--days", type=FiniteFloat(0, 3660, min_open=True), default=None, help="Or: days from now."
)
@click.option(
    "--ladder",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="TOML file of [[levels]] (name, owner, days).",
)
@_db
@_now
@domain_errors
def directive_cmd(
    enterprise: str,
    decision: str,
    deadline: str | None,
    days: float | None,
    ladder: str | None,
    db: str | None,
    now: str | None,
) -> None:
    """Assign DECISION to ENTERPRISE's workers' council and management, with a deadline."""
    from gosplan.services import escalation as esc
    from gosplan.services.fulfilment import store as ful
    from gosplan.storage.base import session_scope

    clock = _clock(now)
    if deadline and days is not None:
        raise click.UsageError("give --deadline or --days, not both.")
    due = (
        _clock(deadline)
        if deadline
        else (clock + dt.timedelta(days=days) if days is not None else None)
    )
    engine = _engine(db, read_only=True)
    with session_scope(engine) as s:
        sector = ful.sector_of(s, enterprise)
        item = esc.issue_directive(
            s,
            area="fulfilment",
            subject=f"enterprise {enterprise}",
            reason=decision,
            context={"unit": enterprise, "sector": sector},
            ladder=_ladder(ladder),
            now=clock,
            deadline=due,
        )
        shown = esc.view(item)
    console.print(f"directive {shown['id']} to {shown['owner']}, due {shown['deadline']}")
