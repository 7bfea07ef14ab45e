"""``gosplan accounts …``: labour-time accounts from the command line (thin over the service).

Every command takes ``--db URL`` (default: ``GOSPLAN_DATABASE_URL`` or
``sqlite:///gosplan.db``); the store is migrated to the newest schema first.
Posting commands take ``--key``: an idempotency key (a fresh one is made and
printed when omitted, so a retried command can reuse it and post only once).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd
from rich.table import Table

from gosplan.cli._common import (
    console,
    data_on_stdout,
    domain_errors,
    echo_json,
    err_console,
    json_option,
    write_frame_csv,
)
from gosplan.cli._params import YEAR, DecimalText, FiniteFloat, OutputPath, count
from gosplan.config import Settings
from gosplan.services.accounts import Accounts, Deduction, catalogue_from_economy

F = TypeVar("F", bound=Callable[..., Any])

#: the dearest a good may be listed at, in hours per unit, and the largest price/value
#: ratio: beyond them a number is a typo (and overflows the store's micro-hour integers)
MAX_PRICE_HOURS = 10_000_000
MAX_RATIO = 1_000
#: the most units of a good one command may list, deliver or buy
MAX_UNITS = 1_000_000_000
#: a fund's share of the deduction
SHARE = DecimalText(0, 1)


def _db(func: F) -> F:
    return click.option(
        "--db",
        "db",
        default=None,
        metavar="URL",
        help="Database URL (default: GOSPLAN_DATABASE_URL, else sqlite:///gosplan.db).",
    )(func)


def _key(func: F) -> F:
    return click.option(
        "--key",
        default=None,
        help="Idempotency key: the same key posts once (default: a new one, printed).",
    )(func)


def _store(db: str | None, *, read_only: bool = False) -> Accounts:
    """The ledger at ``db``; a command that only reads never creates or migrates a store."""
    from gosplan.storage.base import open_store

    settings = Settings()
    return Accounts(
        open_store(db or settings.database_url, create=not read_only),
        max_hours_per_period=Decimal(repr(settings.accounts_max_hours_per_period)),
    )


def _new_key(key: str | None, what: str, *, quiet: bool = False) -> str:
    if key:
        return key
    made = f"cli-{what}-{uuid.uuid4().hex[:16]}"
    (err_console if quiet else console).print(f"[dim]idempotency key {made}[/dim]")
    return made


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _h(x: Decimal) -> str:
    """Hours with thousands separators and no trailing zeros."""
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def _economy(source: str, year: int | None) -> Any:
    from gosplan.readers.registry import open_source

    return open_source(source, year=year)


def _plan_deduction(economy: Any) -> Deduction:
    """The deduction of the economy's current plan (its own final demand as targets)."""
    from gosplan.planning.leontief import leontief_plan
    from gosplan.planning.targets import purpose_bundles

    plan = leontief_plan(economy, purpose_bundles(economy))
    return Deduction.from_plan(plan)


@click.group("accounts")
def command() -> None:
    """Labour-time accounts: hours in (less the social funds' deduction), goods out."""


# --------------------------------------------------------------------------- accounts
@command.command("open")
@click.argument("kind", type=click.Choice(["person", "enterprise", "fund"]))
@click.argument("codes", nargs=-1, required=True)
@click.option("--name", default="", help="Display name (with a single CODE).")
@_db
@domain_errors
def open_cmd(kind: str, codes: tuple[str, ...], name: str, db: str | None) -> None:
    """Open one or more accounts of KIND (fund codes are 'fund:<name>')."""
    acc = _store(db)
    for code in codes:
        info = acc.open_account(code, kind, name if len(codes) == 1 else "")
        console.print(f"opened {info.kind} account {info.code}")


@command.command("list")
@click.option("--kind", type=click.Choice(["person", "enterprise", "fund", "system"]))
@json_option
@_db
@domain_errors
def list_cmd(kind: str | None, as_json: bool, db: str | None) -> None:
    """Accounts and their balances (hours)."""
    if as_json:
        echo_json({"accounts": list(_store(db).accounts(kind))})
        return
    table = Table(title="labour-time accounts (hours)")
    for col in ("account", "kind", "name"):
        table.add_column(col)
    table.add_column("balance", justify="right")
    for a in _store(db, read_only=True).accounts(kind):
        table.add_row(a.code, a.kind, a.name, _h(a.balance))
    console.print(table)


