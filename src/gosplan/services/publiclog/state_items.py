"""Alerts, directives and approved hours recomputed from the log, and every row that differs.

The escalation ladder's items (``esc_item``) are updated in place as they climb
and close, so an operator with the database could quietly mark an alert about
a friend's enterprise resolved, or lower its rung.  Every opening, climb,
acknowledgement and resolution is in the public log (``<area>.<kind>.<event>``),
so :func:`check_escalation_items` rebuilds each item's rung, owner, subject,
reason and resolution from the log and names every row that differs.

Approved hours are credited to persons, whose accounts stay private; what is
public is which work records were approved and how many hours an approval
credited (``accounts.hours_approved``).  :func:`check_approvals` names an
approval row the log does not hold (a credit slipped in behind the log), a
logged approval whose row is gone, and hours that differ from the logged sum.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gosplan.services.publiclog.state import Difference
from gosplan.storage.publiclog import LogEntry

__all__ = ["check_approvals", "check_escalation_items", "check_plans"]

_EVENTS = ("opened", "acknowledged", "escalated", "resolved")


def _logged_items(session: Session) -> dict[int, list[dict[str, Any]]]:
    """Log payloads of every escalation item, by item number, in log order."""
    q = (
        select(LogEntry)
        .where(or_(LogEntry.kind.like("%.alert.%"), LogEntry.kind.like("%.directive.%")))
        .order_by(LogEntry.index)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in session.scalars(q):
        p = e.payload
        if p.get("event") in _EVENTS and isinstance(p.get("item"), int):
            out[int(p["item"])].append({**p, "_index": e.index})
    return out


def check_escalation_items(session: Session) -> tuple[list[Difference], int]:
    """Every alert and directive row against its logged events; returns (differences, rows)."""
    from gosplan.storage.escalation import EscalationItem

    logged = _logged_items(session)
    diffs: list[Difference] = []
    rows = list(session.scalars(select(EscalationItem).order_by(EscalationItem.id)))
    for row in rows:
        key = f"{row.id} ({row.area} {row.kind})"
        events = logged.pop(row.id, [])
        if not events or events[0]["event"] != "opened":
            diffs.append(Difference("esc_item", key, "its opening is not in the public log"))
            continue
        first, last = events[0], events[-1]
        if row.level + 1 != last.get("level"):
            diffs.append(
                Difference(
                    "esc_item",
                    key,
                    f"rung {row.level + 1} in the table, {last.get('level')} in log entry "
                    f"{last['_index']}",
                )
            )
        if row.owner != last.get("owner"):
            diffs.append(Difference("esc_item", key, "its owner differs from the log"))
        resolved = [e for e in events if e["event"] == "resolved"]
        if bool(resolved) != (row.resolved_at is not None):
            diffs.append(
                Difference(
                    "esc_item",
                    key,
                    "resolved in the table but not in the log"
                    if row.resolved_at is not None
                    else f"resolved in log entry {resolved[0]['_index']} but open in the table",
                )
            )
        if not row.private:
            if row.subject != first.get("subject") or row.reason != first.get("reason"):
                diffs.append(
                    Difference("esc_item", key, "its subject or reason differs from the log")
                )
            if resolved and row.resolution != resolved[-1].get("note"):
                diffs.append(Difference("esc_item", key, "its resolution differs from the log"))
    for item, events in sorted(logged.items()):
        diffs.append(
            Difference(
                "esc_item",
                str(item),
                f"opened in log entry {events[0]['_index']} but its row is missing: it was deleted",
            )
        )
    return diffs, len(rows)


def check_approvals(session: Session) -> tuple[list[Difference], int]:
    """Approved work records and their hours against ``accounts.hours_approved`` entries."""
    from gosplan.storage.accounts import Approval, Work

    logged_ids: dict[int, int] = {}  # work record -> log index
    logged_hours: list[tuple[int, list[int], Decimal]] = []
    for e in session.scalars(
        select(LogEntry).where(LogEntry.kind == "accounts.hours_approved").order_by(LogEntry.index)
    ):
        p = e.payload
        records = p.get("records")
        raw: list[Any] = list(records) if isinstance(records, list) else [p.get("record")]
        ids: list[int] = [int(i) for i in raw if isinstance(i, int)]
        for i in ids:
            logged_ids[i] = e.index
        try:
            logged_hours.append((e.index, ids, Decimal(str(p.get("hours")))))
        except ArithmeticError:
            logged_hours.append((e.index, ids, Decimal(-1)))
    approved: dict[int, int] = {
        int(w): int(h)
        for w, h in session.execute(
            select(Approval.work_id, Work.hours).join(Work, Work.id == Approval.work_id)
        )
    }
    diffs: list[Difference] = []
    for wid in sorted(set(approved) - set(logged_ids)):
        diffs.append(
            Difference("acct_approval", str(wid), "approved in the table but not in the log")
        )
    for wid in sorted(set(logged_ids) - set(approved)):
        diffs.append(
            Difference(
                "acct_approval",
                str(wid),
                f"approved in log entry {logged_ids[wid]} but its row is missing",
            )
        )
    for index, ids, hours in logged_hours:
        have = [approved[i] for i in ids if i in approved]
        if len(have) == len(ids):
            total = Decimal(sum(have)) / Decimal(1_000_000)
            if total != hours:
                diffs.append(
                    Difference(
                        "acct_work",
                        ",".join(map(str, ids)),
                        f"{total} h in the table, {hours} h in log entry {index}",
                    )
                )
    return diffs, len(approved)


def check_plans(session: Session) -> tuple[list[Difference], int]:
    """Adopted plans (horizon and every sector's output per period) against ``plan.adopted``.

    The log holds a digest of each plan's table; a sector's target rewritten in the
    store (to excuse a shortfall, say) no longer matches it.
    """
    import hashlib

    from gosplan.services.publiclog.store import canonical_json
    from gosplan.storage.fulfilment import FulPlan, FulPlanSector, FulSector

    logged: dict[int, dict[str, Any]] = {}
    for e in session.scalars(
        select(LogEntry).where(LogEntry.kind == "plan.adopted").order_by(LogEntry.index)
    ):
        if isinstance(e.payload.get("plan"), int):
            logged[int(e.payload["plan"])] = {**e.payload, "_index": e.index}
    tables: dict[int, dict[str, list[float]]] = defaultdict(dict)
    for pid, code, per in session.execute(
        select(FulPlanSector.plan_id, FulSector.code, FulPlanSector.per_period).join(
            FulSector, FulSector.id == FulPlanSector.sector_id
        )
    ):
        tables[int(pid)][str(code)] = [float(v) for v in per]
    diffs: list[Difference] = []
    plans = list(session.scalars(select(FulPlan).order_by(FulPlan.id)))
    for plan in plans:
        entry = logged.pop(plan.id, None)
        if entry is None:
            diffs.append(Difference("ful_plan", str(plan.id), "not adopted in the public log"))
            continue
        table = dict(sorted(tables.get(plan.id, {}).items()))
        digest = hashlib.sha256(canonical_json(table).encode("utf-8")).hexdigest()
        if digest != entry.get("sector_output_sha256"):
            diffs.append(
                Difference(
                    "ful_plan_sector",
                    str(plan.id),
                    f"sector outputs differ from the digest in log entry {entry['_index']}",
                )
            )
        if (plan.freq, plan.start.isoformat(), plan.periods) != (
            entry.get("freq"),
            entry.get("start"),
            entry.get("periods"),
        ):
            diffs.append(Difference("ful_plan", str(plan.id), "its horizon differs from the log"))
    for pid, entry in sorted(logged.items()):
        diffs.append(
            Difference(
                "ful_plan",
                str(pid),
                f"adopted in log entry {entry['_index']} but its row is missing",
            )
        )
    return diffs, len(plans)
