"""The ledger's SQL for many grants from the social funds at once (those unable to work
provided for, a period's grants together): each the ``grant`` transaction
:func:`~gosplan.storage.accounts_grants.grant` posts, with its key and public event, the
checks read together; see :mod:`gosplan.storage.accounts_bulk_work` for the pattern."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import AccountsInputError, SeparationOfDuties
from gosplan.labourtime.records import Posted, from_json
from gosplan.labourtime.units import FUND_PREFIX, to_hours, to_units
from gosplan.storage.accounts import Account
from gosplan.storage.accounts_bulk_work import (
    _holders,
    _in,
    _periods,
    _post,
)
from gosplan.storage.accounts_ledger import check_key, digest_of, require_open
from gosplan.storage.accounts_rows import (
    PublishMany,
    _publishing,
    _settle,
    _Settled,
    claim_many,
    expire_cached,
)
from gosplan.storage.accounts_work import check_actor

__all__ = ["grant_many"]

#: a grant: (fund, person, period, hours, key, granted by, reason)
GrantItem = tuple[str, str, str, Any, str, str, str]


def grant_many(
    s: Session, items: Sequence[GrantItem], publish_many: PublishMany | None = None
) -> list[Posted]:
    """Transfers from social funds to persons, each a ``grant`` transaction as
    :func:`~gosplan.storage.accounts_grants.grant` posts it; in order, so a fund that runs
    out refuses the grant that would take it below zero (and with it the whole call)."""
    from gosplan.storage.accounts_grants import grant

    def one_by_one() -> list[Posted]:
        return _publishing(
            publish_many,
            lambda publish: [
                grant(s, *item[:4], item[4], item[5], item[6], publish) for item in items
            ],
        )

    if not items:
        return []
    s.flush()
    parsed = []
    for fund, person, period, hours, key, granted_by, reason in items:
        what = f"a grant from fund {fund!r} to {person!r}"
        by = check_actor(granted_by, "granted_by", what)
        if not isinstance(reason, str) or not reason.strip():
            raise AccountsInputError(
                f"`reason` is needed for {what}: say why (it is kept for good)."
            )
        units = to_units(hours, field="hours", what=what)
        check_key(key)
        content = {
            "fund": fund,
            "person": person,
            "period": period,
            "hours": units,
            "granted_by": by,
            "reason": reason.strip(),
        }
        parsed.append(
            (fund, person, period, units, key, by, reason.strip(), digest_of("grant", content))
        )
    if len({x[4] for x in parsed}) != len(parsed):
        return one_by_one()
    done = claim_many(s, {x[4]: ("grant", x[7]) for x in parsed})
    todo = [x for x in parsed if x[4] not in done]
    for fund, person, _, _, _, by, _, _ in todo:
        if by == person:
            raise SeparationOfDuties(
                f"{by!r} cannot grant hours to themselves (a grant from fund {fund!r} to "
                f"{person!r})."
            )
    written: dict[str, Posted] = {}
    if todo:
        got = _grant(s, todo, publish_many)
        if got is None:
            return one_by_one()
        written = got
    return [from_json(Posted, done[x[4]]) if x[4] in done else written[x[4]] for x in parsed]


def _grant(
    s: Session,
    todo: list[tuple[str, str, str, int, str, str, str, str]],
    publish_many: PublishMany | None,
) -> dict[str, Posted] | None:
    codes = sorted({f"{FUND_PREFIX}{x[0]}" for x in todo} | {x[1] for x in todo})
    accounts = {
        str(code): (int(i), str(kind))
        for code, i, kind in _in(
            s, select(Account.code, Account.id, Account.kind), Account.code, codes
        )
    }
    for fund, person, *_ in todo:
        if accounts.get(f"{FUND_PREFIX}{fund}", (0, ""))[1] != "fund":
            return None
        if accounts.get(person, (0, ""))[1] != "person":
            return None
    periods = _periods(s, [x[2] for x in todo], lock=True, share=False)
    for fund, person, p, *_ in todo:
        require_open(periods[p], f"a grant from fund {fund!r} to {person!r}")
    held = _holders(s, [i for i, _ in accounts.values()])
    txs = []
    for fund, person, p, units, _, by, reason, _ in todo:
        src = accounts[f"{FUND_PREFIX}{fund}"][0]
        dst = accounts[person][0]
        memo = (
            f"{to_hours(units).normalize():f} h from {FUND_PREFIX}{fund} to {person} "
            f"(granted by {by}): {reason}"
        )
        txs.append((periods[p].id, memo, {src: -units, dst: units}))
    tx_ids = _post(s, "grant", txs, held, [f"a grant from fund {x[0]!r} to {x[1]!r}" for x in todo])
    expire_cached(s)
    names = {a: c for a, (c, _) in held.items()}
    return _settle(
        s,
        ("grant", "grant"),
        [
            _Settled(
                tx,
                p,
                amounts,
                memo,
                key,
                digest,
                (
                    "accounts.grant",
                    {
                        "fund": fund,
                        "person": person,
                        "period": p,
                        "hours": str(to_hours(units)),
                        "granted_by": by,
                        "reason": reason,
                        "transaction": tx,
                    },
                ),
            )
            for tx, (fund, person, p, units, key, by, reason, digest), (_, memo, amounts) in zip(
                tx_ids, todo, txs, strict=True
            )
        ],
        names,
        publish_many,
    )
