"""What the ``gosplan accounts`` commands share: the group, the store, keys and number formats.

Every command takes ``--db URL`` (default: ``GOSPLAN_DATABASE_URL`` or
``sqlite:///gosplan.db``); the store is migrated to the newest schema first.
Posting commands take ``--key``: an idempotency key (a fresh one is made and
printed when omitted, so a retried command can reuse it and post only once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import click

from gosplan.cli._common import (
    console,
    err_console,
)
from gosplan.cli._params import DecimalText
from gosplan.config import Settings
from gosplan.services.accounts import Accounts, Deduction

F = TypeVar("F", bound=Callable[..., Any])

#: the dearest a good may be listed at, in hours per unit, and the largest price/value
#: ratio: beyond them a number is a typo (and overflows the store's micro-hour integers)
MAX_PRICE_HOURS = 10_000_000
MAX_RATIO = 1_000
#: the most units of a good one command may list, deliver or buy
MAX_UNITS = 1_000_000_000
#: a fund's share of the deduction
SHARE = DecimalText(0, 1)


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
