"""``gosplan integrity …``: integrity records from the public log — show, export, recompute.

``show`` prints the overview (sorted by change over time, never by level) or
one organisation's record; ``export`` writes the whole record as JSON or CSV;
``recompute`` rebuilds it from an exported public log alone (verified first)
and, with ``--compare``, checks it against the record the store serves.
``finding`` and ``workforce`` write the commission's rulings and the
worker-years behind the rates, both to the public log, each signed with the
acting member's own key (``--key``, their share file); ``record`` logs such a
record signed elsewhere (``--out``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from gosplan.cli._common import domain_errors, echo_json, jsonable
from gosplan.cli.log import db_option, read_key, store, write_csv
from gosplan.errors import ValidationError

_GRANULARITY = click.option(
    "--granularity",
    type=click.Choice(["year", "quarter", "month"]),
    default="quarter",
    show_default=True,
    help="Length of the periods of the record.",
)


def _config(granularity: str) -> Any:
    from gosplan.analysis.integrity import IntegrityConfig

    return IntegrityConfig(granularity=granularity)  # type: ignore[arg-type]


def _dump(data: Any, path: str) -> None:
    """JSON to ``path``, or to standard output (``-``) as every ``--json`` prints it."""
    if path == "-":
        echo_json(data)
        return
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")
    click.echo(f"wrote the integrity record to {path}", err=True)


@click.group("integrity")
def command() -> None:
    """Integrity records: established events per 1 000 worker-years, over time, from the log."""


@command.command("show")
@click.argument("org", required=False)
@_GRANULARITY
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@db_option
@domain_errors
def show_cmd(org: str | None, granularity: str, as_json: bool, db: str | None) -> None:
    """The overview (by change over time), or ORG's record with its evidence."""
    from gosplan.services import integrity

    with store(db, read_only=True) as (_, s):
        rec = integrity.served_record(s, _config(granularity))
    if org is not None:
        try:
            data = rec.for_org(org)
        except KeyError as exc:
            raise ValidationError(str(exc.args[0])) from None
        if as_json:
            _dump(data, "-")
            return
        click.echo(f"{data['name']} ({org}): integrity record by {granularity}")
        for t in data["trends"]:
            click.echo(
                f"  {t['kind']}: {t['trend']}"
                + (f"; change points {', '.join(t['change_points'])}" if t["change_points"] else "")
            )
        for r in data["series"]:
            if r["count"]:
                click.echo(
                    f"  {r['period']} {r['kind']}: {r['count']} events over "
                    f"{r['worker_years']:.1f} worker-years — {r['verdict']}"
                )
        for e in data["events"]:
            click.echo(
                f"  evidence {e['day']} {e['kind']}: log entries "
                f"{', '.join(map(str, e['evidence']))}"
            )
        return
    ov = rec.overview()
    if as_json:
        _dump(
            {
                "granularity": granularity,
                "log_size": rec.log_size,
                "organisations": json.loads(ov.to_json(orient="records")),
            },
            "-",
        )
        return
    if ov.empty:
        click.echo("no organisation has an integrity record yet")
        return
    click.echo("organisations by change against their own past (worst change first):")
    for r in ov.to_dict("records"):
        rate = (
            "—"
            if r["rate_last_period"] != r["rate_last_period"]
            else f"{r['rate_last_period']:.1f} ({r['rate_low']:.1f}–{r['rate_high']:.1f})"
        )
        click.echo(
            f"{r['org']}\t{r['last_period']}\t{r['events_last_period']} events\t"
            f"{rate} per 1 000 worker-years\tworse: {', '.join(r['worsened']) or '—'}"
            f"\tbetter: {', '.join(r['improved']) or '—'}"
        )


