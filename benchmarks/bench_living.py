"""The living plan (issue 17): convergence, shock recovery and scale, beside the open-loop twin.

Rows:

* convergence with tastes ±30 % from the base year on the default economy
  (IBGE) and on WIOD GBR 2010: the period from which unmet demand ≤ 2 % and
  the CV of price/value ratios ≤ 5 % hold, and the last period's figures of
  the loop beside the open-loop twin's (goal: within 12 periods);
* a supply shock (30 % of one sector's capacity): periods until that
  sector's unmet demand is back ≤ 2 % (goal: ≤ 6), and the rise of the
  working week while capacity is rebuilt;
* scale through the real ledger (SQLite): the goal's own run, 10 000 persons,
  500 enterprises, 52 weekly periods (goal: 15 minutes), with its conservation
  checks (``--quick``: 50 persons, 4 weeks);

* cohorts: 10⁷ persons in cohort accounts on a synthetic economy of 10⁴
  products, 12 monthly periods, through the same ledger (goal: 30 min).

``python -m benchmarks.bench_living [--quick] [--only scale|cohorts|convergence|shock]``:
``--quick`` runs small populations and few periods; ``--only`` one kind of row. Each row
gives the wall time, the process's CPU time and the load average (the machine is shared).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from gosplan.services.living_plan import Scenario
from gosplan.services.living_plan import run as run_living

ROOT = Path(__file__).resolve().parents[1]
WIOD_GBR = ROOT.parent / "shared" / "data" / "wiod-2016" / "GBR_NIOT_nov16.xlsx"


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _go(sc: Scenario) -> tuple[Any, float]:
    folder = Path(tempfile.mkdtemp(prefix="gosplan-living-"))
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = run_living(
        sc,
        f"sqlite:///{folder / 'loop.db'}",
        twin_url=f"sqlite:///{folder / 'twin.db'}" if sc.open_loop else None,
    )
    res.checks["cpu_s"] = time.process_time() - c0
    return res, time.perf_counter() - t0


def _convergence(name: str, source: str, year: int | None, quick: bool) -> dict[str, Any]:
    sc = Scenario(
        name=name,
        source=source,
        year=year,
        persons=20 if quick else 60,
        enterprises=5 if quick else 10,
        periods=6 if quick else 12,
        taste_fraction=0.1,
        taste_size=0.3,
        seed=11,
        max_goods=None if "default" in source else 40,
    )
    res, secs = _go(sc)
    s = res.summary()
    conv = s["loop"]["converged_at"]
    return {
        "work": f"living plan, tastes ±30 % ({name})",
        "size": f"{sc.persons} persons, {len(res.goods)} goods, {sc.periods} periods",
        "figure": (conv + 1) if conv is not None else "not reached",
        "unit": "periods",
        "peer": "open-loop twin (base plan repeated)",
        "peer_figure": f"unmet {s['open-loop']['unmet_share_last']:.1%}, stock left "
        f"{s['open-loop']['excess_stock_last']:.1%}",
        "goal": "unmet <= 2 % and ratio CV <= 5 % within 12 periods",
        "met": conv is not None and conv + 1 <= 12,
        "note": f"loop last period: unmet {s['loop']['unmet_share_last']:.2%}, CV "
        f"{s['loop']['ratio_cv_last']:.2%}, stock left "
        f"{s['loop']['excess_stock_last']:.1%}; {secs:.0f} s for both sides",
    }


def _shock(quick: bool) -> dict[str, Any]:
    sector = "Agricultura, pecuária, produção florestal, pesca e aquicultura"
    sc = Scenario(
        name="shock",
        source="default",
        persons=20 if quick else 60,
        enterprises=5 if quick else 10,
        periods=8 if quick else 14,
        seed=12,
        shock_sector=sector,
        shock_loss=0.3,
        shock_at=3,
        shock_recovery=0.05,
        open_loop=False,
    )
    res, secs = _go(sc)
    code = res.checks["shock_good"]
    rec = res.recovery(code, 3)
    week = res.side("loop")["working_week"]
    before = float(week.iloc[:3].mean())
    after = float(week.iloc[4:].max())
    return {
        "work": "living plan, 30 % of farming's capacity lost",
        "size": f"{sc.persons} persons, {sc.periods} periods",
        "figure": rec if rec is not None else "not back",
        "unit": "periods to unmet <= 2 %",
        "goal": "<= 6 periods",
        "met": rec is not None and rec <= 6,
        "note": f"peak unmet {res.unmet_by_good[code].max():.1%}; working week "
        f"{before:.1f} h before, up to {after:.1f} h while rebuilding; {secs:.0f} s",
    }


def _scale(quick: bool) -> dict[str, Any]:
    persons, periods, ents = (50, 4, 10) if quick else (10_000, 52, 500)
    sc = Scenario(
        name="scale",
        source="default",
        persons=persons,
        enterprises=ents,
        periods=periods,
        periods_per_year=52,
        seed=13,
        open_loop=False,
    )
    load0 = _load()
    res, secs = _go(sc)
    ok = all(v in ([], True) for k, v in res.checks["loop"].items())
    return {
        "work": "living plan through the real ledger (SQLite)",
        "size": f"{persons} persons, {ents} enterprises, {len(res.goods)} goods, "
        f"{periods} weekly periods",
        "figure": round(secs, 1),
        "unit": "s",
        "goal": "10 000 persons, 500 enterprises, 52 weeks <= 15 min",
        "met": secs <= 900 and persons >= 10_000 and ents >= 500 and periods >= 52,
        "note": f"{secs / (persons * periods) * 1000:.2f} ms a person-week, CPU "
        f"{res.checks['cpu_s']:.0f} s; conservation {'holds' if ok else 'FAILS'}; "
        f"load {load0} before, {_load()} after",
    }


def _cohorts(quick: bool) -> dict[str, Any]:
    products, persons, cohort, periods = (
        (500, 100_000, 10_000, 2) if quick else (10_000, 10_000_000, 100_000, 12)
    )
    sc = Scenario(
        name="cohorts",
        synthetic_products=products,
        synthetic_seed=1,
        persons=persons,
        cohort_size=cohort,
        enterprises=50,
        periods=periods,
        seed=1,
        open_loop=False,
    )
    load0 = _load()
    res, secs = _go(sc)
    ok = all(v in ([], True) for k, v in res.checks["loop"].items())
    return {
        "work": "living plan in cohorts, synthetic economy (SQLite)",
        "size": f"{persons} persons in cohorts of {cohort}, {products} products "
        f"({len(res.goods)} consumer goods), {periods} monthly periods",
        "figure": round(secs, 1),
        "unit": "s",
        "goal": "10^7 persons, 10^4 products, 12 months <= 30 min",
        "met": secs <= 1800 and persons >= 10_000_000 and periods >= 12,
        "note": f"CPU {res.checks['cpu_s']:.0f} s; conservation {'holds' if ok else 'FAILS'}; "
        f"load {load0} before, {_load()} after",
    }


def run(quick: bool, only: str | None = None) -> list[dict[str, Any]]:
    rows = []
    if only in (None, "convergence"):
        rows.append(_convergence("default economy", "default", None, quick))
        if WIOD_GBR.exists():
            rows.append(_convergence("WIOD GBR 2010", str(WIOD_GBR), 2010, quick))
    if only in (None, "shock"):
        rows.append(_shock(quick))
    if only in (None, "scale"):
        rows.append(_scale(quick))
    if only in (None, "cohorts"):
        rows.append(_cohorts(quick))
    return rows


if __name__ == "__main__":
    import json
    import sys

    args = sys.argv[1:]
    pick = args[args.index("--only") + 1] if "--only" in args else None
    print(json.dumps(run("--quick" in args, pick), indent=2, default=str))
