"""A fault library kept apart from the checks: honest reports with realistic noise,
a register as a real one would hold it, and cheats of known kinds and times.

The checks never see what is here except the long tables of reports and a
:class:`~.checks.Population` built by :func:`register_view`, which holds
*engineering norms with error* (log-normal, ``register_error``) for a share
of the enterprises and only the sector's norms for the rest — never the
coefficients that generated the data.

Honest reports (:func:`honest`) follow :func:`.simulator.build_population`'s
structure: persistent performance, a slow AR(1) drift, per-enterprise output
noise, noise on hours (3 %) and inputs (2 %), recording noise on deliveries
and receipts (0.5 %), all multiplied by ``noise`` and drawn from a Student
``t`` with ``tail_df`` degrees of freedom (heavy tails; ``None`` = Gaussian)
scaled to the same standard deviation.

Faults (:data:`FAULTS`), each starting at a known week and lasting to the end:

=====================  =====================================================
``output_up_15``       output reported 15 % above what was made
``inputs_down_25``     a quarter of the inputs received vanish from the books
                       (the receipt reported 25 % below what the suppliers
                       delivered and say they delivered)
``ghost_hours``        hours reported 30 % above those worked
``phantom_delivery``   a delivery the customer never received (half its
                       usual size again) reported, with the output it claims
``output_up_5``        output reported 5 % above what was made
``cooperating_pair``   supplier and customer both report one delivery 30 %
                       larger than it was; the supplier claims the output
``copy_whole``         every figure of the last honest week repeated (half
                       the copiers add 0.2 % jitter so no figure repeats)
``copy_output_hours``  output and hours of the last honest week repeated
                       (same jitter), inputs and deliveries real
``slow_decline``       output falls 2 % a week, reported flat (inputs and
                       hours real)
``rounded_reports``    output and hours made up as round figures (two
                       significant digits) instead of counted
``honest_shortfall``   capacity falls 30 %: output, hours and inputs fall
                       together and are reported truthfully
=====================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks import DELIVERY, INPUT, Population
from gosplan.services.fulfilment.simulator import Links

FAULTS = (
    "output_up_15",
    "inputs_down_25",
    "ghost_hours",
    "phantom_delivery",
    "output_up_5",
    "cooperating_pair",
    "copy_whole",
    "copy_output_hours",
    "slow_decline",
    "rounded_reports",
    "honest_shortfall",
)
#: faults whose figures disagree with a partner's (the partner is not counted honest)
_PARTNER_FAULTS = ("inputs_down_25", "phantom_delivery", "cooperating_pair", "copy_whole")


@dataclass(frozen=True)
class Noise:
    """Noise levels as multiples of the present ones, and the tails' degrees of freedom."""

    scale: float = 1.0
    tail_df: float | None = 4.0


@dataclass
class Case:
    """Reports and lines (long tables for :func:`.checks.build_panel`) and the truth."""

    reports: pd.DataFrame
    lines: pd.DataFrame
    truth: pd.DataFrame  # enterprise, kind, start, link, partner
    touched: np.ndarray  # enterprise: a fault of its own or a partner's disagrees with it


def _draw(
    rng: np.random.Generator, shape: tuple[int, ...], sd: float | np.ndarray, noise: Noise
) -> np.ndarray:
    if noise.tail_df is None:
        x = rng.standard_normal(shape)
    else:
        df = noise.tail_df
        x = rng.standard_t(df, shape) * np.sqrt((df - 2) / df)
    return np.exp(np.clip(noise.scale * sd * x, -2.0, 2.0))