@command.command("export")
@_GRANULARITY
@click.option(
    "--json",
    "json_path",
    default=None,
    metavar="PATH",
    help="Write the whole record as JSON to PATH ('-' for standard output).",
)
@click.option(
    "--csv",
    "csv_path",
    default=None,
    metavar="PATH",
    help="Write the table (org, period, kind, count, rate, interval) as CSV.",
)
@db_option
@domain_errors
def export_cmd(
    granularity: str, json_path: str | None, csv_path: str | None, db: str | None
) -> None:
    """Write every organisation's record (JSON with evidence, or the CSV table)."""
    from gosplan.services import integrity

    if not json_path and not csv_path:
        raise ValidationError(
            "say where to write: --json PATH or --csv PATH ('-' for standard output)."
        )
    with store(db, read_only=True) as (_, s):
        rec = integrity.served_record(s, _config(granularity))
    if json_path:
        _dump(rec.to_json(), json_path)
    if csv_path:
        cols = list(rec.table.columns)
        write_csv(
            csv_path, cols, rec.table.astype(object).where(rec.table.notna(), "").values.tolist()
        )


@command.command("recompute")
@click.argument("log_path", type=click.Path(exists=True, dir_okay=False))
@_GRANULARITY
@click.option("--public-key", default=None, help="The log's public key (hex, or a file).")
@click.option(
    "--compare",
    is_flag=True,
    help="Also compare with the record the store serves; exit 1 on any difference.",
)
@click.option(
    "--json",
    "json_path",
    default=None,
    metavar="PATH",
    help="Write the recomputed record as JSON to PATH ('-' for standard output).",
)
@db_option
@domain_errors
def recompute_cmd(
    log_path: str,
    granularity: str,
    public_key: str | None,
    compare: bool,
    json_path: str | None,
    db: str | None,
) -> None:
    """Rebuild every record from an exported public log alone (verified first)."""
    from gosplan.services import integrity

    cfg = _config(granularity)
    rec = integrity.recompute_from_export(log_path, cfg, trusted_key=read_key(public_key))
    click.echo(
        f"recomputed {len(rec.orgs)} organisations' records from {rec.log_size} log entries",
        err=True,
    )
    if json_path:
        _dump(rec.to_json(), json_path)
    if compare:
        with store(db, read_only=True) as (_, s):
            served = integrity.served_record(s, cfg)
        problems = integrity.compare(served, rec)
        if problems:
            for p in problems[:50]:
                click.echo(f"DIFFERS: {p}", err=True)
            raise click.exceptions.Exit(1)
        click.echo("the served record equals the one recomputed from the export", err=True)


_SIGNER = (
    click.option(
        "--key",
        "key_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Your own share file (commission member): its signing key signs the record, "
        "and you are who acts; nobody can act in another's name.",
    ),
    click.option(
        "--passphrase-file",
        default=None,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Passphrase of a protected share file.",
    ),
    click.option(
        "--out",
        "out",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Only write the signed record to OUT (offline), to log later with "
        "'gosplan integrity record OUT'.",
    ),
)


def _signer(func: Any) -> Any:
    for option in reversed(_SIGNER):
        func = option(func)
    return func


def _share(key_path: Path, passphrase_file: Path | None) -> Any:
    from gosplan.services import commission

    phrase = passphrase_file.read_text(encoding="utf-8").rstrip("\n") if passphrase_file else None
    return commission.read_share(key_path, phrase)


def _log_signed(
    record: dict[str, Any],
    out: Path | None,
    db: str | None,
    what: str,
    check_units: list[str] | None = None,
) -> None:
    from gosplan.services import integrity
    from gosplan.services.integrity_workforce import cross_check_workforce

    if out is not None:
        out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"signed {what} by {record.get('by')} written to {out}")
        return
    with store(db) as (settings, s):
        idx = integrity.record_signed(s, record, settings)
        check = None
        if check_units:  # a declaration is checked against the approved hours at once
            check = cross_check_workforce(
                s,
                now=dt.datetime.now(dt.UTC),
                tolerance=settings.integrity_workforce_tolerance,
                units=check_units,
            )
    click.echo(f"{what} by {record.get('by')} logged as entry {idx}")
    if check is not None and not check.success:
        click.echo(f"ALERT: {check.message}", err=True)


