"""Charts (matplotlib, headless).  Faces call these; the core never draws."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _save(fig: Figure, path: str | Path) -> Path:
    """The one epilogue of every chart: lay out, write ``path`` (its folder made), close."""
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def values_vs_prices(
    value_of_output: pd.Series,
    price_of_output: pd.Series,
    path: str | Path,
    *,
    title: str = "",
    value_unit: str = "labour",
    money_unit: str = "money",
) -> Path:
    """Log–log scatter of each sector's output valued in labour against its price."""
    v = value_of_output.to_numpy(dtype=float)
    p = price_of_output.to_numpy(dtype=float)
    ok = (v > 0) & (p > 0)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    ax.scatter(p[ok], v[ok], s=18, alpha=0.7, color="#b22222", edgecolor="none")
    lo = min(p[ok].min(), v[ok].min())
    hi = max(p[ok].max(), v[ok].max())
    ax.plot([lo, hi], [lo, hi], color="#444", lw=0.8, ls="--", label="value = price")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"gross output at market prices ({money_unit})")
    ax.set_ylabel(f"gross output at labour values, scaled ({value_unit})")
    ax.set_title(title or "Labour values against market prices")
    labels = value_of_output.index.to_numpy()
    dev = np.abs(np.log(v[ok] / p[ok]))
    for k in np.argsort(-dev)[:6]:
        idx = np.flatnonzero(ok)[k]
        ax.annotate(str(labels[idx])[:28], (p[idx], v[idx]), fontsize=7, alpha=0.8)
    ax.legend(loc="upper left")
    return _save(fig, path)


def time_series(
    series: Mapping[str, pd.Series],
    path: str | Path,
    *,
    title: str,
    ylabel: str,
) -> Path:
    """One line per named series (e.g. a statistic by year for each country)."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, s in series.items():
        ax.plot(s.index, s.to_numpy(dtype=float), marker="o", ms=3, label=str(name))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plan_by_purpose(
    targets: pd.DataFrame,
    hours_per_week: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "",
    target_unit: str = "",
) -> Path:
    """Targets by purpose (first vs last plan year) and the working week they take.

    ``targets`` and ``hours_per_week`` are purposes × years.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5), dpi=110)
    years = list(targets.columns)
    first, last = years[0], years[-1]
    idx = np.arange(len(targets.index))
    w = 0.4
    ax1.bar(
        idx - w / 2,
        targets[first].to_numpy(dtype=float),
        w,
        label=f"target {first}",
        color="#b22222",
    )
    ax1.bar(
        idx + w / 2, targets[last].to_numpy(dtype=float), w, label=f"target {last}", color="#e08080"
    )
    ax1.set_xticks(idx, [str(p) for p in targets.index], rotation=30, ha="right")
    ax1.set_ylabel(f"target net output ({target_unit})" if target_unit else "target net output")
    ax1.set_title("Targets by purpose")
    ax1.legend(fontsize=8)
    bottom = np.zeros(len(hours_per_week.columns))
    xs = np.arange(len(hours_per_week.columns))
    colours = plt.get_cmap("tab10")
    for k, purpose in enumerate(hours_per_week.index):
        vals = np.clip(hours_per_week.loc[purpose].to_numpy(dtype=float), 0.0, None)
        ax2.bar(xs, vals, 0.6, bottom=bottom, label=str(purpose), color=colours(k % 10))
        bottom += vals
    ax2.set_xticks(xs, [str(c) for c in hours_per_week.columns])
    ax2.set_ylabel("hours per able-bodied person per week")
    ax2.set_title("The plan's working week, by purpose")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title or "Plan: targets and labour by purpose")
    return _save(fig, path)


def working_week(
    week: pd.Series,
    path: str | Path,
    *,
    modern_share: pd.Series | None = None,
    title: str = "",
) -> Path:
    """The working week per able-bodied person by plan year (and the share of output made
    on capacity built during the plan)."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(
        [str(i) for i in week.index],
        week.to_numpy(dtype=float),
        marker="o",
        color="#b22222",
        label="working week",
    )
    for x, y in zip([str(i) for i in week.index], week.to_numpy(dtype=float), strict=True):
        ax.annotate(
            f"{y:.1f} h", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
        )
    ax.set_ylabel("hours per able-bodied person per week")
    ax.set_ylim(0, max(float(week.max()) * 1.2, 1.0))
    ax.grid(alpha=0.3)
    if modern_share is not None:
        ax2 = ax.twinx()
        ax2.bar(
            [str(i) for i in modern_share.index],
            modern_share.to_numpy(dtype=float) * 100,
            alpha=0.2,
            color="#444",
            label="output on new capacity (%)",
        )
        ax2.set_ylabel("output on capacity built in the plan (%)")
        ax2.set_ylim(0, 100)
    ax.set_title(title or "Working week by plan year")
    return _save(fig, path)


def fulfilment_forecast(
    periods: pd.DatetimeIndex,
    ratio: np.ndarray,
    forecast: np.ndarray,
    sd: np.ndarray,
    flags: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """One enterprise's output as a share of plan over time, the forecaster's one-step
    forecast with a ±2 sd band, and a marker for each flagged period (by check)."""
    x = pd.DatetimeIndex(periods)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    ax.fill_between(
        x,
        100 * (forecast - 2 * sd),
        100 * (forecast + 2 * sd),
        color="#999",
        alpha=0.25,
        label="forecast ± 2 sd",
    )
    ax.plot(x, 100 * forecast, color="#666", lw=1, ls="--", label="one-step forecast")
    ax.plot(x, 100 * ratio, color="#b22222", marker="o", ms=3, lw=1.2, label="output / plan")
    ax.axhline(100, color="#222", lw=0.6)
    colours = plt.get_cmap("tab10")
    k = 0
    for name, mask in flags.items():
        m = np.asarray(mask, dtype=bool)
        if m.any():
            y = np.where(np.isfinite(ratio[m]), 100 * ratio[m], 100.0)
            ax.scatter(
                x[m],
                y,
                s=60,
                facecolors="none",
                edgecolors=colours(k),
                lw=1.4,
                label=f"flag: {name}",
                zorder=3,
            )
            k += 1
    ax.set_ylabel("% of plan")
    ax.set_title(title or "Fulfilment over time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.autofmt_xdate()
    return _save(fig, path)


def escalation_ladder(
    levels: list[str],
    open_items: list[int],
    path: str | Path,
    *,
    title: str = "",
) -> Path:
    """Open alerts and directives on each rung of the escalation ladder, bottom rung first."""
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(levels) + 1.6), dpi=110)
    y = np.arange(len(levels))
    ax.barh(
        y,
        open_items,
        color=["#f0a500", "#e07000", "#c03000", "#800000"][: len(levels)]
        + ["#800000"] * max(0, len(levels) - 4),
    )
    ax.set_yticks(y, levels)
    for yi, n in zip(y, open_items, strict=True):
        ax.annotate(str(n), (n, yi), textcoords="offset points", xytext=(4, -3), fontsize=8)
    ax.set_xlabel("open items")
    ax.set_title(title or "Escalation ladder")
    return _save(fig, path)
