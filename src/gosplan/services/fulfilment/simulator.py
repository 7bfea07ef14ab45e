"""A simulated population of enterprises, honest reports, and faults of known kinds and times.

:func:`build_population` splits every sector of a real input–output table
(an :class:`~gosplan.core.economy.Economy`) into enterprises with lognormal
capacities; each enterprise's planned output is its capacity share of the
sector's gross output, spread over the periods with a seasonal profile of
the sector.  Each enterprise draws its main inputs (the largest entries of
its sector's column of ``A``) from named suppliers in those sectors, picked
by capacity; its own input and hours norms are the sector's coefficients
times a personal efficiency factor (known to the planners).

:func:`simulate` generates honest reports (persistent performance, slow
drift, per-enterprise noise, stock-timing noise on inputs, small recording
noise on deliveries, reports filed within days) and injects one fault into
a share of the enterprises from a random start period:

==================  =========================================================
``padded_output``   output reported 15–40 % above what was made
``diverted_inputs`` 20–50 % more inputs drawn than the output needs
``hidden_shortfall`` output falls 20–45 %, but the report and the deliveries
                    it claims stay at the old level; customers receive less
``step_break``      a real fall of 25–50 % in output, honestly reported
``late_reports``    reports arrive 5–20 days late, a fifth never arrive
``mismatch``        on one supply link, 20–50 % of what the supplier reports
                    delivering never reaches the customer
==================  =========================================================

:func:`evaluate` measures the checks against the truth: the share of each
kind of fault flagged within ``window`` periods of its start, and the share
of honest enterprise-periods flagged.  An enterprise-period counts as honest
when the enterprise has no fault running and no supply partner whose fault
touches their shared link (a gap flags both sides by design).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks import DELIVERY, INPUT, CheckResult, Population

FAULT_KINDS = (
    "padded_output",
    "diverted_inputs",
    "hidden_shortfall",
    "step_break",
    "late_reports",
    "mismatch",
)
_LINK_FAULTS = ("hidden_shortfall", "mismatch")


@dataclass
class Links:
    """Supply links: ``supplier[l]`` delivers product ``product[l]`` to ``customer[l]``,
    ``per_unit[l]`` per unit of the customer's output (the customer's own norm)."""

    supplier: np.ndarray
    customer: np.ndarray
    product: np.ndarray
    per_unit: np.ndarray


@dataclass
class Simulation:
    """Long tables of reports and lines (see :mod:`.checks`) and the injected faults."""

    population: Population
    links: Links
    reports: pd.DataFrame
    lines: pd.DataFrame
    truth: pd.DataFrame  # enterprise (row), code, kind, start (period index), size, link


def period_bounds(
    start: pd.Timestamp, periods: int, freq: str
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    step = {
        "day": pd.DateOffset(days=1),
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
    }.get(freq)
    if step is None:
        raise ValidationError(f"period length must be day, week or month; got {freq!r}.")
    starts = pd.DatetimeIndex([start + step * i for i in range(periods + 1)])
    return starts[:-1], starts[1:]


def per_year(freq: str) -> float:
    return {"day": 365.0, "week": 52.0, "month": 12.0}[freq]


def build_population(
    economy: Economy,
    *,
    enterprises: int = 2000,
    periods: int = 52,
    freq: str = "week",
    start: str | pd.Timestamp | None = None,
    links_per_enterprise: int = 3,
    seed: int = 0,
) -> tuple[Population, Links]:
    """Split the economy's sectors into about ``enterprises`` enterprises (see module doc)."""
    rng = np.random.default_rng(seed)
    if economy.output is None:
        raise ValidationError(
            f"economy {economy.name!r} has no gross output; the simulator "
            "splits each sector's gross output among its enterprises."
        )
    x = np.asarray(economy.output, dtype=float)
    live = np.flatnonzero(x > 0)
    if enterprises < 2 * len(live):
        raise ValidationError(
            f"the simulator needs at least 2 enterprises per sector: "
            f"{len(live)} sectors with output, got enterprises={enterprises}."
        )
    share = x[live] / x[live].sum()
    # at least two per sector, the rest in proportion to the square root of output
    w = np.sqrt(share)
    counts = 2 + np.floor((enterprises - 2 * len(live)) * w / w.sum()).astype(int)
    counts[np.argmax(w)] += enterprises - counts.sum()
    sector_of_live = np.repeat(np.arange(len(live)), counts)  # index into live
    E = len(sector_of_live)
    sectors = [str(economy.products[i]) for i in live]
    capacity = rng.lognormal(0.0, 0.6, E)
    cap_sum = np.bincount(sector_of_live, weights=capacity)
    cap_share = capacity / cap_sum[sector_of_live]
    year = economy.year or 2010
    t0 = pd.Timestamp(start) if start is not None else _first_monday(year)
    starts, ends = period_bounds(t0, periods, freq)
    # seasonal profile per sector, mean 1 over a year
    amp = rng.uniform(0.0, 0.15, len(live))
    phase = rng.uniform(0, 2 * np.pi, len(live))
    tt = np.arange(periods)
    profile = 1.0 + amp[:, None] * np.sin(2 * np.pi * tt[None, :] / per_year(freq) + phase[:, None])
    annual = x[live][sector_of_live] * cap_share
    plan = annual[:, None] * profile[sector_of_live] / per_year(freq)
    # norms: own efficiency around the sector's coefficients
    A = economy.A.tocsc()
    A_live = A[live][:, live].tocsc()
    eff = rng.lognormal(0.0, 0.08, E)
    hours_norm = np.asarray(economy.labour, dtype=float)[live][sector_of_live] * rng.lognormal(
        0.0, 0.08, E
    )
    members = [np.flatnonzero(sector_of_live == k) for k in range(len(live))]
    cum_caps = [np.cumsum(capacity[m]) for m in members]
    sup, cus, prod, per = [], [], [], []
    for k in range(len(live)):
        col = A_live[:, [k]].toarray().ravel()
        top = np.argsort(-col)[:links_per_enterprise]
        top = top[col[top] > 0]
        mine = members[k]
        for p in top:
            pool, cc = members[p], cum_caps[p]
            pick = pool[np.searchsorted(cc, rng.uniform(0, cc[-1], len(mine)))]
            if p == k:  # nobody supplies itself: take the next member instead
                same = pick == mine
                pick[same] = pool[(np.searchsorted(pool, pick[same]) + 1) % len(pool)]
            sup.append(pick)
            cus.append(mine)
            prod.append(np.full(len(mine), p))
            per.append(col[p] * eff[mine])
    links = Links(
        supplier=np.concatenate(sup),
        customer=np.concatenate(cus),
        product=np.concatenate(prod),
        per_unit=np.concatenate(per),
    )
    codes = np.array([f"E{i:06d}" for i in range(E)], dtype=object)
    pop = Population(
        codes=codes,
        sector=sector_of_live,
        sectors=sectors,
        capacity=capacity,
        hours_norm=hours_norm,
        norm_enterprise=links.customer.copy(),
        norm_product=links.product.copy(),
        norm_per_unit=links.per_unit.copy(),
        periods=starts,
        period_ends=ends,
        plan=plan,
        output_unit=economy.output_unit,
        hours_unit=economy.labour_unit,
    )
    return pop, links


