"""What the public pages show, summed up in a few numbers read in one round trip (issue 16).

A page cached by the web tier is keyed by the *heads* of the tables it reads: for a table
with an integer key, its newest key (rows of these tables are added, never rewritten, or
their rewrites come with a new row elsewhere: a balance with its transaction, a stock with
its move); for the few tables whose rows do change, a count that the change moves (a
proposal's closing, that is an adoption). The public log's size and its newest signed head
stand for everything the log records.

:func:`read_heads` reads every head in ONE statement of scalar subqueries, each an index
lookup (or, for the counts, a scan of a small table).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Engine, Integer, Select, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement

from gosplan.storage.base import Base

#: pseudo-tables: heads that are not a table's newest key
LOG = "publiclog_state"
ADOPTED = "decision_proposal.closed"
OPEN_PERIODS = "acct_period.open"
ELECTORATE = "web_user.electorate"
#: the reversals among the ledger's transactions (a purchase adds a transaction, never one
#: of these: a page that shows whether work was reversed need not change with every sale)
REVERSALS = "acct_transaction.reversals"


def _all_tables() -> dict[str, Any]:
    import importlib
    import pkgutil

    import gosplan.storage as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_") and mod.name != "migrations":
            importlib.import_module(f"gosplan.storage.{mod.name}")
    return dict(Base.metadata.tables)


def _head(name: str, tables: Mapping[str, Any]) -> ColumnElement[Any]:
    if name == LOG:
        t = tables[LOG]
        return select(t.c.size).where(t.c.id == 1).scalar_subquery()
    if name == ADOPTED:
        t = tables["decision_proposal"]
        return select(func.count(t.c.closed_at)).scalar_subquery()
    if name == ELECTORATE:  # an enrolment changes a row, adds none
        t = tables["web_user"]
        return (
            select(func.count())
            .select_from(t)
            .where(t.c.enrolled_at.is_not(None) | t.c.account.is_not(None))
            .scalar_subquery()
        )
    if name == REVERSALS:  # an index range: `reverses_id` is unique, so indexed
        t = tables["acct_transaction"]
        return (
            select(func.count())
            .select_from(t)
            .where(t.c.reverses_id.is_not(None))
            .scalar_subquery()
        )
    if name == OPEN_PERIODS:
        t = tables["acct_period"]
        return select(func.count()).select_from(t).where(t.c.status == "open").scalar_subquery()
    t = tables[name]
    pk: list[Column[Any]] = list(t.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, Integer):
        return select(func.max(pk[0])).scalar_subquery()
    # a text or composite key: the number of rows (these tables are small)
    return select(func.count()).select_from(t).scalar_subquery()


_PSEUDO = (LOG, ADOPTED, OPEN_PERIODS, ELECTORATE, REVERSALS)


def known(names: Iterable[str]) -> list[str]:
    """``names`` that :func:`read_heads` can read; raises ``KeyError`` naming the others."""
    tables = _all_tables()
    bad = [n for n in names if n not in tables and n not in _PSEUDO]
    if bad:
        raise KeyError(f"no table {bad[0]!r} to watch")
    return list(names)


class HeadsQuery:
    """The one statement that reads the heads of ``names`` (each a table, :data:`LOG` or
    :data:`ADOPTED`), built once."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = known(dict.fromkeys(names))
        tables = _all_tables()
        self.stmt = select(*(_head(n, tables).label(f"h{i}") for i, n in enumerate(self.names)))

    def read(self, engine: Engine) -> dict[str, int]:
        """Every head, in one round trip; an empty table's head is 0."""
        if not self.names:
            return {}
        with engine.connect() as conn:
            row = conn.execute(self.stmt).one()
        return {n: int(v or 0) for n, v in zip(self.names, row, strict=True)}


@functools.cache
def _account_head_statement() -> Select[Any]:
    from gosplan.storage.accounts import Account, Period, Posting

    newest_posting = (
        select(func.max(Posting.id)).where(Posting.account_id == Account.id).scalar_subquery()
    )
    open_period = select(func.max(Period.id)).where(Period.status == "open").scalar_subquery()
    newest_period = select(func.max(Period.id)).scalar_subquery()
    return select(Account.id, Account.balance, newest_posting, open_period, newest_period).where(
        Account.code == bindparam("code")
    )


def account_head(engine: Engine, code: str) -> tuple[Any, ...] | None:
    """What one person's statement shows, summed up in ONE round trip: the account's id and
    balance, its newest posting (every line of a statement is a posting to it: a purchase,
    credited hours, a reversal), the open period and the newest period (a period opened or
    closed moves one of them). None if there is no account ``code``."""
    with engine.connect() as conn:
        row = conn.execute(_account_head_statement(), {"code": code}).first()
    return None if row is None else tuple(row)