# --------------------------------------------------------------------------- periods
@command.group("period")
def period_group() -> None:
    """Accounting periods and the deduction for social funds in force in each."""


@period_group.command("open")
@click.argument("code")
@click.option(
    "--source",
    default="default",
    show_default=True,
    help="Economy whose current plan gives the deduction (see 'gosplan sources').",
)
@click.option("--year", type=YEAR, default=None, help="Year, for multi-year sources.")
@click.option(
    "--rate",
    default=None,
    type=DecimalText(0, 1, max_open=True),
    help="Give the deduction rate instead (e.g. 0.3) ...",
)
@click.option(
    "--share",
    "shares",
    multiple=True,
    metavar="FUND=SHARE",
    help="... and its split (repeatable), e.g. --share health=0.5.",
)
@_db
@domain_errors
def period_open(
    code: str,
    source: str,
    year: int | None,
    rate: str | None,
    shares: tuple[str, ...],
    db: str | None,
) -> None:
    """Open period CODE with the deduction of the current plan (or one given)."""
    if rate is not None:
        parsed: dict[str, Decimal] = {}
        for item in shares:
            fund, sep, val = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} is not FUND=SHARE", param_hint="--share")
            try:
                parsed[fund.strip()] = Decimal(SHARE.convert(val, None, None))
            except click.BadParameter as exc:
                raise click.BadParameter(f"{item!r}: {exc.message}", param_hint="--share") from None
        ded = Deduction(Decimal(rate), parsed, source="given on the command line")
    else:
        ded = _plan_deduction(_economy(source, year))
    info = _store(db).open_period(code, ded)
    console.print(f"opened period {info.code}: {info.deduction.describe()}")
    if info.deduction.source:
        console.print(f"[dim]source: {info.deduction.source}[/dim]")


@period_group.command("close")
@click.argument("code")
@_db
@domain_errors
def period_close(code: str, db: str | None) -> None:
    """Close period CODE (refused while recorded hours await approval)."""
    info = _store(db).close_period(code)
    totals = (info.summary or {}).get("totals_hours", {})
    console.print(
        f"closed period {info.code}: "
        + ", ".join(f"{k.replace('_', ' ')} {v} h" for k, v in totals.items())
    )


@period_group.command("list")
@_db
@domain_errors
def period_list(db: str | None) -> None:
    """Periods, their status and deduction."""
    for p in _store(db, read_only=True).periods():
        console.print(f"{p.code}  {p.status:<6}  {p.deduction.describe()}")


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
@_key
@_db
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
@_db
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
@_key
@_db
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
@_key
@_db
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


@command.group("member")
def member_group() -> None:
    """Who belongs to an enterprise (hours are recorded only for its members)."""


@member_group.command("add")
@click.argument("enterprise")
@click.argument("persons", nargs=-1, required=True)
@click.option("--by", "by", required=True, help="Who makes the change (public).")
@_db
@domain_errors
def member_add(enterprise: str, persons: tuple[str, ...], by: str, db: str | None) -> None:
    """PERSONS join ENTERPRISE (each change is a public event)."""
    acc = _store(db)
    for person in persons:
        changed = acc.join(enterprise, person, by=by)
        console.print(f"{person} {'joined' if changed else 'is already a member of'} {enterprise}")


@member_group.command("remove")
@click.argument("enterprise")
@click.argument("persons", nargs=-1, required=True)
@click.option("--by", "by", required=True, help="Who makes the change (public).")
@_db
@domain_errors
def member_remove(enterprise: str, persons: tuple[str, ...], by: str, db: str | None) -> None:
    """PERSONS leave ENTERPRISE (each change is a public event)."""
    acc = _store(db)
    for person in persons:
        changed = acc.leave(enterprise, person, by=by)
        console.print(f"{person} {'left' if changed else 'is not a member of'} {enterprise}")


@member_group.command("list")
@click.argument("enterprise")
@click.option("--json", "as_json", is_flag=True)
@_db
@domain_errors
def member_list(enterprise: str, as_json: bool, db: str | None) -> None:
    """The current members of ENTERPRISE."""
    members = _store(db).members(enterprise)
    if as_json:
        _json(members)
        return
    for m in members:
        console.print(m)


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
@_db
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