def register_view(
    pop: Population,
    links: Links,
    *,
    own_share: float = 0.7,
    register_error: float = 0.10,
    seed: int = 0,
) -> Population:
    """The population as a register holds it: own engineering norms with error for
    ``own_share`` of the enterprises, the sector's norms (medians) for the others."""
    rng = np.random.default_rng(seed)
    E = pop.n
    own = rng.uniform(size=E) < own_share
    own_h = rng.uniform(size=E) < own_share
    err = np.exp(register_error * rng.standard_normal(len(pop.norm_per_unit)))
    key = pop.sector[pop.norm_enterprise] * len(pop.sectors) + pop.norm_product
    sector_norm = pd.Series(pop.norm_per_unit).groupby(key).transform("median").to_numpy()
    per_unit = np.where(own[pop.norm_enterprise], pop.norm_per_unit * err, sector_norm)
    h_sector = pd.Series(pop.hours_norm).groupby(pop.sector).transform("median").to_numpy()
    hours = np.where(
        own_h, pop.hours_norm * np.exp(register_error * rng.standard_normal(E)), h_sector
    )
    return replace(pop, norm_per_unit=per_unit, hours_norm=hours, own_norms=own, own_hours=own_h)


def generate(
    pop: Population,
    links: Links,
    *,
    faults: dict[str, int] | None = None,
    first_start: int = 26,
    last_start: int | None = None,
    noise: Noise | None = None,
    seed: int = 1,
) -> Case:
    """Honest reports for every enterprise and week, and ``faults[kind]`` enterprises
    given that fault from a week drawn in ``[first_start, last_start]``."""
    nz = noise or Noise()
    rng = np.random.default_rng(seed)
    E, T, L = pop.n, pop.T, len(links.supplier)
    last_start = T - 1 if last_start is None else last_start
    if not 1 <= first_start <= last_start < T:
        raise ValidationError(
            f"fault starts must lie in 1..{T - 1}; got {first_start}..{last_start}."
        )
    faults = dict(faults or {})
    bad = [k for k in faults if k not in FAULTS]
    if bad:
        raise ValidationError(f"unknown faults {bad}; known: {list(FAULTS)}.")
    perf = rng.normal(1.0, 0.03, E)
    drift = np.zeros((E, T))
    shocks = rng.normal(0.0, 0.01 * nz.scale, (E, T))
    for t in range(1, T):
        drift[:, t] = 0.8 * drift[:, t - 1] + shocks[:, t]
    out_sd = rng.uniform(0.02, 0.06, E)
    true_out = pop.plan * perf[:, None] * (1 + drift) * _draw(rng, (E, T), out_sd[:, None], nz)
    cap = np.ones((E, T))  # honest capacity factor (shortfall)
    hours_noise = _draw(rng, (E, T), 0.03, nz)
    need_noise = _draw(rng, (L, T), 0.02, nz)
    rec_d = _draw(rng, (L, T), 0.005, nz)
    rec_r = _draw(rng, (L, T), 0.005, nz)
    lag = rng.uniform(0.0, 2.5, (E, T))
    # who gets which fault: enterprises with the links a fault needs
    has_out = np.bincount(links.supplier, minlength=E) > 0
    has_in = np.bincount(links.customer, minlength=E) > 0
    free = np.ones(E, bool)
    rows = []
    for kind, count in faults.items():
        need = {
            "inputs_down_25": has_in,
            "phantom_delivery": has_out,
            "cooperating_pair": has_out,
        }.get(kind, np.ones(E, bool))
        cand = np.flatnonzero(free & need)
        pick: list[int] = []
        for e in rng.permutation(cand):
            if len(pick) == count:
                break
            if not free[e]:
                continue
            pick.append(int(e))
            # no two faults touch each other: the enterprise and its partners are taken
            free[e] = False
            free[links.supplier[links.customer == e]] = False
            free[links.customer[links.supplier == e]] = False
        if len(pick) < count:
            raise ValidationError(
                f"{count} enterprises for fault {kind!r}, only {len(pick)} "
                "free ones apart from other faults; ask for fewer."
            )
        for e in pick:
            rows.append(
                {
                    "enterprise": int(e),
                    "kind": kind,
                    "start": int(rng.integers(first_start, last_start + 1)),
                }
            )
    truth = pd.DataFrame(rows, columns=["enterprise", "kind", "start"])
    truth["link"] = -1
    truth["partner"] = -1
    tt = np.arange(T)
    # the truth first (what was made), then the books (what was reported)
    decline = np.ones((E, T))
    for e, kind, t0 in zip(truth["enterprise"], truth["kind"], truth["start"], strict=True):
        on = tt >= t0
        if kind == "honest_shortfall":
            cap[e, on] = 0.7
        elif kind == "slow_decline":
            decline[e, on] = 0.98 ** (tt[on] - t0 + 1)
    made = true_out * cap * decline
    hours = pop.hours_norm[:, None] * made * hours_noise
    need = links.per_unit[:, None] * made[links.customer] * need_noise
    delivered = need * rec_d
    received = need * rec_r
    rep_out = made.copy()
    for i, (e, kind, t0) in enumerate(
        zip(truth["enterprise"], truth["kind"], truth["start"], strict=True)
    ):
        on = tt >= t0
        if kind == "output_up_15":
            rep_out[e, on] *= 1.15
        elif kind == "output_up_5":
            rep_out[e, on] *= 1.05
        elif kind == "ghost_hours":
            hours[e, on] *= 1.30
        elif kind == "inputs_down_25":
            li = np.flatnonzero(links.customer == e)
            received[np.ix_(li, np.flatnonzero(on))] *= 0.75
            truth.loc[i, "partner"] = int(links.supplier[li[0]])
        elif kind in ("phantom_delivery", "cooperating_pair"):
            lk = int(rng.choice(np.flatnonzero(links.supplier == e)))
            truth.loc[i, "link"] = lk
            truth.loc[i, "partner"] = int(links.customer[lk])
            extra = (0.5 if kind == "phantom_delivery" else 0.3) * need[lk, on]
            delivered[lk, on] += extra
            rep_out[e, on] += extra
            if kind == "cooperating_pair":
                received[lk, on] += extra
        elif kind == "slow_decline":
            rep_out[e, on] = true_out[e, on]
        elif kind == "rounded_reports":
            for arr in (rep_out, hours):
                x = arr[e, on]
                mag = 10.0 ** (np.floor(np.log10(np.where(x > 0, x, 1.0))) - 1)
                arr[e, on] = np.round(x / mag) * mag
        elif kind in ("copy_whole", "copy_output_hours"):
            src = t0 - 1
            jitter = 0.002 if i % 2 else 0.0
            n_on = int(on.sum())

            def jit(n: int = n_on, size: float = jitter) -> np.ndarray:
                return 1 + size * rng.standard_normal(n)

            rep_out[e, on] = rep_out[e, src] * jit()
            hours[e, on] = hours[e, src] * jit()
            if kind == "copy_whole":
                for li in np.flatnonzero(links.customer == e):
                    received[li, on] = received[li, src] * jit()
                for li in np.flatnonzero(links.supplier == e):
                    delivered[li, on] = delivered[li, src] * jit()
    touched = np.zeros(E, bool)
    touched[truth["enterprise"].to_numpy(np.int64)] = True
    for e, kind in zip(truth["enterprise"], truth["kind"], strict=True):
        if kind in _PARTNER_FAULTS:
            for side, other in ((links.supplier, links.customer), (links.customer, links.supplier)):
                touched[other[side == e]] = True
    return Case(
        reports=_reports(rep_out, hours, lag),
        lines=_lines(links, delivered, received, T),
        truth=truth,
        touched=touched,
    )


