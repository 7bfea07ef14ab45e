"""``gosplan fulfilment alerts|tick|directive``: the escalation ladder of the fulfilment area."""

from __future__ import annotations

import datetime as dt

import click
import pandas as pd

from gosplan.cli._common import console, data_on_stdout, db_option, domain_errors
from gosplan.cli._params import FiniteFloat, OutputPath, count
from gosplan.cli.fulfilment._base import (
    _clock,
    _engine,
    _formats,
    _ladder,
    _machine,
    _now,
    _table,
    command,
)


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
@db_option
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
        frame = (
            pd.concat([pd.DataFrame(rows), pd.DataFrame(extra)], axis=1)[_ITEM_COLUMNS]
            if rows
            else pd.DataFrame(columns=_ITEM_COLUMNS)
        )
        _machine(frame, as_json, as_csv)
        return
    if not rows:
        console.print("no items")
        return
    _print_items(pd.DataFrame(rows), limit, chart)


#: the columns of ``alerts --json`` and ``--csv``
_ITEM_COLUMNS = [
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


def _print_items(frame: pd.DataFrame, limit: int, chart: str | None) -> None:
    """The items by level, the latest ``limit`` of them and, with ``chart``, the ladder."""
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
@db_option
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
@db_option
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