# --------------------------------------------------------------------------- goods
@command.group("catalogue", invoke_without_command=True)
@_db
@click.pass_context
@domain_errors
def catalogue_group(ctx: click.Context, db: str | None) -> None:
    """Consumer goods priced in hours (labour value × price/value ratio)."""
    if ctx.invoked_subcommand is not None:
        return
    cat = _store(db, read_only=True).catalogue()
    table = Table(title="catalogue (prices in hours)")
    for col in ("good", "unit", "value", "ratio", "price", "stock"):
        table.add_column(col, justify="left" if col in ("good", "unit") else "right")
    for code, g in cat.iterrows():
        table.add_row(
            str(code),
            str(g["unit"]),
            f"{g['labour_value']}",
            f"{g['ratio']}",
            _h(g["price"]),
            f"{g['stock']:,}",
        )
    console.print(table)


@catalogue_group.command("load")
@click.option(
    "--source",
    default="default",
    show_default=True,
    help="Economy whose products with personal consumption become goods.",
)
@click.option("--year", type=YEAR, default=None)
@click.option(
    "--personal-hours",
    type=FiniteFloat(0, 1e12, min_open=True),
    required=True,
    help="Hours persons will be able to spend: stocks are sized to match.",
)
@_db
@domain_errors
def catalogue_load(source: str, year: int | None, personal_hours: float, db: str | None) -> None:
    """List the consumer goods of an economy, priced at their labour values."""
    specs = catalogue_from_economy(_economy(source, year), personal_hours=personal_hours)
    goods = _store(db).add_goods(specs, reason=f"listed from {source} at labour value")
    free = [f"{g.name} ({g.free_fund})" for g in goods if g.free_fund]
    console.print(
        f"listed {len(goods)} goods from {source}"
        + (f"; provided free for all, never sold: {', '.join(free)}" if free else "")
    )


@catalogue_group.command("load-goods")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.option(
    "--source",
    default="default",
    show_default=True,
    help="Economy whose products the goods belong to (for labour values).",
)
@click.option("--year", type=YEAR, default=None)
@_db
@domain_errors
def catalogue_load_goods(csv_file: str, source: str, year: int | None, db: str | None) -> None:
    """List a cooperative's real goods from CSV_FILE, sold in their own units.

    Columns: name, unit, product (the economy's product they belong to), and labour_value
    (hours per unit) or output_value (the amount of the product's output one unit is, in the
    economy's currency); optional code and stock.  Goods of what the plan provides free for
    all (health, education) are refused: they are never sold.
    """
    from gosplan.services.accounts import goods_from_csv

    specs = goods_from_csv(csv_file, _economy(source, year))
    goods = _store(db).add_goods(specs, reason=f"listed from {Path(csv_file).name}")
    console.print(f"listed {len(goods)} goods from {csv_file}")


@catalogue_group.command("add")
@click.argument("code")
@click.argument("labour_value", type=DecimalText(0, MAX_PRICE_HOURS, min_open=True))
@click.option("--name", default="")
@click.option("--unit", default="unit", show_default=True)
@click.option("--product", default=None, help="The economy's product it belongs to.")
@click.option("--stock", type=count(0, MAX_UNITS), default=0, show_default=True)
@_db
@domain_errors
def catalogue_add(
    code: str,
    labour_value: str,
    name: str,
    unit: str,
    product: str | None,
    stock: int,
    db: str | None,
) -> None:
    """Add good CODE with LABOUR_VALUE hours per unit."""
    g = _store(db).add_good(
        code, name or code, labour_value, unit=unit, product=product, stock=stock
    )
    console.print(f"listed {g.code}: {_h(g.price)} h per {g.unit}, stock {g.stock}")


@catalogue_group.command("price")
@click.argument("code")
@click.option(
    "--ratio",
    default=None,
    type=DecimalText(0, MAX_RATIO, min_open=True),
    help="New price/value ratio.",
)
@click.option(
    "--labour-value",
    default=None,
    type=DecimalText(0, MAX_PRICE_HOURS, min_open=True),
    help="New labour value (hours per unit).",
)
@click.option("--reason", required=True, help="Why (kept and published).")
@_db
@domain_errors
def catalogue_price(
    code: str, ratio: str | None, labour_value: str | None, reason: str, db: str | None
) -> None:
    """Change a good's price/value ratio or labour value."""
    g = _store(db).reprice(code, ratio=ratio, labour_value=labour_value, reason=reason)
    console.print(f"{g.code}: ratio {g.ratio}, price {_h(g.price)} h per {g.unit}")


