"""``gosplan accounts record|work|approve|reject|reconcile``: hours, from record to credit."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import click
from rich.table import Table

from gosplan.cli._common import (
    console,
    db_option,
    domain_errors,
    key_option,
)
from gosplan.cli.accounts._base import (
    F,
    _h,
    _json,
    _new_key,
    _store,
    command,
)
from gosplan.services.accounts import Accounts


# --------------------------------------------------------------------------- work
def _problems(path: str, problems: list[str]) -> click.ClickException:
    shown = "\n".join(problems[:20])
    more = f"\n(and {len(problems) - 20} more)" if len(problems) > 20 else ""
    return click.ClickException(
        f"{len(problems)} problem(s) in {path}; nothing was recorded:\n{shown}{more}"
    )


def _hours_csv(path: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    """``(line, person, hours)`` of a workforce's CSV and ``(line, problem)`` of every bad
    row (naming the file and line): hours that are no positive number or above one
    record's cap, an empty person, the same person twice."""
    from gosplan.core.validation import decode_text
    from gosplan.errors import ValidationError
    from gosplan.services.accounts import MAX_HOURS_PER_RECORD, to_units

    try:
        text = decode_text(Path(path).read_bytes(), what=path)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"person", "hours"} - set(reader.fieldnames or [])
    if missing:
        raise click.ClickException(
            f"{path}: needs columns person,hours; missing {sorted(missing)}."
        )
    rows: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    for r in reader:
        line = reader.line_num
        person, hours = (r.get("person") or "").strip(), (r.get("hours") or "").strip()
        rows.append((line, person, hours))
        if not person:
            problems.append((line, f"{path} line {line}: no person"))
        elif person in first:
            problems.append(
                (
                    line,
                    f"{path} line {line}: person {person!r} appears again "
                    f"(first at line {first[person]}); give each person's "
                    "hours once per file",
                )
            )
        else:
            first[person] = line
        try:
            units = to_units(hours, field="hours", what=f"person {person!r}")
        except ValidationError as exc:
            problems.append((line, f"{path} line {line}: {exc}"))
            continue
        if units > MAX_HOURS_PER_RECORD * 1_000_000:
            problems.append(
                (
                    line,
                    f"{path} line {line}: `hours` for person {person!r} is "
                    f"{hours}; one record may carry at most "
                    f"{MAX_HOURS_PER_RECORD} hours.",
                )
            )
    if not rows:
        raise click.ClickException(f"{path}: no rows below the header person,hours.")
    return rows, problems


def _unknown_persons(
    path: str, rows: list[tuple[int, str, str]], acc: Accounts
) -> list[tuple[int, str]]:
    """A problem for every person of the file without a person account."""
    known = {a.code for a in acc.accounts("person")}
    return [
        (
            line,
            f"{path} line {line}: no person account {person!r} (open it first with "
            f"`gosplan accounts open person {person}`)",
        )
        for line, person, _ in rows
        if person and person not in known
    ]


@command.command("record")
@click.argument("enterprise")
@click.option("--period", required=True, help="Period the hours were worked in.")
@click.option("--person", default=None, help="The worker (with --hours).")
@click.option("--hours", default=None, help="Hours worked (exact decimal, e.g. 37.5).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False),
    help="A workforce's hours: CSV with columns person,hours.",
)
@click.option(
    "--by",
    "by",
    required=True,
    help="Who records the hours (kept with each record; they may not approve them).",
)
@key_option
@db_option
@domain_errors
def record_cmd(
    enterprise: str,
    period: str,
    person: str | None,
    hours: str | None,
    csv_path: str | None,
    by: str,
    key: str | None,
    db: str | None,
) -> None:
    """ENTERPRISE records hours its members worked (credited once approved).

    Only for members of ENTERPRISE (gosplan accounts member add), and within the cap of hours
    per person and period (GOSPLAN_ACCOUNTS_MAX_HOURS_PER_PERIOD)."""
    if csv_path:
        rows, problems = _hours_csv(csv_path)
        acc = _store(db)
        problems += _unknown_persons(csv_path, rows, acc)
        if problems:
            problems.sort(key=lambda p: p[0])
            raise _problems(csv_path, [text for _, text in problems])
        recs = acc.record_hours_many(
            enterprise,
            period,
            [(p, h) for _, p, h in rows],
            key=_new_key(key, "record"),
            recorded_by=by,
        )
        total = sum((r.hours for r in recs), Decimal(0))
        console.print(
            f"recorded {len(recs)} record(s), {_h(total)} h, for {enterprise} "
            f"in {period}; awaiting approval"
        )
        return
    if person is None or hours is None:
        raise click.UsageError("give --person and --hours, or --csv FILE")
    acc = _store(db)
    rec = acc.record_hours(
        enterprise, person, period, hours, key=_new_key(key, "record"), recorded_by=by
    )
    console.print(
        f"recorded {_h(rec.hours)} h of {rec.person} in {rec.enterprise} "
        f"({rec.period}) as record {rec.id}; {rec.status}"
        + (" (already recorded)" if rec.replayed else "")
    )