@command.command("finding")
@click.argument("unit")
@click.option(
    "--kind",
    required=True,
    help="infringement, input_overuse, rigged_appointment, retaliation or public_alert.",
)
@click.option(
    "--outcome",
    required=True,
    type=click.Choice(["upheld", "dismissed", "explained", "outside_control"]),
)
@click.option(
    "--evidence",
    required=True,
    metavar="N[,N…]",
    help="Indices of the public log entries the finding rests on.",
)
@click.option("--reason", required=True, help="Why, in words.")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day of the ruling (default today, UTC).",
)
@_signer
@db_option
@domain_errors
def finding_cmd(
    unit: str,
    kind: str,
    outcome: str,
    evidence: str,
    reason: str,
    day: dt.datetime | None,
    key_path: Path,
    passphrase_file: Path | None,
    out: Path | None,
    db: str | None,
) -> None:
    """Record the commission's ruling on evidence in the log, signed with your own key
    (nobody rules on their own organisation or on evidence naming them)."""
    from gosplan.services import integrity

    try:
        ev = [int(x) for x in evidence.replace(" ", "").split(",") if x]
    except ValueError:
        raise ValidationError(
            f"--evidence must be log indices separated by commas; got {evidence!r}."
        ) from None
    when = day.date() if day else dt.datetime.now(dt.UTC).date()
    record = integrity.sign_finding(
        _share(key_path, passphrase_file),
        unit=unit,
        kind=kind,
        outcome=outcome,
        evidence=ev,
        reason=reason,
        day=when,
    )
    _log_signed(record, out, db, "finding")


@command.command("workforce")
@click.argument("unit")
@click.argument("period")
@click.argument("worker_years", type=float)
@_signer
@db_option
@domain_errors
def workforce_cmd(
    unit: str,
    period: str,
    worker_years: float,
    key_path: Path,
    passphrase_file: Path | None,
    out: Path | None,
    db: str | None,
) -> None:
    """Log the worker-years UNIT worked in PERIOD (YYYY, YYYY-Qn or YYYY-MM), signed with
    your own key (nobody declares for their own organisation)."""
    from gosplan.services import integrity

    record = integrity.sign_workforce(
        _share(key_path, passphrase_file),
        unit=unit,
        period=period,
        worker_years=worker_years,
        day=dt.datetime.now(dt.UTC).date(),
    )
    _log_signed(record, out, db, "workforce", check_units=[unit])


@command.command("check-workforce")
@click.option(
    "--now",
    type=click.DateTime(),
    default=None,
    help="The server's time for alerts opened (default now, UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@db_option
@domain_errors
def check_workforce_cmd(now: dt.datetime | None, as_json: bool, db: str | None) -> None:
    """Compare every declared workforce with the hours approved for it; a gap beyond
    GOSPLAN_INTEGRITY_WORKFORCE_TOLERANCE opens an alert for the control commission."""
    from gosplan.services.integrity_workforce import cross_check_workforce

    with store(db) as (settings, s):
        result = cross_check_workforce(
            s,
            now=now or dt.datetime.now(dt.UTC),
            tolerance=settings.integrity_workforce_tolerance,
        )
    if as_json:
        echo_json(result.to_json())
    else:
        click.echo(result.message)


@command.command("record")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@domain_errors
def record_cmd(path: Path, db: str | None) -> None:
    """Log a signed finding or workforce record written with --out (checked against the
    commission roster: the signer is who acts)."""
    from gosplan.services import integrity

    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path}: not a signed record ({exc}).") from exc
    if not isinstance(record, dict):
        raise ValidationError(f"{path}: not a signed record (expected a JSON object).")
    units = [str(record.get("unit"))] if record.get("format") == integrity.WORKFORCE_FORMAT else []
    _log_signed(record, None, db, "signed record", check_units=units)
