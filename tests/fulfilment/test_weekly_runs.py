"""Weekly check runs in the store: each run speaks only about the weeks it has just seen,
and a consistent shortfall goes to help, not to inspection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gosplan.services import escalation as esc
from gosplan.services.fulfilment import store as ful
from gosplan.storage.base import session_scope
from tests.fulfilment.test_ingest import START, report, setup_register

WEEKS = 12


def week(t: int) -> pd.Timestamp:
    return pd.Timestamp(START) + pd.Timedelta(weeks=t)


def reports_of(t: int, rng: np.random.Generator, *, f2_factor: float = 1.0) -> pd.DataFrame:
    n = 1 + 0.01 * rng.standard_normal(6)
    p = week(t).date().isoformat()
    sub = (week(t) + pd.Timedelta(days=8)).isoformat()
    f2 = 75.0 * f2_factor * n[1]
    return pd.concat(
        [
            report(
                "F1",
                p,
                25.0 * n[0],
                50.0 * n[0] * n[2],
                ("delivery", "S1", 2.5 * n[3]),
                submitted=sub,
            ),
            report("F2", p, f2, 2.0 * f2 * n[4], submitted=sub),
            report("S1", p, 10.0 * n[5], 15.0 * n[5], ("input", "F1", 2.5 * n[3]), submitted=sub),
        ],
        ignore_index=True,
    )


def test_runs_never_reopen_the_past_and_a_consistent_shortfall_asks_for_help(
    engine: Engine, log_key: object
) -> None:
    setup_register(engine)
    rng = np.random.default_rng(0)
    seen: list[set[dt.date]] = []
    help_items: list[dict[str, object]] = []
    for t in range(WEEKS):
        now = (week(t) + pd.Timedelta(days=8)).to_pydatetime()
        with session_scope(engine) as s:
            ful.ingest(s, reports_of(t, rng, f2_factor=0.5 if t >= 8 else 1.0), now=now)
            run = ful.check(s, as_of=now, now=now)
            seen.append(set(run.flags["period"].dt.date) if len(run.flags) else set())
            help_items += [
                esc.view(a) | {"details": a.details}
                for a in run.alerts
                if a.details.get("route") == "help"
            ]
    # every run spoke only about the week that had just ended
    for t, days in enumerate(seen):
        assert days <= {week(t).date()}, (t, days)
    # F2's output halved, its hours with it: help, on the supply body's ladder, with evidence
    assert help_items and {i["subject"] for i in help_items} == {"enterprise F2"}
    first = help_items[0]
    assert first["level_name"] == "supply" and "grain" in str(first["owner"])
    assert "help asked of supply and planners" in str(first["reason"])
    assert "hours/output" in str(first["details"]["evidence"])  # type: ignore[index]
    with session_scope(engine) as s:
        inspect = [
            i
            for i in esc.items(s, area="fulfilment")
            if i.subject == "enterprise F2" and i.details.get("route") == "inspection"
        ]
    assert not inspect
    # a late correction of an old week is news to the next run, and only that week is
    later = (week(WEEKS) + pd.Timedelta(days=9)).to_pydatetime()
    old = reports_of(9, np.random.default_rng(9))
    old = old[old["enterprise"] == "F1"].assign(
        quantity=lambda f: np.where(f["kind"] == "output", 40.0, f["quantity"])
    )
    with session_scope(engine) as s:
        got = ful.ingest(s, old, now=later)
        assert got.corrected == 1
        run = ful.check(s, as_of=later, now=later)
    days = set(run.flags["period"].dt.date)
    assert week(9).date() in days and days <= {week(9).date(), week(WEEKS).date()}
    flagged = run.flags[run.flags["period"].dt.date == week(9).date()]
    assert "padding" in set(flagged.loc[flagged["enterprise"] == "F1", "check"])
    assert set(flagged["enterprise"]) <= {"F1", "F2"}  # F2's shortfall, seen again