@command.command("work")
@click.argument("period")
@click.option("--enterprise", default=None, help="Only this enterprise's records.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@db_option
@domain_errors
def work_cmd(period: str, enterprise: str | None, as_json: bool, db: str | None) -> None:
    """Work records of PERIOD: number, enterprise, person, hours, status, who decided."""
    recs = _store(db).work(period, enterprise)
    if as_json:
        _json([dataclasses.asdict(r) | {"hours": str(r.hours)} for r in recs])
        return
    table = Table(
        "record", "enterprise", "person", "hours", "status", "recorded by", "decided by", "reason"
    )
    for r in recs:
        table.add_row(
            str(r.id),
            r.enterprise,
            r.person,
            _h(r.hours),
            r.status,
            r.recorded_by,
            r.decided_by,
            r.reason,
        )
    console.print(table)


def _actor(func: F) -> F:
    func = click.option(
        "--account", "account", default=None, help="The acting person's own labour account, if any."
    )(func)
    return click.option(
        "--as",
        "actor",
        required=True,
        help="Who acts (kept for good; nobody decides on hours that credit "
        "them or that they recorded).",
    )(func)


@command.command("approve")
@click.argument("records", nargs=-1, type=int, required=True)
@_actor
@click.option("--json", "as_json", is_flag=True, help="Print the transactions as JSON.")
@key_option
@db_option
@domain_errors
def approve_cmd(
    records: tuple[int, ...],
    actor: str,
    account: str | None,
    as_json: bool,
    key: str | None,
    db: str | None,
) -> None:
    """Approve work RECORDS one by one: each credits its worker and the social funds.

    A record that credits the approver, or that the approver recorded, is refused."""
    acc = _store(db)
    base = _new_key(key, "approve", quiet=as_json)
    done = []
    for rid in records:
        k = base if len(records) == 1 else f"{base}:{rid}"
        p = acc.approve_record(rid, key=k, approver=actor, approver_account=account)
        if p.replayed and not as_json:
            console.print(
                f"replayed: key {k!r} already approved this (transaction "
                f"{p.transaction_id}); nothing new was posted"
            )
        done.append(
            {
                "record": rid,
                "transaction": p.transaction_id,
                "memo": p.memo,
                "postings": {c: str(a) for c, a in p.postings.items()},
            }
        )
        if not as_json:
            console.print(f"record {rid}: transaction {p.transaction_id}: {p.memo}")
            for code, amount in p.postings.items():
                console.print(f"  {code:<30} {_h(amount):>16} h")
    if as_json:
        _json(done)


@command.command("reject")
@click.argument("record", type=int)
@click.option("--reason", required=True, help="Why the record is rejected (kept for good).")
@_actor
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@key_option
@db_option
@domain_errors
def reject_cmd(
    record: int,
    reason: str,
    actor: str,
    account: str | None,
    as_json: bool,
    key: str | None,
    db: str | None,
) -> None:
    """Reject work RECORD with a reason: it is never credited."""
    rec = _store(db).reject_record(
        record,
        key=_new_key(key, "reject", quiet=as_json),
        by=actor,
        by_account=account,
        reason=reason,
    )
    if as_json:
        _json(dataclasses.asdict(rec) | {"hours": str(rec.hours)})
        return
    console.print(
        f"record {rec.id} ({_h(rec.hours)} h of {rec.person} in {rec.enterprise}) "
        f"rejected by {rec.decided_by}: {rec.reason}"
    )


@command.command("reconcile")
@click.argument("period")
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day of fulfilment periods to count (default: PERIOD's month, "
    "for periods coded YYYY-MM).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Day after the last (exclusive).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.05,
    show_default=True,
    help="Share of the larger figure a gap may reach unflagged.",
)
@click.option("--no-alert", is_flag=True, help="Report only; open no alerts.")
@click.option("--json", "as_json", is_flag=True)
@db_option
@domain_errors
def reconcile_cmd(
    period: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    tolerance: float,
    no_alert: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Hours credited per enterprise in PERIOD against the hours in its fulfilment reports.

    Exit status 0 when they agree, 3 when a gap is flagged (each gap opens an alert)."""
    from gosplan.services.accounts import reconcile

    res = reconcile(
        _store(db),
        period,
        start=None if start is None else start.date(),
        end=None if end is None else end.date(),
        tolerance=tolerance,
        alert=not no_alert,
    )
    if as_json:
        _json(res.to_dict())
    else:
        table = Table("enterprise", "credited h", "reported h", "gap h", "flagged", "alert")
        for g in res.gaps:
            table.add_row(
                g.enterprise,
                _h(g.credited),
                _h(g.reported),
                _h(g.gap),
                "yes" if g.flagged else "",
                "" if g.alert is None else str(g.alert),
            )
        console.print(table)
        console.print(res.message)
    if not res.success:
        raise SystemExit(3)
