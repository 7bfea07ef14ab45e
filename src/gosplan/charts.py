"""Charts (matplotlib, headless).  Faces call these; the core never draws."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


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
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


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
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
