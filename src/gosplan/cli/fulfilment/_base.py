"""What the ``gosplan fulfilment`` commands share: the group, the clock, the store, tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click
import numpy as np
import pandas as pd
from rich.table import Table

from gosplan.config import Settings
from gosplan.errors import ValidationError

F = TypeVar("F", bound=Callable[..., Any])


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
