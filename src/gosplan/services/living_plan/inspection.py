"""The fulfilment checks inside the living plan: enterprises' reports, period by period.

Each living enterprise is registered in the store's fulfilment register (in the
sector of its first good, with no hours norm of its own, so its norm is learnt
from its own reports), and a fulfilment plan holds its base output each period.
Every period the enterprises report their output (what they say they delivered,
in the economy's output unit) and the hours their members worked (as recorded in
the accounts); the reports go through :func:`gosplan.services.fulfilment.store.ingest`
and the whole battery of :func:`gosplan.services.fulfilment.store.check` runs on
them — the same code as ``gosplan fulfilment ingest`` and ``check`` — opening
alerts on the escalation ladder and in the public log as usual.

The checks learn each enterprise's hours per unit of output from its own
history, so a report inflated from the first period sets its own norm and only
the shops' receipts give it away; a cheat that starts later (``[cheaters] at``)
is seen as output reported without the hours it needs (``padding``).  Monthly
and weekly runs only (the fulfilment register knows days, weeks and months).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Inspection", "living_check_settings"]


def living_check_settings() -> Any:
    """Check settings for a run of months or weeks: norms learnt from every earlier
    period up to the fourth, then from all but the last two, re-estimated every period
    (the defaults wait six weeks and re-estimate every four, tuned to a year of weeks)."""
    from gosplan.services.fulfilment.checks import CheckSettings
    from gosplan.services.fulfilment.estimates import NormSettings

    return CheckSettings(norms=NormSettings(guard=2, min_history=4, refresh=1))


@dataclass
class Inspection:
    """The fulfilment register, plan and check runs of one living-plan store."""

    engine: Any
    codes: list[str]
    sectors: list[str]
    base_output: np.ndarray  # per enterprise and period, output units
    freq: str
    start: pd.Timestamp
    periods: int
    flags: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def freq_of(periods_per_year: int) -> str | None:
        return {12: "month", 52: "week"}.get(periods_per_year)

    @property
    def plan_periods(self) -> int:
        # at least 8: the checks' `smooth` test looks 4 periods back and fails on a
        # shorter plan; periods beyond the run are never reported nor due
        return max(self.periods, 8)

    def period_start(self, t: int) -> pd.Timestamp:
        step = pd.DateOffset(months=t) if self.freq == "month" else pd.DateOffset(weeks=t)
        return pd.Timestamp(self.start + step)

    def _clock(self, t: int) -> dt.datetime:
        """A day after the period ended: the reports are in, on time."""
        end = self.period_start(t + 1)
        return (end + pd.Timedelta(days=1)).to_pydatetime()

    def register(self, economy: Any, name: str) -> None:
        from gosplan.services.fulfilment import store as ful
        from gosplan.storage.base import session_scope

        now = self.period_start(0).to_pydatetime()
        with session_scope(self.engine) as s:
            ful.register_sectors(s, economy)
            output: dict[str, float] = {}
            for code, sector, base in zip(self.codes, self.sectors, self.base_output, strict=True):
                ful.register_enterprise(
                    s, code, sector=sector, capacity=max(float(base), 1e-9), now=now
                )
                output[sector] = output.get(sector, 0.0) + float(base) * self.plan_periods
            ful.adopt_plan(
                s,
                name=f"living plan {name}",
                freq=self.freq,
                start=self.period_start(0).date(),
                periods=self.plan_periods,
                sector_output=output,
                now=now,
                source="living plan",
            )

    def period(
        self, t: int, label: str, output: np.ndarray, hours: np.ndarray
    ) -> list[dict[str, Any]]:
        """File the enterprises' reports of period ``t`` and run the checks on them; the
        integrity flags raised (route inspection) for this period, one per enterprise and
        check."""
        from gosplan.services.fulfilment import store as ful
        from gosplan.storage.base import session_scope

        day = self.period_start(t).date().isoformat()
        rows = []
        for code, out, h in zip(self.codes, output, hours, strict=True):
            rows.append({"enterprise": code, "period": day, "kind": "output", "quantity": out})
            rows.append({"enterprise": code, "period": day, "kind": "hours", "quantity": h})
        now = self._clock(t)
        with session_scope(self.engine) as s:
            ful.ingest(s, pd.DataFrame(rows), now=now, source="living plan")
            run = ful.check(s, as_of=now, now=now, settings=living_check_settings())
            flags = run.flags
        found: list[dict[str, Any]] = []
        if len(flags):
            hit = flags[
                (flags["route"] == "inspection") & (flags["period"].dt.date.astype(str) == day)
            ]
            for (code, check), g in hit.groupby(["enterprise", "check"], sort=True):
                found.append(
                    {
                        "enterprise": str(code),
                        "check": str(check),
                        "period": label,
                        "t": t,
                        "detail": str(g.iloc[0]["detail"]),
                    }
                )
        self.flags.extend(found)
        return found

    def summary(self, cheats: set[str], cheat_from: int) -> dict[str, Any]:
        """What the checks found: every integrity flag, and for each cheating enterprise the
        first check that flagged it once it cheated, and when."""
        flags = [{**f, "cheater": f["enterprise"] in cheats} for f in self.flags]
        found: dict[str, dict[str, Any]] = {}
        for f in flags:
            if f["cheater"] and f["t"] >= cheat_from and f["enterprise"] not in found:
                found[f["enterprise"]] = {
                    "check": f["check"],
                    "period": f["period"],
                    "t": f["t"],
                    "periods_after_start": f["t"] - cheat_from,
                }
        return {
            "ran": True,
            "flags": flags,
            "found": found,
            "missed": sorted(cheats - set(found)),
            "honest_flagged": sorted({f["enterprise"] for f in flags if not f["cheater"]}),
        }
