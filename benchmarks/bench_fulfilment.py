"""Fulfilment checks: scale (100 000 enterprises × 52 weekly reports) and detection by fault kind.

A population is built from WIOD 2016 GBR 2010 (55 sectors; the default
economy if the file is absent), honest weekly reports are simulated with
5 % of enterprises given one fault each (see
:mod:`gosplan.services.fulfilment.simulator`), and the whole check suite
(pivot of the long tables, late, shortfall, the Harrison–Stevens
forecaster, norms, supplier/customer gaps) is timed.  The peer is the
forecaster alone done the usual way, one statsmodels ``UnobservedComponents``
filter per enterprise, timed on 200 series and scaled to the population.

Detection rows come from the fault library (:mod:`gosplan.services.fulfilment.faults`),
kept apart from the checks: 26 weeks of honest history, then 26 weekly runs,
the register holding engineering norms with 10 % error for 70 % of the
enterprises and only sector norms for the rest; noise at 1x and 2x the
simulator's levels with t(4) tails, and 2x Gaussian.  Each row is the share
of a fault kind found within its goal's weeks (issue 14's table), the share
of honest shortfalls classed as help and never inspection, and the share of
untouched honest enterprises any weekly run sent to inspection (goal ≤ 1 %)
or to help.  Sizes: ``GOSPLAN_BENCH_FUL_DETECT_N`` enterprises (default
1 000) × three seeds; ``GOSPLAN_BENCH_FUL_N`` for the timing (default 10^5).

Run alone with ``.venv/bin/python -m benchmarks.run --only fulfilment``.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WIOD = (
    Path(os.environ.get("GOSPLAN_DATA", ROOT.parent / "shared" / "data"))
    / "wiod-2016"
    / "GBR_NIOT_nov16.xlsx"
)


def _economy() -> tuple[Any, str]:
    from gosplan.readers.registry import open_source

    if WIOD.exists():
        return open_source(str(WIOD), year=2010), "WIOD GBR 2010"
    return open_source("default"), "default economy"


def _statsmodels_per_series(ratio: np.ndarray, n: int = 200) -> float:
    """Seconds to filter ``n`` series one by one with statsmodels (fixed variances)."""
    import statsmodels.api as sm

    from gosplan.services.fulfilment.forecast import ForecastSettings, robust_sd

    s = ForecastSettings()
    rows = ratio[:n]
    sd = robust_sd(rows)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y, v in zip(rows, sd * sd, strict=True):
            model = sm.tsa.UnobservedComponents(y, level="local linear trend")
            model.filter([v, s.level_noise * v, s.slope_noise * v])
    return time.perf_counter() - t0


#: detection goals of issue 14: fault -> (share found, within weeks)
GOALS = {
    "output_up_15": (99.0, 1),
    "inputs_down_25": (99.0, 1),
    "ghost_hours": (99.0, 1),
    "phantom_delivery": (99.0, 1),
    "output_up_5": (90.0, 8),
    "cooperating_pair": (90.0, 4),
    "copy_whole": (95.0, 3),
    "copy_output_hours": (95.0, 3),
    "slow_decline": (90.0, 4),
    "rounded_reports": (95.0, 4),  # ours: the issue sets no goal for heaping
    "honest_shortfall": (95.0, 0),
}


def detection(
    economy: Any,
    *,
    n: int,
    per_kind: int,
    scale: float,
    tail_df: float | None,
    seeds: tuple[int, ...],
) -> Any:
    """The fault library against the checks: 26 weeks of history, then 26 weekly runs,
    estimated norms (the register holds engineering norms with 10 % error, or none)."""
    import pandas as pd

    from gosplan.services.fulfilment import faults as F
    from gosplan.services.fulfilment.checks import build_panel, run_checks
    from gosplan.services.fulfilment.simulator import build_population

    tables = []
    for seed in seeds:
        pop, links = build_population(economy, enterprises=n, periods=52, seed=seed)
        reg = F.register_view(pop, links, seed=seed)
        case = F.generate(
            pop,
            links,
            faults=dict.fromkeys(F.FAULTS, per_kind),
            first_start=26,
            last_start=43,
            noise=F.Noise(scale=scale, tail_df=tail_df),
            seed=seed + 1,
        )
        res = run_checks(reg, build_panel(reg, case.reports, case.lines))
        inspect, helped = res.routes()
        tables.append(
            F.evaluate(
                inspect, helped, case, first_run=26, within={k: w for k, (_, w) in GOALS.items()}
            )
        )
    t = pd.concat(tables)
    num = t.drop(columns=["note"]).groupby(level=0, sort=False)
    out = num.mean()
    out["cases"] = num["cases"].sum()
    return out


def run(quick: bool) -> list[dict[str, Any]]:
    from gosplan.services.fulfilment.checks import build_panel, run_checks
    from gosplan.services.fulfilment.simulator import build_population, simulate

    economy, name = _economy()
    rows: list[dict[str, Any]] = []
    size = int(os.environ.get("GOSPLAN_BENCH_FUL_DETECT_N", "1000"))
    for scale, tail in ((1.0, 4.0), (2.0, 4.0), (2.0, None)):
        w0 = time.perf_counter()
        t = detection(
            economy, n=size, per_kind=max(1, size // 70), scale=scale, tail_df=tail, seeds=(0, 1, 2)
        )
        secs = time.perf_counter() - w0
        load_now = os.getloadavg()[0]
        noise = f"noise {scale:g}x, " + (f"t({tail:g}) tails" if tail else "Gaussian")
        for kind, r in t.iterrows():
            honest = str(kind).startswith("honest:")
            share, within = GOALS.get(str(kind), (1.0, 0))
            fig = float(r["found_pct"] if honest else r["found_within_pct"])
            goal = (
                ("<= 1 %" if "inspection" in str(kind) else "(reported)")
                if honest
                else (f">= {share:g} % within {within} wk" if within else f">= {share:g} %")
            )
            rows.append(
                {
                    "work": f"{kind} ({noise})",
                    "size": f"{int(r['cases'])} cases, {size} ents x3",
                    "figure": round(fig, 1),
                    "unit": "%",
                    "goal": goal,
                    "met": (fig <= 1.0 if "inspection" in str(kind) else None)
                    if honest
                    else bool(fig >= share),
                    "note": ""
                    if honest
                    else f"found at all {r['found_pct']:.0f} %, median delay "
                    f"{r['median_delay']:.1f} wk; {secs:.0f} s for three seeds, "
                    f"load {load_now:.1f}",
                }
            )
    n = int(os.environ.get("GOSPLAN_BENCH_FUL_N", "10000" if quick else "100000"))
    periods = 52
    pop, links = build_population(economy, enterprises=n, periods=periods, seed=0)
    sim = simulate(pop, links, fault_share=0.05, seed=1)
    n_lines = len(sim.lines)
    load = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    panel = build_panel(pop, sim.reports, sim.lines)
    res = run_checks(pop, panel)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    load_end = os.getloadavg()[0]
    per = _statsmodels_per_series(res.ratio)
    peer = per / 200 * pop.n
    rows.insert(
        0,
        {
            "work": "fulfilment checks (all kinds, causal, learnt norms)",
            "size": f"{pop.n:,} enterprises × {periods} weeks",
            "figure": round(wall, 2),
            "unit": "s",
            "peer": "forecaster alone, statsmodels per series (200 timed, scaled)",
            "peer_figure": round(peer, 1),
            "ratio": round(peer / wall, 1),
            "goal": "<= 60 s",
            "met": wall <= 60.0,
            "note": f"{name}; {len(links.supplier):,} links, {n_lines:,} report lines; "
            f"CPU {cpu:.1f} s; load avg {load:.1f} -> {load_end:.1f} on {os.cpu_count()} cores",
        },
    )
    return rows


if __name__ == "__main__":
    import sys

    from benchmarks.run import table as _table

    print(_table(run("--quick" in sys.argv)))
