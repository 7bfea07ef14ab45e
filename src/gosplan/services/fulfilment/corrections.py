"""Corrections of reports: what a correction keeps, and the alerts it settles.

A report sent again for a period already reported, with different figures, is a
*correction*: it is stored as the next version of that report and names the version it
corrects (:attr:`.reports.IngestResult.corrects`, also in the public log's
``reports.received`` entry).  Two rules make a correction mean what its sender meant:

* :func:`carry_lines` — a correction that restates output and hours but says nothing of
  an input or delivery line the corrected version had keeps that line (the web form
  states no lines, a CSV may state only some).  To withdraw a line, restate it with
  quantity 0.  Without this rule a corrected week loses its inputs, the supplier's
  deliveries meet a receipt of nothing, and a bogus "mismatch" alert (a gap of
  +99999900 %) opens at both ends.
* :func:`settle` — after the check run that follows a correction, every open alert
  about a corrected period whose check no longer flags any of its periods is closed,
  its resolution naming the correction and the run.  It is the checks that close it,
  never the enterprise's own word: the correction is public and the partners' reports
  still check it.

Usage (the caller commits)::

    frame = corrections.carry_lines(session, frame)
    res = ful.ingest(session, frame, now=now)
    run = ful.check(session, as_of=now, now=now)
    closed = corrections.settle(session, run, res, now=now)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.orm import Session

from gosplan.errors import ValidationError
from gosplan.services import escalation as esc
from gosplan.services.fulfilment.register import load_register
from gosplan.services.fulfilment.reports import IngestResult
from gosplan.storage import fulfilment as repo
from gosplan.storage.fulfilment import FulEnterprise, FulReport

if TYPE_CHECKING:
    from gosplan.services.fulfilment.store import StoredCheck

__all__ = ["Settled", "carry_lines", "corrected_periods", "settle"]

#: checks that compare two enterprises' figures: a correction at one end settles both ends
LINK_CHECKS = ("mismatch", "partner_differs")


def _day(value: object) -> dt.date | None:
    ts = pd.to_datetime(str(value).strip(), errors="coerce", format="ISO8601")
    return None if pd.isna(ts) else ts.date()


def carry_lines(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the input and delivery lines of each corrected report that it does
    not restate (by kind and counterparty) carried from the version it corrects.

    Rows that do not name a known enterprise and period are left for
    :func:`.reports.ingest` to refuse with its message; nothing is read or written
    beyond the latest versions of the reports the frame restates."""
    if not {"enterprise", "period", "kind"} <= set(frame.columns) or len(frame) == 0:
        return frame
    try:
        reg = load_register(session)
    except ValidationError:
        return frame
    code_of = dict(zip(reg.enterprise_ids, reg.population.codes, strict=True))
    id_of = {str(c): int(i) for i, c in code_of.items()}
    sector_of = dict(zip(reg.sector_ids, reg.population.sectors, strict=True))
    ent = frame["enterprise"].astype(str).str.strip()
    days = frame["period"].map(_day)
    kind = frame["kind"].astype(str).str.strip().str.lower()
    cp = (
        frame["counterparty"].where(frame["counterparty"].notna(), "").astype(str).str.strip()
        if "counterparty" in frame.columns
        else pd.Series("", index=frame.index)
    )
    stated: dict[tuple[str, dt.date], set[tuple[str, str]]] = {}
    for e, d, k, c in zip(ent, days, kind, cp, strict=True):
        if d is not None and e in id_of:
            stated.setdefault((e, d), set()).add((k, c))
    eids = sorted({id_of[e] for e, _ in stated})
    latest = repo.latest_versions(session, eids) if eids else {}
    prev_ids = {
        key: latest[(id_of[key[0]], key[1])][2]
        for key in stated
        if (id_of[key[0]], key[1]) in latest
    }
    if not prev_ids:
        return frame
    of_report = {rid: key for key, rid in prev_ids.items()}
    extra: list[dict[str, object]] = []
    for rid, k, cp_id, product_id, q in repo.report_lines(session, sorted(of_report)):
        e, d = of_report[rid]
        partner = str(code_of.get(cp_id, ""))
        if (k, partner) in stated[(e, d)]:
            continue
        extra.append(
            {
                "enterprise": e,
                "period": d.isoformat(),
                "kind": k,
                "quantity": float(q),
                "counterparty": partner,
                "product": str(sector_of.get(product_id, "")) or None,
            }
        )
    if not extra:
        return frame
    out = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    out.attrs.update(frame.attrs)
    return out


def corrected_periods(session: Session, res: IngestResult) -> list[tuple[str, dt.date, int, int]]:
    """(enterprise, period, new report id, corrected report id) of each correction."""
    out = []
    for new, old in sorted(res.corrects.items()):
        rep = session.get(FulReport, new)
        ent = None if rep is None else session.get(FulEnterprise, rep.enterprise_id)
        if rep is not None and ent is not None:
            out.append((str(ent.code), rep.period, new, old))
    return out


@dataclass(frozen=True)
class Settled:
    """An alert a correction settled: the alert, and the correction that settled it."""

    item: esc.EscalationItem
    report: int
    corrects: int


def settle(
    session: Session, stored: StoredCheck, res: IngestResult, *, now: dt.datetime
) -> list[Settled]:
    """Close the open fulfilment alerts that the corrections in ``res`` settled.

    ``stored`` is the :class:`.store.StoredCheck` of the check run made after the
    ingestion.  An open alert is settled when it is about a corrected period (of the
    corrected enterprise, or of either end for checks that compare two enterprises) and
    that run flags its check for none of its periods.  Its resolution names the report,
    the version it corrects and the run; the public log records it."""
    corrections = corrected_periods(session, res)
    if not corrections:
        return []
    flags = stored.result.flags()
    still = {
        (str(e), p.date().isoformat(), str(c))
        for e, p, c in zip(flags["enterprise"], flags["period"], flags["check"], strict=True)
    }
    run_id = int(stored.run.id)
    out: list[Settled] = []
    open_items = esc.items(session, area="fulfilment", open_only=True)
    # an alert joined by later weeks keeps only their periods in ``details``: its flags
    # name every period it covers
    covered = repo.alert_periods(session, [i.id for i in open_items])
    for item in open_items:
        details = item.details or {}
        check = details.get("check")
        periods = sorted(
            {str(p) for p in details.get("periods") or []}
            | {d.isoformat() for d in covered.get(item.id, set())}
        )
        unit = esc.unit_of(item)
        if check is None or not periods or unit is None:
            continue
        hit = next(
            (
                c
                for c in corrections
                if c[1].isoformat() in periods and (c[0] == unit or check in LINK_CHECKS)
            ),
            None,
        )
        if hit is None or any((unit, p, str(check)) in still for p in periods):
            continue
        code, day, new, old = hit
        esc.resolve(
            session,
            item.id,
            by=f"gosplan checks (run {run_id})",
            resolution=(
                f"settled by a correction: report {new} of {code} for period "
                f"{day.isoformat()} corrects report {old}; check run {run_id} no longer "
                f"flags {check}"
            ),
            now=now,
        )
        out.append(Settled(item=item, report=new, corrects=old))
    return out


def versions_of(session: Session, code: str) -> dict[str, int]:
    """Period (ISO date) → number of the newest version of ``code``'s report for it
    (1: as first sent; more: corrected); empty for an enterprise not in the register."""
    eid = repo.enterprise_id(session, code)
    if eid is None:
        return {}
    latest = repo.latest_versions(session, [int(eid)])
    return {d.isoformat(): int(v[0]) for (_, d), v in latest.items()}
