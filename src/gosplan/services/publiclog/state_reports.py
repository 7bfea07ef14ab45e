"""Fulfilment reports recomputed against the batches the log holds, and every row that differs.

Reports are public, but the log does not hold them whole: each batch received is
one ``reports.received`` entry with the number of reports, the id of the first,
when the server received them, and a SHA-256 over a ledger line per report
(``id|enterprise id|period|version|report digest``).  A report's digest is
SHA-256 of ``repr(output)|repr(hours)#lines``, where the lines (inputs and
deliveries) are ``kind:counterparty:product:repr(quantity)`` joined by ``;`` in
sorted order, and counterparty and product are positions in the register
(enterprises and sectors in the order of their ids), exactly as
:func:`gosplan.services.fulfilment.reports.ingest` computed it.

:func:`check_reports` recomputes every report's digest from its row and lines in
the store, rebuilds each batch's ledger from those digests and compares it with
the log, and names

* a report whose figures or lines no longer give the digest stored with it
  (``changed``), or whose batch no longer gives the logged digest;
* a report row that no logged batch holds (``inserted``) and a logged report
  whose row is gone (``deleted``);
* a report whose time of receipt was moved (lateness counts from it): it must
  be the batch's logged ``received_at`` (or, in a simulation that plays the
  server's clock, the report's own ``submitted_at``).

A batch names its reports by ``first_report`` and ``reports`` (the ids of one
insert are consecutive); a batch whose ids were not consecutive (concurrent
inserts on PostgreSQL) lists them in ``report_ids``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.services.publiclog.state import Difference
from gosplan.storage.publiclog import LogEntry

__all__ = [
    "batch_ids_field",
    "check_reports",
    "ledger_digest",
    "report_digest",
]

#: the log entry kind of a batch of reports received
KIND = "reports.received"


def report_digest(output: float, hours: float, lines: Iterable[tuple[str, int, int, float]]) -> str:
    """A report's digest from its figures and its lines ``(kind, counterparty, product,
    quantity)``, counterparty and product given as positions in the register."""
    text = ";".join(f"{k}:{c}:{p}:{q!r}" for k, c, p, q in sorted(lines))
    return hashlib.sha256(f"{float(output)!r}|{float(hours)!r}#{text}".encode()).hexdigest()


def ledger_digest(rows: Iterable[tuple[int, int, dt.date, int, str]]) -> str:
    """A batch's digest over ``(report id, enterprise id, period, version, digest)``."""
    ledger = "\n".join(f"{r}|{e}|{p}|{v}|{d}" for r, e, p, v, d in rows)
    return hashlib.sha256(ledger.encode("utf-8")).hexdigest()


def batch_ids_field(ids: Sequence[int]) -> dict[str, Any]:
    """What a ``reports.received`` payload needs besides ``first_report`` to name its
    reports: nothing when the ids are consecutive, else ``{"report_ids": [...]}``."""
    ordered = sorted(ids)
    if not ordered or ordered == list(range(ordered[0], ordered[0] + len(ordered))):
        return {}
    return {"report_ids": ordered}


@dataclass
class _Batch:
    index: int
    ids: list[int]
    digest: str | None
    received_at: str | None


@dataclass
class _Row:
    id: int
    enterprise_id: int
    period: dt.date
    version: int
    digest: str
    output: float
    hours: float
    submitted_at: dt.datetime
    received_at: dt.datetime


def _batches(session: Session) -> tuple[list[_Batch], list[Difference]]:
    out: list[_Batch] = []
    problems: list[Difference] = []
    for e in session.scalars(
        select(LogEntry).where(LogEntry.kind == KIND).order_by(LogEntry.index)
    ):
        p = e.payload
        listed = p.get("report_ids")
        first, n = p.get("first_report"), p.get("reports")
        if isinstance(listed, list) and all(isinstance(i, int) for i in listed):
            ids = [int(i) for i in listed]
        elif isinstance(first, int) and isinstance(n, int) and 0 <= n:
            ids = list(range(first, first + n))
        else:
            problems.append(
                Difference("publiclog_entry", str(e.index), "a batch of reports without its ids")
            )
            continue
        digest = p.get("digest")
        received = p.get("received_at")
        out.append(
            _Batch(
                e.index,
                ids,
                digest if isinstance(digest, str) else None,
                received if isinstance(received, str) else None,
            )
        )
    return out, problems


