"""Fulfilment in the store: register, plans split by capacity, report ingestion, check runs.

Python API (every function takes an open session; the caller commits)::

    from gosplan.services.fulfilment import store as ful

    ful.register_sectors(session, economy)                 # sectors, A-column and hours norms
    ful.register_enterprise(session, "E1", sector="C24", capacity=3.0,
                            norms={"B": 0.21}, hours_norm=1.9)
    plan = ful.adopt_plan(session, name="2027", freq="week", start="2027-01-04",
                          periods=52, sector_output={"C24": 5200.0}, now=now)
    ful.ingest(session, frame, now=now)                   # long table, see REPORT_COLUMNS
    run = ful.check(session, as_of=now, now=now)          # flags, alerts on the ladder

Reports are a long table, one row per figure (:data:`REPORT_COLUMNS`):

============== ===============================================================
enterprise     code in the register
period         first day of the period (a period start of the current plan)
kind           ``output``, ``hours``, ``input`` (received from ``counterparty``)
               or ``delivery`` (made to ``counterparty``)
quantity       non-negative number (output in the sector's output unit, hours
               in the sector's hours unit, inputs and deliveries in the
               supplier's output unit)
counterparty   supplier (input) or customer (delivery); empty for output/hours
product        optional: sector of the goods (default: the supplier's sector)
submitted_at   optional: when the enterprise says it filed it (kept as stated;
               lateness is measured from ``received_at``, the server's clock
               when the batch arrived, so a delegate cannot back-date a report)
============== ===============================================================

A batch is validated as a whole before anything is written: an unknown
enterprise or counterparty, a negative or missing figure, a period that has
not started yet, a period outside the plan or not on a period boundary is an
error naming the enterprise, period and field, and nothing is stored.  The
same report sent again changes nothing; a report that differs from the last
one stored for its enterprise and period is stored as the next version, and
the old one is kept.  Lateness counts from the first version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from gosplan.services import escalation as esc
from gosplan.services.fulfilment.checks import (
    HELP,
    INTEGRITY,
    CheckResult,
    CheckSettings,
    build_panel,
    run_checks,
)
from gosplan.services.fulfilment.register import (
    Register,
    adopt_plan,
    current_plan,
    load_register,
    register_enterprise,
    register_population,
    register_sectors,
    sector_of,
)
from gosplan.services.fulfilment.reports import (
    KINDS,
    REPORT_COLUMNS,
    IngestResult,
    ingest,
    load_reports,
    read_reports_csv,
    report_versions,
)
from gosplan.storage import fulfilment as repo
from gosplan.storage.fulfilment import FulCheckRun, FulFlag

__all__ = [
    "ALERT_CHECKS",
    "KINDS",
    "REPORT_COLUMNS",
    "IngestResult",
    "Register",
    "StoredCheck",
    "adopt_plan",
    "check",
    "current_plan",
    "ingest",
    "load_register",
    "load_reports",
    "read_reports_csv",
    "register_enterprise",
    "register_population",
    "register_sectors",
    "report_versions",
    "sector_of",
]

#: checks that open an alert: integrity checks on the inspection ladder, help on the help one
ALERT_CHECKS = INTEGRITY + HELP


# ----------------------------------------------------------------------------- checks


@dataclass
class StoredCheck:
    """A check run: the arrays, the stored run, and the alerts it opened or updated."""

    result: CheckResult
    run: FulCheckRun
    alerts: list[esc.EscalationItem]
    flags: pd.DataFrame  # the flags of the weeks this run saw (as stored)


def check(
    session: Session,
    *,
    as_of: dt.datetime,
    now: dt.datetime,
    settings: CheckSettings | None = None,
    ladder: esc.Ladder = esc.DEFAULT_LADDER,
    help_ladder: esc.Ladder = esc.HELP_LADDER,
    open_alerts: bool = True,
) -> StoredCheck:
    """Run every check on the stored reports; store and alert on the weeks this run sees.

    The checks are causal (:func:`.checks.run_checks`): a week is judged only
    by what came before it.  A run stores flags and opens alerts only for
    the weeks it has just seen — those ending after the last run's ``as_of``
    and older ones whose reports arrived since (every week up to ``as_of`` at the
    first run) — so it never re-opens the past.  Integrity flags open alerts on
    ``ladder`` (inspection); a shortfall whose reports are consistent opens one on
    ``help_ladder``.
    One alert per enterprise and check stays open at a time (key
    ``fulfilment:<code>:<check>``, or ``fulfilment:<code>:help:<check>``).
    """
    reg = load_register(session)
    reports, lines = load_reports(session, reg)
    pop = reg.population
    panel = build_panel(pop, reports, lines)
    as_of_ts = pd.Timestamp(as_of)
    result = run_checks(pop, panel, as_of=as_of_ts, settings=settings)
    prev = repo.last_check_as_of(session, reg.plan.id, as_of)
    ends = pop.period_ends
    fresh = np.asarray(pop.periods <= as_of_ts)
    if prev is not None:
        # weeks that ended since the last run, and older weeks whose reports (or new
        # versions) arrived since: both are news to this run
        late = repo.periods_received_since(session, prev)
        again = np.array([d in late for d in pop.periods.date], dtype=bool)
        fresh &= np.asarray(ends > pd.Timestamp(prev)) | again
    flags = result.flags()
    if len(flags):
        t_of = pd.Series(np.arange(pop.T), index=pop.periods)
        flags = flags[fresh[flags["period"].map(t_of).to_numpy(np.int64)]]
    counts = flags["check"].value_counts().to_dict() if len(flags) else {}
    run = repo.add(
        session,
        FulCheckRun(
            plan_id=reg.plan.id,
            at=now,
            as_of=as_of,
            counts={str(k): int(v) for k, v in counts.items()},
        ),
    )
    covered = repo.alerted_flags(session)
    eid = dict(zip(pop.codes, reg.enterprise_ids, strict=True))
    alerts: list[esc.EscalationItem] = []
    rows = []
    if len(flags):
        flags = flags.copy()
        flags["eid"] = flags["enterprise"].map(eid).astype(int)
        flags["day"] = flags["period"].dt.date
        flags["new"] = [
            (e, d, c) not in covered
            for e, d, c in zip(flags["eid"], flags["day"], flags["check"], strict=True)
        ]
        alert_of: dict[tuple[str, str], int] = {}
        if open_alerts:
            todo = flags[
                flags["new"] & flags["check"].isin(ALERT_CHECKS) & (flags["route"] != "information")
            ]
            for (code, chk, route), g in todo.groupby(["enterprise", "check", "route"], sort=True):
                last = g.iloc[-1]
                periods = [d.isoformat() for d in g["day"]]
                helped = route == "help"
                item = esc.open_alert(
                    session,
                    area="fulfilment",
                    subject=f"enterprise {code}",
                    reason=(
                        f"{chk}: {last['detail']} (period {last['day'].isoformat()}"
                        + (f" and {len(g) - 1} earlier" if len(g) > 1 else "")
                        + ")"
                        + (
                            "; reports consistent: help asked of supply and planners"
                            if helped
                            else ""
                        )
                    ),
                    context={"unit": code, "sector": last["sector"]},
                    ladder=help_ladder if helped else ladder,
                    key=f"fulfilment:{code}:" + ("help:" if helped else "") + str(chk),
                    now=now,
                    details={
                        "check": chk,
                        "periods": periods,
                        "run": run.id,
                        "route": route,
                        "evidence": last["evidence"],
                    },
                )
                alert_of[(str(code), str(chk))] = item.id
                alerts.append(item)
        for code, chk, eid_, day, val, detail, new in zip(
            flags["enterprise"],
            flags["check"],
            flags["eid"],
            flags["day"],
            flags["value"].to_numpy(float),
            flags["detail"],
            flags["new"],
            strict=True,
        ):
            v = float(val)
            rows.append(
                {
                    "run_id": run.id,
                    "enterprise_id": int(eid_),
                    "period": day,
                    "check": chk,
                    "value": v if np.isfinite(v) else None,
                    "detail": detail,
                    "alert_id": alert_of.get((str(code), str(chk))) if new else None,
                }
            )
        repo.insert_rows(session, FulFlag, rows)
    session.flush()
    return StoredCheck(result=result, run=run, alerts=alerts, flags=flags)
