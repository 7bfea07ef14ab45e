"""``gosplan appointments …``: people, posts, ties, appointments, personnel events, cliques.

``appoint`` checks the appointer and panel for ties to the appointee before
recording; ``event`` records a personnel event and runs the retaliation watch
on it; ``check`` and ``cliques`` report in plain text or CSV.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from gosplan.cli._common import domain_errors, echo_json, json_option
from gosplan.cli.log import db_option, store, write_csv
from gosplan.services import appointments as appt
from gosplan.services import retaliation

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.datetime.now(dt.UTC).date()


@click.group("appointments")
def command() -> None:
    """Appointment integrity and the retaliation watch."""


@command.command("add-person")
@click.argument("person_id")
@click.argument("name")
@click.option("--hometown", default=None, help="Hometown on record (a found tie to others).")
@db_option
@domain_errors
def add_person_cmd(person_id: str, name: str, hometown: str | None, db: str | None) -> None:
    """Register a person."""
    with store(db) as (_, s):
        appt.add_person(s, person_id, name, hometown)
    click.echo(f"person {person_id} registered")


@command.command("add-unit")
@click.argument("unit_id")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["enterprise", "organisation"]),
    default="enterprise",
    show_default=True,
)
@db_option
@domain_errors
def add_unit_cmd(unit_id: str, name: str, kind: str, db: str | None) -> None:
    """Register an enterprise or organisation."""
    with store(db) as (_, s):
        appt.add_unit(s, unit_id, name, kind)
    click.echo(f"{kind} {unit_id} registered")


@command.command("add-position")
@click.argument("position_id")
@click.argument("title")
@click.option("--unit", required=True, help="Unit the post belongs to.")
@click.option("--reports-to", default=None, help="The post above it.")
@db_option
@domain_errors
def add_position_cmd(
    position_id: str, title: str, unit: str, reports_to: str | None, db: str | None
) -> None:
    """Create a post in a unit's chain of authority."""
    with store(db) as (_, s):
        appt.add_position(s, position_id, title, unit, reports_to)
    click.echo(f"position {position_id} created in {unit}")


@command.command("add-tie")
@click.argument("a")
@click.argument("b")
@click.option("--kind", type=click.Choice(appt.TIE_KINDS), required=True)
@click.option(
    "--source",
    type=click.Choice(appt.TIE_SOURCES),
    default="declared",
    show_default=True,
    help="Declared by the people, or found in records.",
)
@click.option("--note", default="", help="Where it was found, or who declared it.")
@db_option
@domain_errors
def add_tie_cmd(a: str, b: str, kind: str, source: str, note: str, db: str | None) -> None:
    """Record a tie between persons A and B."""
    with store(db) as (_, s):
        appt.add_tie(s, a, b, kind, source=source, note=note)
    click.echo(f"{kind} tie {a} – {b} ({source}) recorded")


def _print_findings(findings: list[dict[str, object]] | list[appt.Finding]) -> None:
    for f in findings:
        d = f.to_json() if isinstance(f, appt.Finding) else f
        path = d["path"]
        assert isinstance(path, list)
        steps = " → ".join(f"{p['to']} [{p['tie']}]" for p in path)
        start = path[0]["from"] if path else ""
        click.echo(
            f"  {d['role']} {d['decider']} is {d['distance']:g} ties from the appointee: "
            f"{start} → {steps}"
        )


@command.command("appoint")
@click.argument("position")
@click.argument("appointee")
@click.option("--by", "appointer", required=True, help="Who appoints.")
@click.option("--panel", multiple=True, help="Selection panel member (repeatable).")
@click.option("--day", type=_DAY, default=None, help="Date (default: today).")
@click.option(
    "-k",
    "k",
    type=float,
    default=appt.DEFAULT_K,
    show_default=True,
    help="Flag deciders within this many ties of the appointee.",
)
@db_option
@domain_errors
def appoint_cmd(
    position: str,
    appointee: str,
    appointer: str,
    panel: tuple[str, ...],
    day: dt.datetime | None,
    k: float,
    db: str | None,
) -> None:
    """Appoint APPOINTEE to POSITION, checking ties first; the result is logged."""
    with store(db) as (_, s):
        a = appt.appoint(
            s,
            position=position,
            appointee=appointee,
            appointer=appointer,
            panel=list(panel),
            day=_day(day),
            k=k,
        )
        flagged, findings, index = a.flagged, list(a.findings), a.log_index
    if flagged:
        click.echo(
            f"FLAGGED: appointment of {appointee} to {position} by {appointer} "
            f"(public-log entry {index}):"
        )
        _print_findings(findings)
    else:
        click.echo(
            f"appointment of {appointee} to {position} recorded (public-log entry "
            f"{index}); no ties within {k:g} found"
        )


