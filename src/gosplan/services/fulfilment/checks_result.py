"""What the checks are called and how they are tuned (:class:`CheckSettings`), and what
they found (:class:`CheckResult`: flags, evidence, routes to inspection or help)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks_panel import Panel, Population
from gosplan.services.fulfilment.estimates import NormSettings
from gosplan.services.fulfilment.forecast import Forecast, ForecastSettings

CHECKS = (
    "late",
    "shortfall",
    "break",
    "transient",
    "padding",
    "hours_excess",
    "diversion",
    "mismatch",
    "partner_differs",
    "balance",
    "copying",
    "smooth",
    "heaping",
)
#: checks that speak to the honesty of reports: they send an enterprise to inspection
INTEGRITY = (
    "late",
    "padding",
    "hours_excess",
    "diversion",
    "mismatch",
    "balance",
    "copying",
    "smooth",
    "heaping",
)
#: checks that ask for help when the reports are consistent
HELP = ("shortfall",)


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds of the checks (see the module docstring)."""

    z_week: float = 20.0  # one week's standardised residual that alone raises a flag
    z_pair: float = 3.5  # ... or two weeks running beyond this
    z_gap: float = 25.0  # one week's delivery/receipt gap (recording noise is small)
    z_line: float = 5.0  # two weeks running of one input line (several lines per enterprise)
    cusum_k: float = 0.75  # CUSUM reference (half the shift, in sd, it is tuned to find)
    gap_k: float = 1.0  # CUSUM reference of delivery/receipt gaps and of inputs above norm
    cusum_h: float = 10.0  # CUSUM decision interval
    huber_c: float = 2.5  # a week's residual is clipped at this before it accumulates
    hours_clip: float = 5.0  # hours per unit: each week counts at most this in a 2-week sum
    hours_sum: float = 5.5  # ... that raises hours_excess above this (Gaussian tails)
    hours_sum_tail: float = 2.0  # ... plus this times the population's tail index
    settled_weeks: int = 12  # weeks of history before the two-week sums apply
    needs_k: float = 1.0  # CUSUM of all needs per unit (padding): reference
    needs_h: float = 5.0  # ... decision interval (Gaussian tails)
    needs_h_tail: float = 2.0  # ... plus this times the inputs' tail index
    needs_clip: float = 3.5  # ... a week's residual clipped at this
    needs_sum: float = 6.5  # ... or two weeks' (each clipped at hours_clip) below minus this
    needs_sum_tail: float = 2.0  # ... minus this times the inputs' tail index
    drift_weeks: int = 5  # slow decline: needs per unit weighted over this many weeks
    drift_clip: float = 3.5  # ... each week's residual clipped at this
    drift_z: float = 4.75  # ... raises padding beyond this (see estimates.drift_sum)
    blame_margin: float = 2.0  # how much further one side's figures must have moved
    balance_weeks: int = 4
    stock_weeks: float = 8.0  # weeks of output a supplier may deliver from stock
    copy_lookback: int = 8
    smooth_weeks: int = 4
    smooth_p: float = 1e-8  # chi-square lower-tail probability for "too smooth"
    round_digits: int = 2
    round_weeks: int = 4
    round_min: int = 6  # round figures (output and hours) in the last round_weeks
    shortfall_tol: float = 0.25
    help_weeks: int = 4  # a shortfall with no integrity flag in this many weeks is help
    help_z: float = 4.0  # ... if it lasts, or falls this many forecast sd below the forecast
    p_break: float = 0.6
    p_transient: float = 0.97
    grace_days: float = 3.0
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    norms: NormSettings = field(default_factory=NormSettings)


