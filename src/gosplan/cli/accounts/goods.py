"""``gosplan accounts catalogue|deliver|buy|reverse|statement``: goods out; statements."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from gosplan.cli._common import (
    console,
    db_option,
    domain_errors,
    echo_json,
    json_option,
    key_option,
)
from gosplan.cli._params import YEAR, DecimalText, FiniteFloat, OutputPath, count
from gosplan.cli.accounts._base import (
    MAX_PRICE_HOURS,
    MAX_RATIO,
    MAX_UNITS,
    _economy,
    _h,
    _new_key,
    _store,
    command,
)
from gosplan.services.accounts import catalogue_from_economy


# --------------------------------------------------------------------------- goods
@command.group("catalogue", invoke_without_command=True)
@db_option
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
@db_option
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
@db_option
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
@db_option
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
@db_option
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
@key_option
@db_option
@domain_errors
def deliver_cmd(good: str, quantity: int, key: str | None, db: str | None) -> None:
    """QUANTITY units of GOOD reach the shops."""
    g = _store(db).deliver(good, quantity, key=_new_key(key, "deliver"))
    console.print(f"{g.code}: stock {g.stock}")


@command.command("buy")
@click.argument("person")
@click.argument("good")
@click.argument("quantity", type=count(1, MAX_UNITS), default=1)
@key_option
@db_option
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
@key_option
@db_option
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
@db_option
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
