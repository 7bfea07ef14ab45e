"""Several writes of the labour-time ledger inside one transaction (:meth:`Accounts.batch`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gosplan.labourtime.records import AccountInfo, Basket, GoodInfo, Posted, Purchase, WorkRecord
from gosplan.labourtime.units import MAX_HOURS_PER_RECORD
from gosplan.storage import accounts_grants as grants_sql
from gosplan.storage import accounts_ledger as ledger_sql
from gosplan.storage import accounts_shop as shop_sql
from gosplan.storage import accounts_work as work_sql

__all__ = ["Batch"]


class Batch:
    """Writes inside one transaction (see :meth:`Accounts.batch`)."""

    def __init__(
        self, session: Session, cap: Decimal | None, max_record: int = MAX_HOURS_PER_RECORD
    ) -> None:
        self._s = session
        self._cap = cap
        self._max_record = max_record

    def record_hours(
        self,
        enterprise: str,
        person: str,
        period: str,
        hours: Decimal | int | str | float,
        *,
        key: str,
        recorded_by: str,
    ) -> WorkRecord:
        return work_sql.record_hours(
            self._s,
            enterprise,
            person,
            period,
            hours,
            key,
            recorded_by,
            self._cap,
            max_record=self._max_record,
        )

    def approve(
        self,
        enterprise: str,
        period: str,
        *,
        key: str,
        approver: str,
        approver_account: str | None = None,
    ) -> Posted:
        return work_sql.approve_enterprise(
            self._s, enterprise, period, key, approver, approver_account, _publisher(self._s)
        )

    def open_account(self, code: str, kind: str, name: str = "") -> AccountInfo:
        return ledger_sql.open_account(self._s, code, kind, name)

    def open_accounts(self, items: Sequence[tuple[str, str, str]]) -> int:
        """Accounts ``[(code, kind, name), ...]``, each as :meth:`open_account` opens it,
        written in bulk; the number opened."""
        from gosplan.storage.accounts_bulk_people import open_accounts

        return open_accounts(self._s, items)

    def join_many(self, pairs: Sequence[tuple[str, str]], *, by: str) -> int:
        """``(enterprise, person)`` memberships, each the event :meth:`Accounts.join`
        records, written in bulk, their public events appended together; the number that
        changed."""
        from gosplan.storage.accounts_bulk_people import join_many

        return join_many(self._s, pairs, by, _publisher_many(self._s))

    def buy(self, person: str, good: str, quantity: int = 1, *, key: str) -> Purchase:
        return shop_sql.buy(self._s, person, good, quantity, key)

    def buy_many(self, lines: Sequence[tuple[str, str, int, str]]) -> int:
        """Purchases ``[(person, good, quantity, key), ...]``: each line the ledger
        transaction :meth:`buy` makes, checked in order and written in bulk; a refused
        line refuses them all (see :func:`gosplan.storage.accounts_bulk.buy_many`)."""
        from gosplan.storage.accounts_bulk import buy_many

        return buy_many(self._s, lines)

    def buy_baskets(
        self, baskets: Sequence[tuple[str, Sequence[tuple[str, int]], str]]
    ) -> list[Basket]:
        """Baskets ``[(person, [(good, quantity), ...], key), ...]``: each one ledger
        transaction debiting the person the basket's cost, with a stock move a good;
        every check of :meth:`buy` holds for every line and the balance covers the basket;
        a refused basket refuses them all (see
        :func:`gosplan.storage.accounts_basket.buy_baskets`)."""
        from gosplan.storage.accounts_basket import buy_baskets

        return buy_baskets(self._s, baskets)

    def record_hours_many(
        self,
        enterprise: str,
        period: str,
        rows: Sequence[tuple[str, Decimal | int | str | float]],
        *,
        key: str,
        recorded_by: str,
    ) -> list[WorkRecord]:
        return work_sql.record_hours_many(
            self._s,
            enterprise,
            period,
            list(rows),
            key,
            recorded_by,
            self._cap,
            max_record=self._max_record,
        )

    def record_hours_sets(
        self, sets: Sequence[tuple[str, str, Sequence[tuple[str, Any]], str, str]]
    ) -> list[list[WorkRecord]]:
        """Several enterprises' record sets, ``[(enterprise, period, [(person, hours), ...],
        key, recorded_by), ...]``: each what :meth:`record_hours_many` records, checked
        together and written in bulk (see
        :func:`gosplan.storage.accounts_bulk_work.record_hours_sets`)."""
        from gosplan.storage.accounts_bulk_work import record_hours_sets

        return record_hours_sets(self._s, sets, self._cap, max_record=self._max_record)

    def approve_many(self, items: Sequence[tuple[str, str, str, str, str | None]]) -> list[Posted]:
        """Approvals ``[(enterprise, period, key, approver, approver_account), ...]``: each
        what :meth:`approve` posts (one ``work`` transaction an enterprise, the same
        separation of duties), written in bulk, their public events appended together."""
        from gosplan.storage.accounts_bulk_work import approve_many

        return approve_many(self._s, items, _publisher_many(self._s))

    def grant_many(
        self, items: Sequence[tuple[str, str, str, Decimal | int | str | float, str, str, str]]
    ) -> list[Posted]:
        """Grants ``[(fund, person, period, hours, key, granted_by, reason), ...]``: each
        what :meth:`grant` posts, in order, written in bulk, their public events appended
        together; a fund that would go below zero refuses them all."""
        from gosplan.storage.accounts_bulk_grants import grant_many

        return grant_many(self._s, items, _publisher_many(self._s))

    def deliver(self, good: str, quantity: int, *, key: str) -> GoodInfo:
        return shop_sql.deliver(self._s, good, quantity, key)

    def deliver_many(self, lines: Sequence[tuple[str, int, str]]) -> int:
        """Deliveries ``[(good, quantity, key), ...]``: the rows :meth:`deliver` writes,
        checked first and written in bulk."""
        from gosplan.storage.accounts_bulk_goods import deliver_many

        return deliver_many(self._s, lines)

    def grant(
        self,
        fund: str,
        person: str,
        period: str,
        hours: Decimal | int | str | float,
        *,
        key: str,
        granted_by: str,
        reason: str,
    ) -> Posted:
        return grants_sql.grant(
            self._s, fund, person, period, hours, key, granted_by, reason, _publisher(self._s)
        )


# -- public log
def _publisher_many(s: Session) -> Callable[[list[tuple[str, Mapping[str, Any]]]], None]:
    """Like :func:`_publisher`, for several events appended in order (one round trip)."""

    def publish(items: list[tuple[str, Mapping[str, Any]]]) -> None:
        import importlib

        try:
            publiclog = importlib.import_module("gosplan.services.publiclog")
        except ImportError:
            return
        publiclog.append_many(s, [(kind, dict(payload)) for kind, payload in items])

    return publish


def _publisher(s: Session) -> ledger_sql.Publish:
    """The hook the repository calls to append a public event in the session's transaction."""
    return lambda kind, payload: _publish(s, kind, payload)


def _publish(s: Session, kind: str, payload: Mapping[str, Any]) -> None:
    """Append an event to the public log when that service is installed (same transaction)."""
    import importlib

    try:
        publiclog = importlib.import_module("gosplan.services.publiclog")
    except ImportError:
        return
    append = getattr(publiclog, "append", None)
    if append is not None:
        append(s, kind, dict(payload))