def _reports(out: np.ndarray, hours: np.ndarray, lag: np.ndarray) -> pd.DataFrame:
    E, T = out.shape
    e, t = np.divmod(np.arange(E * T), T)
    return pd.DataFrame(
        {
            "enterprise": e.astype(np.int32),
            "period": t.astype(np.int16),
            "output": out.ravel(),
            "hours": hours.ravel(),
            "lag_days": lag.ravel(),
        }
    )


def _lines(links: Links, delivered: np.ndarray, received: np.ndarray, T: int) -> pd.DataFrame:
    L = len(links.supplier)
    li, t = np.divmod(np.arange(L * T), T)
    return pd.DataFrame(
        {
            "enterprise": np.concatenate([links.customer[li], links.supplier[li]]).astype(np.int32),
            "period": np.concatenate([t, t]).astype(np.int16),
            "kind": np.concatenate(
                [np.full(L * T, INPUT, np.int8), np.full(L * T, DELIVERY, np.int8)]
            ),
            "counterparty": np.concatenate([links.supplier[li], links.customer[li]]).astype(
                np.int32
            ),
            "product": np.concatenate([links.product[li], links.product[li]]).astype(np.int32),
            "quantity": np.concatenate([received.ravel(), delivered.ravel()]),
        }
    )


def evaluate(
    inspect: np.ndarray,
    helped: np.ndarray,
    case: Case,
    *,
    first_run: int,
    within: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Detection and delay per fault kind over the weekly runs ``first_run..T-1``.

    ``inspect``/``helped`` are the enterprise × week masks of what each weekly run
    raised (:meth:`.checks.CheckResult.routes`).  A cheat counts as found at its
    first inspection flag from its start on (for the two-sided faults, on either
    side); the delay is in weeks from the start.  ``honest_shortfall`` counts as
    classed right when it drew help and never inspection.  The last rows give the
    share of untouched enterprises that any run sent to inspection (false alarms)
    or to help.
    """
    within = within or {}
    T = inspect.shape[1]
    rows = []
    tr = case.truth
    for kind in FAULTS:
        sel = tr[tr["kind"] == kind]
        if not len(sel):
            continue
        delays, right = [], []
        for e, t0, partner in zip(sel["enterprise"], sel["start"], sel["partner"], strict=True):
            if kind == "honest_shortfall":
                right.append(bool(helped[e, t0:].any()) and not inspect[e, first_run:].any())
                continue
            hit = inspect[e, t0:].copy()
            if kind in ("cooperating_pair",) and partner >= 0:
                hit |= inspect[partner, t0:]
            w = np.flatnonzero(hit)
            delays.append(float(w[0]) if len(w) else np.inf)
        n = len(sel)
        if kind == "honest_shortfall":
            rows.append(
                {
                    "fault": kind,
                    "cases": n,
                    "found_pct": 100.0 * np.mean(right),
                    "within_weeks": np.nan,
                    "found_within_pct": 100.0 * np.mean(right),
                    "median_delay": np.nan,
                    "note": "classed as help, never inspection",
                }
            )
            continue
        d = np.asarray(delays)
        lim = within.get(kind, T)
        found = np.isfinite(d)
        rows.append(
            {
                "fault": kind,
                "cases": n,
                "found_pct": 100.0 * found.mean(),
                "within_weeks": lim,
                "found_within_pct": 100.0 * (d <= lim).mean(),
                "median_delay": float(np.median(d[found])) if found.any() else np.nan,
                "note": "",
            }
        )
    honest = ~case.touched
    runs = slice(first_run, T)
    n_h = int(honest.sum())
    fa = inspect[honest, runs].any(axis=1)
    fh = helped[honest, runs].any(axis=1)
    rows.append(
        {
            "fault": "honest: sent to inspection",
            "cases": n_h,
            "found_pct": 100.0 * fa.mean() if n_h else np.nan,
            "within_weeks": np.nan,
            "found_within_pct": np.nan,
            "median_delay": np.nan,
            "note": f"{int(fa.sum())} of {n_h} over {T - first_run} weekly runs",
        }
    )
    rows.append(
        {
            "fault": "honest: sent to help",
            "cases": n_h,
            "found_pct": 100.0 * fh.mean() if n_h else np.nan,
            "within_weeks": np.nan,
            "found_within_pct": np.nan,
            "median_delay": np.nan,
            "note": f"{int(fh.sum())} of {n_h} over {T - first_run} weekly runs",
        }
    )
    return pd.DataFrame(rows).set_index("fault")