@command.command("check")
@click.argument("appointee", required=False)
@click.option("--by", "appointer", default=None, help="Proposed appointer.")
@click.option("--panel", multiple=True, help="Proposed panel member (repeatable).")
@click.option("-k", "k", type=float, default=appt.DEFAULT_K, show_default=True)
@click.option(
    "--csv",
    "csv_path",
    default=None,
    metavar="PATH",
    help="Write the report as CSV to PATH ('-' for standard output).",
)
@json_option
@db_option
@domain_errors
def check_cmd(
    appointee: str | None,
    appointer: str | None,
    panel: tuple[str, ...],
    k: float,
    csv_path: str | None,
    db: str | None,
    as_json: bool = False,
) -> None:
    """Check a proposed appointment, or (no APPOINTEE) report every flagged appointment."""
    rows: list[list[object]] = []
    with store(db, read_only=True) as (_, s):
        if appointee is not None:
            if appointer is None:
                raise click.UsageError("checking a proposed appointment needs --by APPOINTER.")
            found = appt.check(s, appointee, appointer, list(panel), k)
            rows = [
                [
                    appointee,
                    "(proposed)",
                    f.role,
                    f.decider,
                    f.distance,
                    json.dumps(f.path, ensure_ascii=False),
                ]
                for f in found
            ]
            if not csv_path and not as_json:
                if found:
                    click.echo(
                        f"FLAGGED: {len(found)} decider(s) within {k:g} ties of {appointee}:"
                    )
                    _print_findings(found)
                else:
                    click.echo(f"no decider within {k:g} ties of {appointee}")
                return
        else:
            flagged = appt.appointments(s, flagged_only=True)
            for a in flagged:
                for f in a.findings:
                    rows.append(
                        [
                            a.appointee,
                            a.position_id,
                            f["role"],
                            f["decider"],
                            f["distance"],
                            json.dumps(f["path"], ensure_ascii=False),
                        ]
                    )
            if not csv_path and not as_json:
                for a in flagged:
                    click.echo(
                        f"appointment {a.id}: {a.appointee} to {a.position_id} by "
                        f"{a.appointer} on {a.day} [log {a.log_index}]"
                    )
                    _print_findings(a.findings)
                click.echo(f"{len(flagged)} flagged appointment{'' if len(flagged) == 1 else 's'}")
                return
    header = ["appointee", "position", "role", "decider", "distance", "path"]
    if as_json:
        echo_json(
            {
                "k": k,
                "flagged": len(rows) > 0,
                "findings": [
                    {**dict(zip(header, r, strict=True)), "path": json.loads(str(r[5]))}
                    for r in rows
                ],
            }
        )
        return
    assert csv_path is not None
    write_csv(csv_path, header, rows)


@command.command("interaction")
@click.argument("actor")
@click.argument("subject")
@click.option(
    "--kind", type=click.Choice(appt.INTERACTION_KINDS), default="evaluate", show_default=True
)
@click.option("--day", type=_DAY, default=None)
@db_option
@domain_errors
def interaction_cmd(
    actor: str, subject: str, kind: str, day: dt.datetime | None, db: str | None
) -> None:
    """Record that ACTOR appointed, approved or evaluated SUBJECT."""
    with store(db, read_only=True) as (_, s):
        appt.record_interaction(s, actor, subject, kind, _day(day))
    past = {"appoint": "appointed", "approve": "approved", "evaluate": "evaluated"}[kind]
    click.echo(f"{actor} {past} {subject}")


@command.command("cliques")
@click.option("--min-size", default=3, show_default=True)
@click.option(
    "--min-density",
    default=0.6,
    show_default=True,
    help="Share of member pairs that act for each other in both directions.",
)
@click.option("--publish", is_flag=True, help="Also put the report into the public log.")
@click.option("--csv", "csv_path", default=None, metavar="PATH")
@db_option
@domain_errors
def cliques_cmd(
    min_size: int, min_density: float, publish: bool, csv_path: str | None, db: str | None
) -> None:
    """Groups of officials who appoint, approve or evaluate each other."""
    with store(db, read_only=True) as (_, s):
        found = appt.cliques(s, min_size=min_size, min_density=min_density)
        if publish:
            appt.log_clique_report(s, found)
    if csv_path:
        write_csv(
            csv_path,
            ["group", "members", "density", "interactions"],
            [
                [i + 1, " ".join(c.members), round(c.density, 3), c.interactions]
                for i, c in enumerate(found)
            ],
        )
        return
    for i, c in enumerate(found, 1):
        click.echo(
            f"group {i}: {', '.join(c.members)} (density {c.density:.2f}, "
            f"{c.interactions} mutual acts)"
        )
    click.echo(f"{len(found)} groups found")