@command.command("deliver")
@click.argument("good")
@click.argument("quantity", type=count(1, MAX_UNITS))
@_key
@_db
@domain_errors
def deliver_cmd(good: str, quantity: int, key: str | None, db: str | None) -> None:
    """QUANTITY units of GOOD reach the shops."""
    g = _store(db).deliver(good, quantity, key=_new_key(key, "deliver"))
    console.print(f"{g.code}: stock {g.stock}")


@command.command("buy")
@click.argument("person")
@click.argument("good")
@click.argument("quantity", type=count(1, MAX_UNITS), default=1)
@_key
@_db
@domain_errors
def buy_cmd(person: str, good: str, quantity: int, key: str | None, db: str | None) -> None:
    """PERSON buys QUANTITY of GOOD: the hours are cancelled, the stock falls."""
    acc = _store(db)
    p = acc.buy(person, good, quantity, key=_new_key(key, "buy"))
    console.print(
        f"{p.person} bought {p.quantity} × {p.good} for {_h(p.cost)} h "
        f"(transaction {p.transaction_id})" + (" (already bought)" if p.replayed else "")
    )
    console.print(f"balance {_h(acc.balance(person))} h")


@command.command("reverse")
@click.argument("transaction", type=count(1))
@click.option("--reason", required=True, help="Why (kept for good).")
@_key
@_db
@domain_errors
def reverse_cmd(transaction: int, reason: str, key: str | None, db: str | None) -> None:
    """Correct a mistake: post a transaction reversing TRANSACTION."""
    p = _store(db).reverse(transaction, reason=reason, key=_new_key(key, "reverse"))
    console.print(f"transaction {p.transaction_id}: {p.memo}")


# --------------------------------------------------------------------------- reports
def _asdict(obj: Any) -> dict[str, Any]:
    from gosplan.cli._common import jsonable

    out = jsonable(obj)
    return out if isinstance(out, dict) else {"value": out}


@command.command("statement")
@click.argument("code")
@click.option(
    "--csv",
    "csv_path",
    type=OutputPath(),
    help="Write the statement as CSV ('-' for standard output).",
)
@json_option
@_db
@domain_errors
def statement_cmd(code: str, csv_path: str | None, as_json: bool, db: str | None) -> None:
    """The statement of account CODE, with the deduction in force on each line."""
    st = _store(db, read_only=True).statement(code)
    if as_json:
        echo_json(
            {
                "account": st.account,
                "lines": st.lines,
                "deductions": {
                    p: {"text": d.describe(), **_asdict(d)} for p, d in st.deductions.items()
                },
            }
        )
        return
    if csv_path == "-":
        click.echo(st.to_csv(), nl=False)
        return
    if csv_path:
        Path(csv_path).write_text(st.to_csv(), encoding="utf-8")
        console.print(f"wrote {csv_path}")
    table = Table(title=f"{st.account.kind} account {st.account.code} (hours)")
    cols = ("tx", "posted", "period", "kind", "memo", "worked", "deducted", "amount", "balance")
    for col in cols:
        table.add_column(
            col, justify="left" if col in ("posted", "period", "kind", "memo") else "right"
        )
    for ln in st.lines:  # worked: the holder's own hours (the memo speaks of the approval)
        table.add_row(
            str(ln.transaction_id),
            ln.posted_at,
            ln.period or "",
            ln.kind,
            ln.memo,
            "" if ln.gross is None else _h(ln.gross),
            "" if ln.gross is None else _h(sum(ln.deducted.values(), Decimal(0))),
            _h(ln.amount),
            _h(ln.balance),
        )
    console.print(table)
    console.print(f"balance: {_h(st.account.balance)} h")
    for period, ded in st.deductions.items():
        console.print(f"period {period}: {ded.describe()}")


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
@_db
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


@command.command("check")
@_db
@domain_errors
def check_cmd(db: str | None) -> None:
    """Check the ledger: every transaction sums to zero, caches equal their sums."""
    problems = _store(db, read_only=True).check_integrity()
    if problems:
        for p in problems:
            console.print(f"[red]{p}[/red]")
        raise click.ClickException(f"{len(problems)} problem(s) in the ledger")
    console.print(
        "ledger consistent: every transaction sums to zero; balances and stocks "
        "equal their postings and moves"
    )