def _first_monday(year: int) -> pd.Timestamp:
    d = pd.Timestamp(year=year, month=1, day=1)
    return d + pd.Timedelta(days=(7 - d.weekday()) % 7)


def simulate(
    pop: Population,
    links: Links,
    *,
    fault_share: float = 0.05,
    kinds: tuple[str, ...] = FAULT_KINDS,
    seed: int = 1,
) -> Simulation:
    """Honest reports for every enterprise and period, with faults injected (see module doc).

    Long because it is one vectorised generation over all enterprises and periods:
    honest quantities, then each kind of fault written into the same arrays at its
    planted time, then the long tables; the fault arrays are shared by every step.
    """
    bad = [k for k in kinds if k not in FAULT_KINDS]
    if bad:
        raise ValidationError(f"unknown fault kinds {bad}; known: {list(FAULT_KINDS)}.")
    rng = np.random.default_rng(seed)
    E, T, L = pop.n, pop.T, len(links.supplier)
    if T < 6:
        raise ValidationError(f"the simulator needs at least 6 periods to place faults; got {T}.")
    perf = rng.normal(1.0, 0.03, E)
    drift = np.zeros((E, T))
    shocks = rng.normal(0.0, 0.01, (E, T))
    for t in range(1, T):
        drift[:, t] = 0.8 * drift[:, t - 1] + shocks[:, t]
    noise_sd = rng.uniform(0.02, 0.06, E)
    true_out = (
        pop.plan
        * perf[:, None]
        * (1 + drift)
        * (1 + noise_sd[:, None] * rng.standard_normal((E, T)))
    )
    true_out = np.maximum(true_out, 0.0)
    # faults
    n_f = round(fault_share * E)
    faulty = rng.choice(E, n_f, replace=False)
    fkind = np.asarray(kinds, dtype=object)[rng.integers(0, len(kinds), n_f)]
    fstart = rng.integers(max(4, T // 4), T - 2, n_f)
    # a mismatch needs a link of the enterprise as supplier or customer
    has_out = np.zeros(E, bool)
    has_out[links.supplier] = True
    has_in = np.zeros(E, bool)
    has_in[links.customer] = True
    for i in np.flatnonzero(fkind == "mismatch"):
        if not (has_out[faulty[i]] or has_in[faulty[i]]):
            fkind[i] = "padded_output"
    size = np.zeros(n_f)
    active = np.zeros((E, T), bool)
    onset = np.full(E, T)
    onset[faulty] = fstart
    active[faulty] = np.arange(T)[None, :] >= fstart[:, None]
    reported_out = true_out.copy()
    hours_factor = np.ones((E, T))
    input_factor = np.ones((E, T))  # inputs drawn relative to need
    lag = rng.uniform(0.0, 2.5, (E, T))
    missing = np.zeros((E, T), bool)
    pre_out = true_out.copy()
    claim_factor = np.ones((E, T))  # supplier's reported deliveries / true deliveries
    link_loss = np.zeros((L, T))  # share of delivery vanishing on the link
    link_of = np.full(n_f, -1)
    for i, (e, kind, t0) in enumerate(zip(faulty, fkind, fstart, strict=True)):
        sl = slice(t0, None)
        if kind == "padded_output":
            size[i] = rng.uniform(0.15, 0.40)
            reported_out[e, sl] = true_out[e, sl] * (1 + size[i])
        elif kind == "diverted_inputs":
            size[i] = rng.uniform(0.20, 0.50)
            input_factor[e, sl] = 1 + size[i]
        elif kind == "hidden_shortfall":
            size[i] = rng.uniform(0.20, 0.45)
            true_out[e, sl] = pre_out[e, sl] * (1 - size[i])
            reported_out[e, sl] = pre_out[e, sl]
            hours_factor[e, sl] = pre_out[e, sl] / np.maximum(true_out[e, sl], 1e-12)
            claim_factor[e, sl] = 1 / (1 - size[i])
        elif kind == "step_break":
            size[i] = rng.uniform(0.25, 0.50)
            true_out[e, sl] = pre_out[e, sl] * (1 - size[i])
            reported_out[e, sl] = true_out[e, sl]
            hours_factor[e, sl] = (1 - size[i] / 2) / (1 - size[i])
        elif kind == "late_reports":
            size[i] = 1.0
            lag[e, sl] = rng.uniform(5.0, 20.0, T - t0)
            missing[e, sl] = rng.uniform(size=T - t0) < 0.2
        elif kind == "mismatch":
            size[i] = rng.uniform(0.20, 0.50)
            cand = np.flatnonzero(links.supplier == e)
            if not len(cand):
                cand = np.flatnonzero(links.customer == e)
            link_of[i] = rng.choice(cand)
            link_loss[link_of[i], sl] = size[i]
    hours = (
        pop.hours_norm[:, None] * true_out * hours_factor * (1 + 0.03 * rng.standard_normal((E, T)))
    )
    # link quantities: what the customer needs for its true output
    need = (
        links.per_unit[:, None]
        * true_out[links.customer]
        * input_factor[links.customer]
        * (1 + 0.02 * rng.standard_normal((L, T)))
    )
    short = (claim_factor[links.supplier] - 1) / claim_factor[links.supplier]  # hidden share
    true_delivered = need * (1 - short)
    delivered_rep = need * (1 + 0.005 * rng.standard_normal((L, T)))
    received_rep = true_delivered * (1 - link_loss) * (1 + 0.005 * rng.standard_normal((L, T)))
    # long tables
    ok = ~missing
    e_idx, t_idx = np.nonzero(ok)
    reports = pd.DataFrame(
        {
            "enterprise": e_idx.astype(np.int32),
            "period": t_idx.astype(np.int16),
            "output": reported_out[ok],
            "hours": hours[ok],
            "lag_days": lag[ok],
        }
    )
    l_in = ok[links.customer]  # the customer filed its report
    l_out = ok[links.supplier]
    li, lt = np.nonzero(l_in)
    lo, lto = np.nonzero(l_out)
    lines = pd.DataFrame(
        {
            "enterprise": np.concatenate([links.customer[li], links.supplier[lo]]).astype(np.int32),
            "period": np.concatenate([lt, lto]).astype(np.int16),
            "kind": np.concatenate(
                [np.full(len(li), INPUT, np.int8), np.full(len(lo), DELIVERY, np.int8)]
            ),
            "counterparty": np.concatenate([links.supplier[li], links.customer[lo]]).astype(
                np.int32
            ),
            "product": np.concatenate([links.product[li], links.product[lo]]).astype(np.int32),
            "quantity": np.concatenate([received_rep[li, lt], delivered_rep[lo, lto]]),
        }
    )
    truth = pd.DataFrame(
        {
            "enterprise": faulty,
            "code": pop.codes[faulty],
            "kind": fkind,
            "start": fstart,
            "size": size,
            "link": link_of,
        }
    )
    return Simulation(population=pop, links=links, reports=reports, lines=lines, truth=truth)


def honest_mask(sim: Simulation) -> np.ndarray:
    """Enterprise-periods with no fault running on the enterprise or on a shared link."""
    pop, links, truth = sim.population, sim.links, sim.truth
    E, T = pop.n, pop.T
    touched = np.zeros((E, T), bool)
    tt = np.arange(T)
    ents = truth["enterprise"].to_numpy(np.int64)
    starts = truth["start"].to_numpy(np.int64)
    kinds = truth["kind"].to_numpy(object)
    link = truth["link"].to_numpy(np.int64)
    for e, t0 in zip(ents, starts, strict=True):
        touched[e, tt >= t0] = True
    # partners of link-touching faults
    for e, t0, kind, lk in zip(ents, starts, kinds, link, strict=True):
        if kind not in _LINK_FAULTS:
            continue
        ls = [int(lk)] if kind == "mismatch" else list(np.flatnonzero(links.supplier == e))
        for li in ls:
            for side in (links.supplier[li], links.customer[li]):
                touched[side, tt >= t0] = True
    return ~touched


def evaluate(result: CheckResult, sim: Simulation, *, window: int = 2) -> pd.DataFrame:
    """Detection by fault kind (within ``window`` periods of the start) and honest false flags."""
    flagged = result.any_flag()
    T = flagged.shape[1]
    rows = []
    truth = sim.truth
    det = np.zeros(len(truth), bool)
    delay = np.full(len(truth), np.nan)
    for i, (e, t0) in enumerate(
        zip(truth["enterprise"].to_numpy(np.int64), truth["start"].to_numpy(np.int64), strict=True)
    ):
        hit = np.flatnonzero(flagged[e, t0 : min(T, t0 + window + 1)])
        if len(hit):
            det[i] = True
            delay[i] = hit[0]
    for kind in FAULT_KINDS:
        sel = (truth["kind"] == kind).to_numpy()
        n = int(sel.sum())
        rows.append(
            {
                "fault": kind,
                "injected": n,
                "detected": int(det[sel].sum()),
                "detected_pct": 100.0 * det[sel].mean() if n else float("nan"),
                "mean_delay": float(np.nanmean(delay[sel])) if det[sel].any() else float("nan"),
            }
        )
    honest = honest_mask(sim)
    observed = honest & (np.isfinite(result.panel.output) | flagged)
    fp = int((flagged & observed).sum())
    rows.append(
        {
            "fault": "honest enterprise-periods",
            "injected": int(observed.sum()),
            "detected": fp,
            "detected_pct": 100.0 * fp / max(int(observed.sum()), 1),
            "mean_delay": float("nan"),
        }
    )
    return pd.DataFrame(rows).set_index("fault")


def detection_by_check(result: CheckResult, sim: Simulation, *, window: int = 2) -> pd.DataFrame:
    """Per fault kind (rows) and check (columns): % of faults that check flags in the window."""
    T = result.population.T
    truth = sim.truth
    ents = truth["enterprise"].to_numpy(np.int64)
    starts = truth["start"].to_numpy(np.int64)
    out = {}
    for check, mask in result.masks.items():
        hit = np.array(
            [
                mask[e, t0 : min(T, t0 + window + 1)].any()
                for e, t0 in zip(ents, starts, strict=True)
            ],
            dtype=bool,
        )
        out[check] = pd.Series(hit).groupby(truth["kind"].to_numpy()).mean() * 100
    return pd.DataFrame(out).reindex(list(FAULT_KINDS))


def false_flags_by_check(result: CheckResult, sim: Simulation) -> dict[str, int]:
    """How many honest enterprise-periods each check flagged (for tuning and docs)."""
    honest = honest_mask(sim)
    return {c: int((m & honest).sum()) for c, m in result.masks.items()}


def report_frame(sim: Simulation) -> pd.DataFrame:
    """The simulated reports as the long table enterprises file (codes, dates, kinds).

    Columns are those of :data:`gosplan.services.fulfilment.store.REPORT_COLUMNS`;
    ``submitted_at`` is the end of the period plus the report's lag.
    """
    pop = sim.population
    r, ln = sim.reports, sim.lines
    sectors = np.asarray(pop.sectors, dtype=object)
    e = r["enterprise"].to_numpy(np.int64)
    t = r["period"].to_numpy(np.int64)
    sub = pop.period_ends[t] + pd.to_timedelta(r["lag_days"].to_numpy(float), unit="D")
    period = pop.periods[t].strftime("%Y-%m-%d")
    subs = sub.strftime("%Y-%m-%dT%H:%M:%S")
    heads = pd.concat(
        [
            pd.DataFrame(
                {
                    "enterprise": pop.codes[e],
                    "period": period,
                    "kind": k,
                    "quantity": r[k].to_numpy(float),
                    "counterparty": "",
                    "product": "",
                    "submitted_at": subs,
                }
            )
            for k in ("output", "hours")
        ]
    )
    le = ln["enterprise"].to_numpy(np.int64)
    lt = ln["period"].to_numpy(np.int64)
    sub_of = pd.Series(subs, index=pd.MultiIndex.from_arrays([e, t]))
    lines = pd.DataFrame(
        {
            "enterprise": pop.codes[le],
            "period": pop.periods[lt].strftime("%Y-%m-%d"),
            "kind": np.where(ln["kind"].to_numpy() == INPUT, "input", "delivery"),
            "quantity": ln["quantity"].to_numpy(float),
            "counterparty": pop.codes[ln["counterparty"].to_numpy(np.int64)],
            "product": sectors[ln["product"].to_numpy(np.int64)],
            "submitted_at": sub_of.reindex(pd.MultiIndex.from_arrays([le, lt])).to_numpy(),
        }
    )
    return (
        pd.concat([heads, lines], ignore_index=True)
        .sort_values(["period", "enterprise"], kind="stable")
        .reset_index(drop=True)
    )
