"""A living-plan run's figures: what :func:`~gosplan.services.living_plan.runner.run`
returns, and the runs read back from the public log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gosplan.services.living_plan.scenario import Scenario

__all__ = ["LivingPlanRun", "runs_from_log"]


@dataclass
class LivingPlanRun:
    """A run's figures, period by period, for the loop and its open-loop twin.

    ``periods`` has one row per (side, period): ``unmet_share`` (share of
    wanted purchases, at labour value, that found no stock), ``excess_stock``
    (closing stock over what was available), ``ratio_cv`` (coefficient of
    variation of price/value ratios, weighted by sales), ``working_week``,
    labour by purpose (``labour_personal``, ``labour_social``,
    ``labour_investment``, hours per person and week), ``credited``,
    ``spent`` (hours), ``reports_inflated`` and ``mismatches_found``
    (deliveries that did not match reports).  ``unmet_by_good`` has the
    shares of unmet demand per good and period (loop side); ``ratios``, ``sold``
    and ``delivered`` the price/value ratio in force, units sold and units
    delivered per good and period (loop side).
    """

    scenario: Scenario
    periods: pd.DataFrame
    unmet_by_good: pd.DataFrame
    goods: pd.DataFrame
    checks: dict[str, Any]
    log_indices: list[int]
    ratios: pd.DataFrame = field(default_factory=pd.DataFrame)
    sold: pd.DataFrame = field(default_factory=pd.DataFrame)
    delivered: pd.DataFrame = field(default_factory=pd.DataFrame)

    def side(self, label: str) -> pd.DataFrame:
        return self.periods[self.periods["side"] == label].set_index("period")

    def converged_at(
        self, *, unmet: float = 0.02, cv: float = 0.05, label: str = "loop"
    ) -> int | None:
        """First period from which unmet demand ≤ ``unmet`` and ratio CV ≤ ``cv`` hold on."""
        df = self.side(label).reset_index()
        ok = (df["unmet_share"] <= unmet) & (df["ratio_cv"] <= cv)
        for i in range(len(df)):
            if ok.iloc[i:].all():
                return i
        return None

    def recovery(self, good: str, after: int, *, unmet: float = 0.02) -> int | None:
        """Periods after ``after`` until ``good``'s unmet demand is back ≤ ``unmet`` for good."""
        if good not in self.unmet_by_good.columns:
            return None
        s = self.unmet_by_good[good].to_numpy()
        for i in range(after, len(s)):
            if (s[i:] <= unmet).all():
                return i - after
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario.name, "checks": self.checks}
        for label in self.periods["side"].unique():
            df = self.side(str(label))
            last = df.iloc[-1]
            out[str(label)] = {
                "converged_at": self.converged_at(label=str(label)),
                "unmet_share_last": float(last["unmet_share"]),
                "ratio_cv_last": float(last["ratio_cv"]),
                "excess_stock_last": float(last["excess_stock"]),
                "working_week_last": float(last["working_week"]),
                "working_week_first": float(df.iloc[0]["working_week"]),
            }
        return out


def runs_from_log(entries: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Runs recorded in the public log: scenario and figures per period, by run id."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        p = e.get("payload") or {}
        if e.get("kind") == "living.run" and p.get("side", "loop") == "loop":
            out[str(p["run"])] = {
                "run": p["run"],
                "scenario": p["scenario"],
                "goods": p.get("goods", []),
                "periods": [],
                "start_index": e["index"],
            }
        elif (
            e.get("kind") == "living.period"
            and str(p.get("run")) in out
            and p.get("side") == "loop"
        ):
            out[str(p["run"])]["periods"].append({**p, "index": e["index"]})
    return out
