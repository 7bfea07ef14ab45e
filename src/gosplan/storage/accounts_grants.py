"""The ledger's SQL for transfers from a social fund to a person (``grant`` transactions):
those unable to work are provided for from the funds, posted like any credit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gosplan.labourtime.errors import AccountsInputError, SeparationOfDuties
from gosplan.labourtime.records import Posted, from_json
from gosplan.labourtime.units import FUND_PREFIX, to_hours, to_units
from gosplan.storage.accounts_ledger import (
    Publish,
    apply_amounts,
    claim,
    get_account,
    get_period,
    lock_holders,
    post_transaction,
    posted_result,
    remember,
    require_open,
)
from gosplan.storage.accounts_work import check_actor


def grant(
    s: Session,
    fund: str,
    person: str,
    period: str,
    hours: Any,
    key: str,
    granted_by: str,
    reason: str,
    publish: Publish | None = None,
) -> Posted:
    """A transfer from a social fund to a person (a ``grant`` transaction in an open period):
    the fund is debited and the person credited the same hours, like any credit.

    The fund cannot go below zero (nothing is posted), the amount must be positive, the
    person must hold a person account, and nobody grants to themselves."""
    what = f"a grant from fund {fund!r} to {person!r}"
    granted_by = check_actor(granted_by, "granted_by", what)
    if not isinstance(reason, str) or not reason.strip():
        raise AccountsInputError(f"`reason` is needed for {what}: say why (it is kept for good).")
    units = to_units(hours, field="hours", what=what)
    digest, done = claim(
        s,
        key,
        "grant",
        {
            "fund": fund,
            "person": person,
            "period": period,
            "hours": units,
            "granted_by": granted_by,
            "reason": reason.strip(),
        },
    )
    if done is not None:
        return from_json(Posted, done)
    if granted_by == person:
        raise SeparationOfDuties(f"{granted_by!r} cannot grant hours to themselves ({what}).")
    src = get_account(s, f"{FUND_PREFIX}{fund}", kind="fund", role="fund that grants")
    dst = get_account(s, person, kind="person", role="person who receives the grant")
    p = get_period(s, period, lock=True)
    require_open(p, what)
    amounts = {src.id: -units, dst.id: units}
    held = lock_holders(s, amounts)
    tx = post_transaction(
        s,
        "grant",
        p,
        amounts,
        f"{to_hours(units).normalize():f} h from {src.code} to {person} "
        f"(granted by {granted_by}): {reason.strip()}",
    )
    apply_amounts(s, held, amounts, what)
    s.flush()
    res = posted_result(s, tx, amounts)
    remember(s, key, "grant", digest, res)
    if publish is not None:
        publish(
            "accounts.grant",
            {
                "fund": fund,
                "person": person,
                "period": p.code,
                "hours": str(to_hours(units)),
                "granted_by": granted_by,
                "reason": reason.strip(),
                "transaction": res.transaction_id,
            },
        )
    return res