@command.command("event")
@click.argument("person")
@click.option("--kind", type=click.Choice(retaliation.EVENT_KINDS), required=True)
@click.option("--actor", default=None, help="Who decided it.")
@click.option("--day", type=_DAY, default=None)
@click.option("--note", default="")
@click.option(
    "--window-days",
    default=retaliation.DEFAULT_WINDOW_DAYS,
    show_default=True,
    help="How long after a criticism an event on its filer is watched.",
)
@db_option
@domain_errors
def event_cmd(
    person: str,
    kind: str,
    actor: str | None,
    day: dt.datetime | None,
    note: str,
    window_days: int,
    db: str | None,
) -> None:
    """Record a personnel event on PERSON and run the retaliation watch on it."""
    with store(db) as (settings, s):
        ev, alerts = retaliation.record_event(
            s,
            person=person,
            kind=kind,
            day=_day(day),
            actor=actor,
            note=note,
            window_days=window_days,
            settings=settings,
        )
        views = [retaliation.alert_view(s, a) for a in alerts]
        index = ev.log_index
    click.echo(f"{kind} of {person} recorded (public-log entry {index})")
    for v in views:
        click.echo(
            f"FLAGGED as possible retaliation: alert {v['alert']} at level "
            f"{v['level']} ({v['owner']}), deadline {v['deadline']}"
        )


@command.command("alerts")
@click.option("--open", "open_only", is_flag=True, help="Only unresolved alerts.")
@click.option(
    "--commission",
    is_flag=True,
    help="Include the reasons (control commission only: they point at critics).",
)
@click.option(
    "--escalate",
    "escalate_on",
    type=_DAY,
    default=None,
    help="First climb every alert overdue on this date.",
)
@db_option
@domain_errors
def alerts_cmd(
    open_only: bool, commission: bool, escalate_on: dt.datetime | None, db: str | None
) -> None:
    """Retaliation alerts and their level on the escalation ladder."""
    with store(db, read_only=True) as (_, s):
        if escalate_on is not None:
            climbed = retaliation.escalate_overdue(s, escalate_on.date())
            click.echo(f"{len(climbed)} alerts climbed")
        views = [
            retaliation.alert_view(s, a, commission=commission)
            for a in retaliation.alerts(s, open_only=open_only)
        ]
    for v in views:
        line = (
            f"alert {v['alert']}: level {v['level']} ({v['owner']}), opened {v['opened']}, "
            f"deadline {v['deadline']}, resolved {v['resolved'] or '-'}"
        )
        if commission:
            line += f"\n  {v['reason']}"
        click.echo(line)
    click.echo(f"{len(views)} alerts")


@command.command("resolve")
@click.argument("alert_id", type=int)
@click.option("--resolution", required=True)
@click.option("--by", "by", required=True)
@db_option
@domain_errors
def resolve_cmd(alert_id: int, resolution: str, by: str, db: str | None) -> None:
    """Close a retaliation alert with a stated resolution (logged)."""
    with store(db, read_only=True) as (_, s):
        retaliation.resolve(s, alert_id, resolution=resolution, by=by)
    click.echo(f"alert {alert_id} resolved: {resolution}")


@command.command("evaluate")
@click.option("--people", default=3000, show_default=True)
@click.option("--cliques", "n_cliques", default=20, show_default=True)
@click.option("--seeds", default=3, show_default=True, help="How many generated organisations.")
@domain_errors
def evaluate_cmd(people: int, n_cliques: int, seeds: int) -> None:
    """Detection rates on generated organisations with planted cliques and rigged appointments."""
    click.echo(
        "seed  people  cliques found/planted  false alarms  "
        "rigged flagged k=1/k=2  fair flagged k=1/k=2"
    )
    for seed in range(seeds):
        org = appt.synthetic_organisation(people, cliques=n_cliques, seed=seed)
        r = appt.evaluate_synthetic(org, ks=(1, 2))
        a1, a2 = r["appointments"][1], r["appointments"][2]
        found = f"{r['cliques_found']}/{r['planted_cliques']}"
        click.echo(
            f"{seed:>4}  {r['people']:>6}  {found:>12}           "
            f"  {r['clique_false_alarms']:>12}  {a1['rigged_flagged']:>9.1%}/"
            f"{a2['rigged_flagged']:<6.1%}        {a1['fair_flagged']:>6.1%}/"
            f"{a2['fair_flagged']:.1%}"
        )