@dataclass
class CheckResult:
    """What the checks found.  ``masks[check]`` is an enterprise × period boolean array."""

    population: Population
    panel: Panel
    masks: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    z: dict[str, np.ndarray]  # standardised residuals: hours, inputs, needs (all per unit)
    stats: dict[str, np.ndarray]  # CUSUM paths and counts behind the flags
    forecast: Forecast
    ratio: np.ndarray  # output / plan
    link_mask: np.ndarray  # link × period: mismatch flagged
    link_blame: np.ndarray  # link × period: 0 none, 1 supplier, 2 customer, 3 undecided
    link_z: tuple[np.ndarray, np.ndarray, np.ndarray]  # gap, supplier side, customer side

    def any_flag(self, checks: Sequence[str] = CHECKS) -> np.ndarray:
        out = np.zeros((self.population.n, self.population.T), dtype=bool)
        for c in checks:
            out |= self.masks[c]
        return out

    def routes(self, settings: CheckSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inspection, help) masks: an integrity flag this week sends the enterprise to
        inspection; a shortfall with no integrity flag in the last ``help_weeks`` weeks
        (the reports moved together) asks for help when it lasts (two weeks running) or
        lies beyond ``help_z`` of the enterprise's own forecast band.  Any other
        shortfall week is information only (ordinary noise below the line)."""
        s = settings or CheckSettings()
        inspect = self.any_flag(INTEGRITY)
        short = self.any_flag(HELP)
        lasting = short.copy()
        lasting[:, 1:] &= short[:, :-1]
        lasting[:, 0] = False
        with np.errstate(invalid="ignore"):
            surprising = (self.ratio - self.forecast.forecast) < -s.help_z * self.forecast.sd
        helped = short & (lasting | surprising) & ~_recent(inspect, s.help_weeks)
        return inspect, helped

    def counts(self) -> dict[str, int]:
        return {c: int(m.sum()) for c, m in self.masks.items()}

    def flags(self, *, limit: int | None = None) -> pd.DataFrame:
        """One row per flag: enterprise, sector, period, check, value, detail (why)."""
        pop = self.population
        frames = []
        for check in CHECKS:
            e, t = np.nonzero(self.masks[check])
            if not len(e):
                continue
            v = self.values[check][e, t]
            frames.append(
                pd.DataFrame(
                    {
                        "enterprise": pop.codes[e],
                        "sector": np.asarray(pop.sectors, dtype=object)[pop.sector[e]],
                        "period": pop.periods[t],
                        "check": check,
                        "value": v,
                        "e": e,
                        "t": t,
                    }
                )
            )
        if not frames:
            return pd.DataFrame(
                columns=[
                    "enterprise",
                    "sector",
                    "period",
                    "check",
                    "value",
                    "detail",
                    "route",
                    "evidence",
                ]
            )
        df = pd.concat(frames, ignore_index=True).sort_values(["period", "enterprise", "check"])
        if limit is not None:
            df = df.head(limit)
        df["detail"] = [_detail(c, v) for c, v in zip(df["check"], df["value"], strict=True)]
        df["route"] = np.where(
            df["check"].isin(INTEGRITY),
            "inspection",
            np.where(df["check"].isin(HELP), "help", "information"),
        )
        ev = self._evidence(df["e"].to_numpy(np.int64), df["t"].to_numpy(np.int64))
        df["evidence"] = ev
        ins, hlp = self.routes()
        ei, ti = df["e"].to_numpy(np.int64), df["t"].to_numpy(np.int64)
        recent = _recent(ins, CheckSettings().help_weeks)[ei, ti]
        is_help = df["check"].isin(HELP).to_numpy()
        df.loc[is_help & ~hlp[ei, ti], "route"] = "information"
        df.loc[is_help & recent, "route"] = "inspection"
        return df.drop(columns=["e", "t"]).reset_index(drop=True)

    def _evidence(self, e: np.ndarray, t: np.ndarray) -> list[str]:
        """The numbers behind a flag, in words: per-unit residuals, their CUSUMs and the
        drift filter of falling needs."""
        zh, zi, zn = (self.z[k][e, t] for k in ("hours", "inputs", "needs"))
        cl = self.stats["needs_cusum_low"][e, t]
        ch = self.stats["hours_cusum"][e, t]
        ci = self.stats["inputs_cusum"][e, t]
        dr = self.stats["needs_drift"][e, t]
        lvl = self.forecast.level[e, t]

        def f(x: float) -> str:
            return f"{x:+.1f}" if np.isfinite(x) else "n/a"

        return [
            f"residuals in sd of this enterprise's learnt norms: hours/output {f(a)}, "
            f"inputs/output {f(b)}, all needs {f(c)}; CUSUM needs-low {d:.1f}, "
            f"hours {g:.1f}, inputs {h:.1f}; needs falling (drift) {f(r)}; "
            f"output/plan level {f(lv)}"
            for a, b, c, d, g, h, r, lv in zip(zh, zi, zn, cl, ch, ci, dr, lvl, strict=True)
        ]

    def fulfilment(self, by: str = "sector") -> pd.DataFrame:
        """Output against plan, last period and cumulative, per enterprise, sector or economy."""
        pop, out = self.population, self.panel.output
        seen = np.isfinite(out)
        last = int(np.flatnonzero(seen.any(axis=0)).max()) if seen.any() else 0
        out0 = np.where(seen, out, 0.0)
        plan_seen = np.where(seen, pop.plan, 0.0)
        cum_out, cum_plan = out0[:, : last + 1].sum(1), pop.plan[:, : last + 1].sum(1)
        frame = pd.DataFrame(
            {
                "enterprise": pop.codes,
                "sector": np.asarray(pop.sectors, dtype=object)[pop.sector],
                "period_output": out0[:, last],
                "period_plan": pop.plan[:, last],
                "cumulative_output": cum_out,
                "cumulative_plan": cum_plan,
                "reported_plan": plan_seen[:, : last + 1].sum(1),
                "flags": self.any_flag().sum(1),
            }
        )
        if by == "enterprise":
            g = frame.set_index("enterprise")
        elif by == "sector":
            g = frame.groupby("sector", sort=False).sum(numeric_only=True)
        elif by == "economy":
            g = frame.sum(numeric_only=True).to_frame("economy").T
        else:
            raise ValidationError(
                f"fulfilment table `by` must be enterprise, sector or economy; got {by!r}."
            )
        g = g.copy()
        g["period_pct"] = 100 * g["period_output"] / g["period_plan"].where(g["period_plan"] > 0)
        g["cumulative_pct"] = (
            100 * g["cumulative_output"] / g["cumulative_plan"].where(g["cumulative_plan"] > 0)
        )
        g.attrs["period"] = pop.periods[last]
        return g


def _detail(check: str, v: float) -> str:
    if check == "late":
        return (
            "no report received"
            if not np.isfinite(v)
            else f"report received {v:.1f} days after the period ended"
        )
    if check == "shortfall":
        return f"output {100 * v:.0f} % of plan"
    if check == "break":
        return f"probability of a step or slope change {v:.2f}"
    if check == "transient":
        return f"probability of a one-off transient {v:.2f}"
    if check == "diversion":
        return (
            f"an input per unit of output {v:+.1f} sd from this enterprise's learnt norm "
            "(or inputs accumulating above it)"
        )
    if check == "padding":
        return (
            f"inputs and hours per unit of output {v:+.1f} sd from the learnt norms "
            "(this week or accumulated): output reported without what it needs"
        )
    if check == "hours_excess":
        return f"hours per unit of output {v:+.1f} sd from the learnt norm (or accumulating)"
    if check in ("mismatch", "partner_differs") and abs(v) >= np.log(1e6) - 1e-9:
        return "one side reports a delivery or receipt that the other side reports as nothing" + (
            "; this side's own figures moved away from its history"
            if check == "mismatch"
            else "; this side's figures agree with its own history"
        )
    if check == "mismatch":
        return (
            f"largest delivery/receipt gap {100 * (np.exp(v) - 1):+.0f} % with a "
            "counterparty; this side's own figures moved away from its history"
        )
    if check == "partner_differs":
        return (
            f"a counterparty's figure differs by {100 * (np.exp(v) - 1):+.0f} %; this "
            "side's figures agree with its own history"
        )
    if check == "balance":
        return f"deliveries {100 * v:.0f} % of own output over 4 weeks, beyond output and stock"
    if check == "copying":
        return f"output and hours identical to those of {v:.0f} week(s) before"
    if check == "smooth":
        return f"week-to-week changes {np.sqrt(v):.2f} of this enterprise's usual size"
    if check == "heaping":
        return f"{v:.0f} round figures in the last weeks"
    return f"{v:g}"


def _recent(mask: np.ndarray, weeks: int) -> np.ndarray:
    """True where ``mask`` holds in this week or one of the ``weeks - 1`` before it."""
    out = mask.copy()
    for j in range(1, weeks):
        out[:, j:] |= mask[:, :-j]
    return out