def _store(
    session: Session,
) -> tuple[
    dict[int, _Row], dict[int, list[tuple[str, int, int, float]]], dict[int, int], dict[int, int]
]:
    from gosplan.storage.fulfilment import FulEnterprise, FulReport, FulReportLine, FulSector

    rows = {
        int(r[0]): _Row(
            int(r[0]),
            int(r[1]),
            r[2],
            int(r[3]),
            str(r[4]),
            float(r[5]),
            float(r[6]),
            r[7],
            r[8],
        )
        for r in session.execute(
            select(
                FulReport.id,
                FulReport.enterprise_id,
                FulReport.period,
                FulReport.version,
                FulReport.digest,
                FulReport.output,
                FulReport.hours,
                FulReport.submitted_at,
                FulReport.received_at,
            )
        )
    }
    lines: dict[int, list[tuple[str, int, int, float]]] = defaultdict(list)
    for rid, kind, cp, prod, q in session.execute(
        select(
            FulReportLine.report_id,
            FulReportLine.kind,
            FulReportLine.counterparty_id,
            FulReportLine.product_id,
            FulReportLine.quantity,
        ).execution_options(yield_per=5000)
    ):
        lines[int(rid)].append((str(kind), int(cp), int(prod), float(q)))
    # positions in the register: enterprises and sectors in the order of their ids
    ent = {
        int(i): k
        for k, i in enumerate(session.scalars(select(FulEnterprise.id).order_by(FulEnterprise.id)))
    }
    sec = {
        int(i): k
        for k, i in enumerate(session.scalars(select(FulSector.id).order_by(FulSector.id)))
    }
    return rows, lines, ent, sec


def _recomputed(
    row: _Row,
    lines: Sequence[tuple[str, int, int, float]],
    ent: dict[int, int],
    sec: dict[int, int],
) -> str | None:
    try:
        pos = [(k, ent[c], sec[p], q) for k, c, p, q in lines]
    except KeyError:
        return None  # a counterparty or product left the register
    return report_digest(row.output, row.hours, pos)


def check_reports(session: Session) -> tuple[list[Difference], int]:
    """Every fulfilment report row against the batches in the log; (differences, rows)."""
    batches, diffs = _batches(session)
    rows, lines, ent, sec = _store(session)
    digest: dict[int, str | None] = {
        rid: _recomputed(row, lines.get(rid, []), ent, sec) for rid, row in rows.items()
    }
    named: set[int] = set()  # reports already named as changed
    for rid, row in sorted(rows.items()):
        if digest[rid] is None:
            diffs.append(
                Difference(
                    "ful_report_line",
                    str(rid),
                    "a line names an enterprise or product not in the register: it was changed",
                )
            )
            named.add(rid)
        elif digest[rid] != row.digest:
            diffs.append(
                Difference(
                    "ful_report",
                    str(rid),
                    "its figures or lines do not give its digest: it was changed",
                )
            )
            named.add(rid)
    owner: dict[int, int] = {}
    for b in batches:
        for rid in b.ids:
            if rid in owner:
                diffs.append(
                    Difference(
                        "publiclog_entry",
                        str(b.index),
                        f"report {rid} is already in the batch of log entry {owner[rid]}",
                    )
                )
            owner.setdefault(rid, b.index)
        missing = [rid for rid in b.ids if rid not in rows]
        for rid in missing:
            diffs.append(
                Difference(
                    "ful_report",
                    str(rid),
                    f"received in log entry {b.index} but its row is missing: it was deleted",
                )
            )
        present = [rows[rid] for rid in b.ids if rid in rows]
        for row in present:
            when = row.received_at.replace(tzinfo=None).isoformat()
            if b.received_at is not None and when not in (
                b.received_at,
                row.submitted_at.replace(tzinfo=None).isoformat(),
            ):
                diffs.append(
                    Difference(
                        "ful_report",
                        str(row.id),
                        f"received at {when} in the table, {b.received_at} in log entry "
                        f"{b.index}: it was changed",
                    )
                )
        if missing or any(r.id in named for r in present):
            continue
        got = ledger_digest(
            (r.id, r.enterprise_id, r.period, r.version, str(digest[r.id])) for r in present
        )
        if got != b.digest:
            span = f"{b.ids[0]}..{b.ids[-1]}" if len(b.ids) > 1 else str(b.ids[0])
            diffs.append(
                Difference(
                    "ful_report",
                    span,
                    f"the reports differ from the digest in log entry {b.index}: a row was changed",
                )
            )
    for rid in sorted(rows.keys() - owner.keys()):
        diffs.append(
            Difference(
                "ful_report",
                str(rid),
                "not in any batch of the public log: the row was inserted",
            )
        )
    return diffs, len(rows)
