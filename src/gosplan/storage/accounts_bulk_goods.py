"""The ledger's SQL for many goods at once: a period's deliveries and its price changes.

:func:`deliver_many` and :func:`reprice_many` write exactly the rows that
:func:`~gosplan.storage.accounts_shop.deliver` and
:func:`~gosplan.storage.accounts_shop.reprice` write for each good (a stock move and an
idempotency key; a price change and its public event), checked first and written with one
multi-row statement a table, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import AccountsInputError, UnknownGood
from gosplan.labourtime.units import check_quantity, price_units, to_decimal, to_hours
from gosplan.storage.accounts import Good, Period, PriceChange, Request, StockMove, utcnow
from gosplan.storage.accounts_bulk import _rows_in
from gosplan.storage.accounts_ledger import check_key, digest_of
from gosplan.storage.accounts_shop import deliver, provided_free

__all__ = ["deliver_many", "reprice_many"]

#: appends several public events in order inside the transaction
PublishMany = Callable[[list[tuple[str, Mapping[str, Any]]]], None]


def _goods(s: Session, codes: Sequence[str]) -> dict[str, Any]:
    rows = _rows_in(
        s,
        Good.code,
        sorted(set(codes)),
        Good.code,
        Good.id,
        Good.stock,
        Good.name,
        Good.free_fund,
        Good.ratio,
        Good.labour_value,
        Good.price,
    )
    found = {r[0]: r for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise UnknownGood(f"No good {missing[0]!r} in the catalogue.")
    return found


def deliver_many(s: Session, lines: Sequence[tuple[str, int, str]]) -> int:
    """Deliveries ``[(good, quantity, key), ...]`` to the shops; the number written.
    Keys used before answer as :func:`deliver` answers them (a replay, or a conflict)."""
    parsed = []
    for code, quantity, key in lines:
        q = check_quantity(quantity, "quantity", f"delivery of good {code!r}")
        check_key(key)
        parsed.append((str(code), q, str(key)))
    if not parsed:
        return 0
    keys = [k for *_, k in parsed]
    if len(set(keys)) != len(keys) or len({c for c, _, _ in parsed}) != len(parsed):
        raise AccountsInputError("deliveries: each good and each key once per call.")
    used = {r[0] for r in _rows_in(s, Request.key, keys, Request.key)}
    for code, q, key in parsed:
        if key in used:
            deliver(s, code, q, key)
    parsed = [line for line in parsed if line[2] not in used]
    if not parsed:
        return 0
    goods = _goods(s, [c for c, _, _ in parsed])
    for code, _, _ in parsed:
        g = goods[code]
        if g[4]:
            raise provided_free(g[3], code, g[4], "delivered to the shops")
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    now = utcnow()
    c = s.connection()
    c.execute(
        update(Good).where(Good.id == bindparam("gid")).values(stock=bindparam("new_stock")),
        [{"gid": int(goods[g][1]), "new_stock": int(goods[g][2]) + q} for g, q, _ in parsed],
    )
    c.execute(
        insert(StockMove),
        [
            {
                "good_id": int(goods[g][1]),
                "period_id": cur,
                "kind": "delivery",
                "quantity": q,
                "transaction_id": None,
                "price": None,
                "created_at": now,
            }
            for g, q, _ in parsed
        ],
    )
    c.execute(
        insert(Request),
        [
            {
                "key": key,
                "kind": "deliver",
                "digest": digest_of("deliver", {"good": g, "quantity": q}),
                "result": {"good": g, "quantity": q},
                "created_at": now,
            }
            for g, q, key in parsed
        ],
    )
    return len(parsed)


def reprice_many(
    s: Session,
    ratios: Mapping[str, Decimal],
    reason: str,
    publish_many: PublishMany | None = None,
) -> list[str]:
    """Set each good's price/value ratio (its labour value kept); goods whose ratio is
    already that are left alone.  The codes changed, in the order given."""
    if not reason or not str(reason).strip():
        raise AccountsInputError("A price change needs a `reason`.")
    goods = _goods(s, list(ratios))
    changes: list[tuple[str, Decimal, Decimal, int]] = []
    for code, ratio in ratios.items():
        g = goods[code]
        new_ratio = to_decimal(ratio, field="ratio", what=f"good {code!r}")
        if new_ratio == Decimal(g[5]):
            continue
        value = Decimal(g[6])
        if new_ratio <= 0:
            raise AccountsInputError(
                f"Good {code!r}: ratio and labour value must be positive; got {new_ratio}, {value}."
            )
        price = price_units(value, new_ratio)
        if price <= 0:
            raise AccountsInputError(f"Good {code!r}: the new price rounds to zero micro-hours.")
        changes.append((code, new_ratio, value, price))
    if not changes:
        return []
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    now = utcnow()
    c = s.connection()
    c.execute(
        update(Good)
        .where(Good.id == bindparam("gid"))
        .values(ratio=bindparam("r"), price=bindparam("p")),
        [{"gid": int(goods[code][1]), "r": str(r), "p": p} for code, r, _, p in changes],
    )
    c.execute(
        insert(PriceChange),
        [
            {
                "good_id": int(goods[code][1]),
                "period_id": cur,
                "labour_value": str(v),
                "ratio": str(r),
                "price": p,
                "reason": str(reason),
                "created_at": now,
            }
            for code, r, v, p in changes
        ],
    )
    if publish_many is not None:
        publish_many(
            [
                (
                    "accounts.price_changed",
                    {
                        "good": code,
                        "reason": str(reason),
                        "old": {
                            "labour_value": str(goods[code][6]),
                            "ratio": str(goods[code][5]),
                            "price_hours": str(to_hours(int(goods[code][7]))),
                        },
                        "new": {
                            "labour_value": str(v),
                            "ratio": str(r),
                            "price_hours": str(to_hours(p)),
                        },
                    },
                )
                for code, r, v, p in changes
            ]
        )
    return [code for code, *_ in changes]
