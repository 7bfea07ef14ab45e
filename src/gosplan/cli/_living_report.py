"""The living plan's one-page report (Markdown) and its charts (PNG), for an assembly to read."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd


def _charts(run: Any, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: dict[str, str] = {}
    p = run.periods
    sides = list(dict.fromkeys(p["side"]))
    styles: dict[str, dict[str, Any]] = {
        "loop": dict(color="#b22222", lw=2.0),
        "open-loop": dict(color="#555", lw=1.4, ls="--"),
    }

    def series(col: str, ylabel: str, title: str, name: str, pct: bool = False) -> None:
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
        for side in sides:
            d = p[p["side"] == side]
            y = d[col] * (100 if pct else 1)
            ax.plot(d["t"] + 1, y, label=side, **styles.get(side, {}))
        ax.set_xlabel("period")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        fig.tight_layout()
        fig.savefig(out / name)
        plt.close(fig)
        files[col] = name

    series("unmet_share", "% of wanted purchases", "Unmet demand", "unmet.png", pct=True)
    series(
        "ratio_cv",
        "coefficient of variation, %",
        "Dispersion of price/value ratios",
        "ratios.png",
        pct=True,
    )
    series("working_week", "hours per able person", "Working week", "week.png")
    series("excess_stock", "% of what was available", "Stock left over", "stock.png", pct=True)
    d = p[p["side"] == "loop"]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.stackplot(
        d["t"] + 1,
        d["labour_personal"],
        d["labour_social"],
        d["labour_investment"],
        labels=["personal", "social", "investment"],
        colors=["#b22222", "#4c72b0", "#999"],
        alpha=0.85,
    )
    ax.set_xlabel("period")
    ax.set_ylabel("hours per able person and week")
    ax.set_title("Labour by purpose (the loop)")
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "purpose.png")
    plt.close(fig)
    files["purpose"] = "purpose.png"
    return files


def _fmt(x: float, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x * 100:.1f} %" if pct else f"{x:.2f}"


def write_report(run: Any, out: str | Path) -> Path:
    """Write ``report.md``, the charts, ``periods.csv``, ``unmet_by_good.csv`` and
    ``summary.json`` into ``out``; return the report's path."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = _charts(run, folder)
    run.periods.to_csv(folder / "periods.csv", index=False)
    run.unmet_by_good.to_csv(folder / "unmet_by_good.csv", index_label="period")
    summary = run.summary()
    (folder / "summary.json").write_text(
        json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
    )
    sc = run.scenario
    loop, twin = summary.get("loop", {}), summary.get("open-loop")
    who = f"cohorts of {sc.cohort_size}" if sc.cohort_size > 1 else "one account each"
    lines = [
        f"# The living plan: {sc.name}",
        "",
        f"{sc.persons} persons ({who}), "
        f"{sc.enterprises} enterprises, {sc.periods} periods ({sc.periods_per_year} a year) "
        f"on `{sc.source}`; seed {sc.seed}. Every figure is computed from the real "
        "labour-time accounts (hours recorded, approved, credited less the deduction; "
        "purchases; period close) and is in the public log (`living.period`).",
        "",
    ]
    events = []
    if sc.taste_fraction:
        events.append(
            f"tastes differ from the base year: {sc.taste_fraction:.0%} of goods "
            f"wanted ±{sc.taste_size:.0%}"
        )
    if sc.shock_sector:
        events.append(
            f"supply shock: {sc.shock_loss:.0%} of `{sc.shock_sector}`'s capacity "
            f"lost at period {sc.shock_at + 1}"
        )
    if sc.cheater_share:
        events.append(
            f"{sc.cheater_share:.0%} of enterprises inflate their reports by "
            f"{sc.cheater_inflate:.0%}"
        )
    if sc.vote_at is not None:
        events.append(
            f"the households vote on capping the working week at {sc.vote_max_week} hours "
            f"from period {sc.vote_at + 1} ({sc.vote_turnout:.0%} turn out, "
            f"{sc.vote_support:.0%} of them for the cap)"
        )
    if events:
        lines += ["**What happens:** " + "; ".join(events) + ".", ""]
    conv = loop.get("converged_at")
    twin_conv = (
        "—"
        if not twin
        else "not reached"
        if twin["converged_at"] is None
        else str(twin["converged_at"] + 1)
    )
    lines += [
        "## In one table",
        "",
        "| | the loop | open loop (base plan repeated, no feedback) |",
        "|---|---|---|",
        f"| unmet demand, last period | {_fmt(loop.get('unmet_share_last'), True)} | "
        f"{_fmt(twin['unmet_share_last'], True) if twin else '—'} |",
        f"| dispersion of price/value ratios (CV), last period | "
        f"{_fmt(loop.get('ratio_cv_last'), True)} | "
        f"{_fmt(twin['ratio_cv_last'], True) if twin else '—'} |",
        f"| stock left over, last period | {_fmt(loop.get('excess_stock_last'), True)} |"
        f" {_fmt(twin['excess_stock_last'], True) if twin else '—'} |",
        f"| working week, first → last period | "
        f"{_fmt(loop.get('working_week_first'))} → {_fmt(loop.get('working_week_last'))} h"
        f" | {_fmt(twin['working_week_first']) if twin else '—'} → "
        f"{_fmt(twin['working_week_last']) if twin else '—'} h |",
        f"| unmet demand ≤ 2 % and ratio CV ≤ 5 % from period | "
        f"{conv + 1 if conv is not None else 'not reached'} | {twin_conv} |",
        "",
    ]
    checks = run.checks
    broken = any(checks.get(s, {}).get("ledger_problems") for s in ("loop", "open-loop"))
    lines += [
        "## Checks",
        "",
        "- ledger invariants (every transaction sums to zero, balances match): "
        f"{'BROKEN' if broken else 'hold'}",
        *[
            f"- {k.replace('_', ' ')}: {'yes' if v else 'NO'}"
            for k, v in checks.get("loop", {}).items()
            if k != "ledger_problems"
        ],
        f"- cheating enterprises: {', '.join(checks.get('cheaters', [])) or 'none'}; "
        f"found by comparing the shops' receipts with the reports: "
        f"{', '.join(checks.get('found', [])) or 'none'}",
        *_statistical_lines(checks.get("statistical") or {}),
        *_vote_lines(checks.get("vote")),
        "",
    ]
    lines += ["## Charts", ""]
    for title, key in [
        ("Unmet demand", "unmet_share"),
        ("Dispersion of price/value ratios", "ratio_cv"),
        ("Working week", "working_week"),
        ("Stock left over", "excess_stock"),
        ("Labour by purpose", "purpose"),
    ]:
        lines.append(f"![{title}]({files[key]})")
    lines.append("")
    by_good = run.unmet_by_good
    worst = by_good.max().sort_values(ascending=False).head(5)
    if len(worst) and worst.iloc[0] > 0:
        lines += [
            "## Goods that ran short (highest unmet share in any period)",
            "",
            "| good | worst | last |",
            "|---|---|---|",
        ]
        for g, v in worst.items():
            lines.append(f"| {g} | {v:.1%} | {by_good[g].iloc[-1]:.1%} |")
        lines.append("")
    lines += ["## Period by period (the loop)", "", _table(run.side("loop")), ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _table(df: pd.DataFrame) -> str:
    cols = [
        "unmet_share",
        "excess_stock",
        "ratio_cv",
        "working_week",
        "deduction_rate",
        "mismatches_found",
    ]
    head = "| period | unmet | stock left | ratio CV | week (h) | deduction | mismatches |"
    out = [head, "|" + "---|" * (len(cols) + 1)]
    for period, r in df[cols].iterrows():
        out.append(
            f"| {period} | {r['unmet_share']:.1%} | {r['excess_stock']:.1%} | "
            f"{r['ratio_cv']:.1%} | {r['working_week']:.1f} | {r['deduction_rate']:.1%}"
            f" | {int(r['mismatches_found'])} |"
        )
    return "\n".join(out)


def _statistical_lines(st: dict[str, Any]) -> list[str]:
    """Which fulfilment check found which cheat, and when; honest enterprises flagged."""
    if not st.get("ran"):
        return ["- fulfilment checks: not run (they need monthly or weekly periods)"]
    found = st.get("found", {})
    out = [
        "- found by the fulfilment checks (statistical, on the reports alone): "
        + (
            "; ".join(
                f"{e} by `{f['check']}` in {f['period']} "
                f"({f['periods_after_start']} period(s) after the cheat began)"
                for e, f in sorted(found.items())
            )
            or "none"
        )
    ]
    if st.get("missed"):
        out.append(f"- missed by the fulfilment checks: {', '.join(st['missed'])}")
    honest = st.get("honest_flagged", [])
    out.append(f"- honest enterprises flagged for inspection: {', '.join(honest) or 'none'}")
    return out


def _vote_lines(vote: dict[str, Any] | None) -> list[str]:
    """The vote taken through the decisions service, if the scenario has one."""
    if not vote:
        return []
    return [
        f"- vote (proposal {vote['proposal']}, closed before {vote['period']}): "
        f"{vote['ballots']} ballots of {vote['electorate']} voters, quorum {vote['quorum']} "
        f"{'met' if vote['quorum_met'] else 'NOT met'}; approvals {vote['scores']}; "
        f"adopted: {vote['adopted'] or 'nothing'}"
    ]
