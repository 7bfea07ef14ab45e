"""``gosplan accounts open|list|period|member|check``: accounts, periods, members, integrity."""

from __future__ import annotations

from decimal import Decimal

import click
from rich.table import Table

from gosplan.cli._common import (
    console,
    db_option,
    domain_errors,
    echo_json,
    json_option,
)
from gosplan.cli._params import YEAR, DecimalText
from gosplan.cli.accounts._base import (
    SHARE,
    _economy,
    _h,
    _json,
    _plan_deduction,
    _store,
    command,
)
from gosplan.services.accounts import Deduction


# --------------------------------------------------------------------------- accounts
@command.command("open")
@click.argument("kind", type=click.Choice(["person", "enterprise", "fund"]))
@click.argument("codes", nargs=-1, required=True)
@click.option("--name", default="", help="Display name (with a single CODE).")
@db_option
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
@db_option
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
@db_option
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
@db_option
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
@db_option
@domain_errors
def period_list(db: str | None) -> None:
    """Periods, their status and deduction."""
    for p in _store(db, read_only=True).periods():
        console.print(f"{p.code}  {p.status:<6}  {p.deduction.describe()}")


@command.group("member")
def member_group() -> None:
    """Who belongs to an enterprise (hours are recorded only for its members)."""


def _change_members(
    enterprise: str, persons: tuple[str, ...], by: str, db: str | None, *, join: bool
) -> None:
    """Each of ``persons`` joins (or leaves) ``enterprise``; each change is a public event."""
    acc = _store(db)
    change = acc.join if join else acc.leave
    done, not_done = (
        ("joined", "is already a member of") if join else ("left", "is not a member of")
    )
    for person in persons:
        changed = change(enterprise, person, by=by)
        console.print(f"{person} {done if changed else not_done} {enterprise}")


def _members_cmd(name: str, doc: str, *, join: bool) -> None:
    """Register ``gosplan accounts member NAME ENTERPRISE PERSONS... --by WHO``."""

    @member_group.command(name, help=doc)
    @click.argument("enterprise")
    @click.argument("persons", nargs=-1, required=True)
    @click.option("--by", "by", required=True, help="Who makes the change (public).")
    @db_option
    @domain_errors
    def cmd(enterprise: str, persons: tuple[str, ...], by: str, db: str | None) -> None:
        _change_members(enterprise, persons, by, db, join=join)


_members_cmd("add", "PERSONS join ENTERPRISE (each change is a public event).", join=True)
_members_cmd("remove", "PERSONS leave ENTERPRISE (each change is a public event).", join=False)


@member_group.command("list")
@click.argument("enterprise")
@click.option("--json", "as_json", is_flag=True)
@db_option
@domain_errors
def member_list(enterprise: str, as_json: bool, db: str | None) -> None:
    """The current members of ENTERPRISE."""
    members = _store(db).members(enterprise)
    if as_json:
        _json(members)
        return
    for m in members:
        console.print(m)


@command.command("check")
@db_option
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
