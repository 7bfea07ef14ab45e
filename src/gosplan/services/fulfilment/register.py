"""The fulfilment register: sectors and their norms, enterprises, plans split by capacity.

:func:`load_register` reads it back as a :class:`~.checks.Population` for the
checks.  Every query is in :mod:`gosplan.storage.fulfilment`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks import Population
from gosplan.services.fulfilment.simulator import Links, period_bounds
from gosplan.storage import fulfilment as repo
from gosplan.storage.fulfilment import (
    FulEnterprise,
    FulNorm,
    FulPlan,
    FulPlanSector,
    FulSector,
    FulTarget,
)


def register_sectors(
    session: Session, economy: Economy, *, min_coefficient: float = 0.0
) -> dict[str, int]:
    """Add the economy's products as sectors with sector norms from ``A`` and hours per unit.

    Sectors already registered are kept as they are.  Returns code -> id.
    """
    have = repo.sector_ids(session)
    hours_ok = economy.labour_kind == "hours"
    new = [
        {
            "code": str(p),
            "hours_per_unit": float(economy.labour[i]) if hours_ok else None,
            "output_unit": economy.output_unit,
            "hours_unit": economy.labour_unit,
        }
        for i, p in enumerate(economy.products)
        if str(p) not in have
    ]
    if new:
        repo.insert_rows(session, FulSector, new)
    ids = repo.sector_ids(session)
    added = {r["code"] for r in new}
    if added:
        A = economy.A.tocoo()
        rows = [
            {
                "sector_id": ids[str(economy.products[j])],
                "enterprise_id": None,
                "product_id": ids[str(economy.products[i])],
                "per_unit": float(v),
            }
            for i, j, v in zip(A.row, A.col, A.data, strict=True)
            if v > min_coefficient and str(economy.products[j]) in added
        ]
        repo.insert_rows(session, FulNorm, rows)
    return ids


def _sector(session: Session, code: str, what: str) -> int:
    sid = repo.sector_id(session, code)
    if sid is None:
        raise ValidationError(
            f"{what}: sector {code!r} is not registered; register the "
            "economy's sectors first (register_sectors)."
        )
    return sid


def register_enterprise(
    session: Session,
    code: str,
    *,
    sector: str,
    capacity: float,
    now: dt.datetime,
    name: str | None = None,
    hours_norm: float | None = None,
    norms: Mapping[str, float] | None = None,
) -> FulEnterprise:
    """Add an enterprise; ``norms`` (product -> input per unit) are its own, where known."""
    code = (code or "").strip()
    what = f"enterprise {code!r}"
    if not code:
        raise ValidationError("an enterprise needs a code.")
    if repo.enterprise_id(session, code) is not None:
        raise ValidationError(f"{what} is already registered.")
    if not np.isfinite(capacity) or capacity <= 0:
        raise ValidationError(f"{what}: capacity must be a positive number; got {capacity!r}.")
    if hours_norm is not None and (not np.isfinite(hours_norm) or hours_norm < 0):
        raise ValidationError(f"{what}: hours_norm must be >= 0; got {hours_norm!r}.")
    sid = _sector(session, sector, what)
    ent = repo.add(
        session,
        FulEnterprise(
            code=code,
            name=name or code,
            sector_id=sid,
            capacity=float(capacity),
            hours_norm=hours_norm,
            created_at=now,
        ),
    )
    for product, per_unit in (norms or {}).items():
        if not np.isfinite(per_unit) or per_unit < 0:
            raise ValidationError(f"{what}: norm for {product!r} must be >= 0; got {per_unit!r}.")
        repo.add(
            session,
            FulNorm(
                sector_id=sid,
                enterprise_id=ent.id,
                product_id=_sector(session, product, what),
                per_unit=float(per_unit),
            ),
        )
    return ent


def adopt_plan(
    session: Session,
    *,
    name: str,
    freq: str,
    start: str | dt.date,
    periods: int,
    sector_output: Mapping[str, float | Sequence[float]],
    now: dt.datetime,
    source: str = "",
) -> FulPlan:
    """A plan: each sector's output (a total spread evenly, or one figure per period),
    split among the sector's registered enterprises by capacity."""
    if periods < 1:
        raise ValidationError(f"plan {name!r}: periods must be >= 1; got {periods}.")
    start_ts = pd.Timestamp(start)
    period_bounds(start_ts, 1, freq)  # validates freq
    plan = repo.add(
        session,
        FulPlan(
            name=name,
            freq=freq,
            start=start_ts.date(),
            periods=periods,
            source=source,
            created_at=now,
        ),
    )
    ids = repo.sector_ids(session)
    for code, amount in sector_output.items():
        if code not in ids:
            raise ValidationError(f"plan {name!r}: sector {code!r} is not registered.")
        per = (
            [float(amount) / periods] * periods
            if isinstance(amount, int | float)
            else [float(v) for v in amount]
        )
        if len(per) != periods or any(not np.isfinite(v) or v < 0 for v in per):
            raise ValidationError(
                f"plan {name!r}: output of sector {code!r} must be one "
                f"non-negative total or {periods} per-period figures."
            )
        repo.add(session, FulPlanSector(plan_id=plan.id, sector_id=ids[code], per_period=per))
    ents = repo.enterprise_capacities(session)
    frame = pd.DataFrame(ents, columns=["id", "sector", "capacity"])
    if len(frame):
        frame["share"] = frame["capacity"] / frame.groupby("sector")["capacity"].transform("sum")
        repo.insert_rows(
            session,
            FulTarget,
            [
                {"plan_id": plan.id, "enterprise_id": int(i), "share": float(s)}
                for i, s in zip(frame["id"], frame["share"], strict=True)
            ],
        )
    table = {
        str(c): (
            [float(a) / periods] * periods if isinstance(a, int | float) else [float(v) for v in a]
        )
        for c, a in sorted(sector_output.items())
    }
    _log_adopted(session, plan, table)
    return plan


def _log_adopted(session: Session, plan: FulPlan, table: Mapping[str, list[float]]) -> None:
    """Public: the plan and a digest of its tables (each sector's output per period), in the
    same transaction as its rows, so ``log verify --store`` can recompute it."""
    from gosplan.services import publiclog

    publiclog.append_event(
        session,
        "plan.adopted",
        {
            "plan": plan.id,
            "name": plan.name,
            "freq": plan.freq,
            "start": plan.start.isoformat(),
            "periods": plan.periods,
            "source": plan.source,
            "sectors": len(table),
            "sector_output_sha256": hashlib.sha256(
                publiclog.canonical_json(dict(sorted(table.items()))).encode("utf-8")
            ).hexdigest(),
        },
    )


def register_population(
    session: Session,
    pop: Population,
    links: Links,
    economy: Economy,
    *,
    name: str,
    now: dt.datetime,
    source: str = "",
) -> FulPlan:
    """Store a simulated population: sectors, enterprises with their own norms, and the plan.

    Only the norms the population marks as the enterprise's own (``own_norms``,
    ``own_hours``; all when unset) are stored as such; the others fall back on the
    sector's.  Give it :func:`.faults.register_view` of a simulated population so the
    store holds engineering norms with error, not the generating coefficients.
    """
    own_n = np.ones(pop.n, bool) if pop.own_norms is None else np.asarray(pop.own_norms, bool)
    own_h = np.ones(pop.n, bool) if pop.own_hours is None else np.asarray(pop.own_hours, bool)
    ids = register_sectors(session, economy)
    clash = repo.first_registered(session, [str(c) for c in pop.codes[:1000]])
    if clash is not None:
        raise ValidationError(
            f"enterprise {clash!r} is already registered; simulate into an empty store."
        )
    sec_ids = np.array([ids[s] for s in pop.sectors])
    repo.insert_rows(
        session,
        FulEnterprise,
        [
            {
                "code": str(c),
                "name": str(c),
                "sector_id": int(sec_ids[k]),
                "capacity": float(cap),
                "hours_norm": float(h) if oh else None,
                "created_at": now,
            }
            for c, k, cap, h, oh in zip(
                pop.codes, pop.sector, pop.capacity, pop.hours_norm, own_h, strict=True
            )
        ],
    )
    eid = repo.enterprise_ids(session)
    ent_ids = np.array([eid[str(c)] for c in pop.codes])
    repo.insert_rows(
        session,
        FulNorm,
        [
            {
                "sector_id": int(sec_ids[pop.sector[e]]),
                "enterprise_id": int(ent_ids[e]),
                "product_id": int(sec_ids[p]),
                "per_unit": float(v),
            }
            for e, p, v in zip(
                pop.norm_enterprise, pop.norm_product, pop.norm_per_unit, strict=True
            )
            if own_n[e]
        ],
    )
    per_sector = np.zeros((len(pop.sectors), pop.T))
    np.add.at(per_sector, pop.sector, pop.plan)
    freq = _freq_of(pop.periods)
    plan = repo.add(
        session,
        FulPlan(
            name=name,
            freq=freq,
            start=pop.periods[0].date(),
            periods=pop.T,
            source=source,
            created_at=now,
        ),
    )
    repo.insert_rows(
        session,
        FulPlanSector,
        [
            {"plan_id": plan.id, "sector_id": int(sec_ids[k]), "per_period": per_sector[k].tolist()}
            for k in range(len(pop.sectors))
        ],
    )
    share = pop.plan.sum(1) / per_sector.sum(1)[pop.sector]
    repo.insert_rows(
        session,
        FulTarget,
        [
            {"plan_id": plan.id, "enterprise_id": int(ent_ids[e]), "share": float(share[e])}
            for e in range(pop.n)
        ],
    )
    _log_adopted(
        session,
        plan,
        {str(pop.sectors[k]): per_sector[k].tolist() for k in range(len(pop.sectors))},
    )
    session.flush()
    return plan


def _freq_of(periods: pd.DatetimeIndex) -> str:
    if len(periods) < 2:
        return "week"
    days = (periods[1] - periods[0]).days
    return {1: "day", 7: "week"}.get(days, "month")


def sector_of(session: Session, code: str) -> str:
    """The sector of a registered enterprise (an error naming it if there is none)."""
    sector = repo.sector_of_enterprise(session, code)
    if sector is None:
        raise ValidationError(f"enterprise {code!r} is not in the register.")
    return sector


def current_plan(session: Session) -> FulPlan:
    plan = repo.latest_plan(session)
    if plan is None:
        raise ValidationError(
            "no fulfilment plan is stored; adopt one (adopt_plan) or run "
            "`gosplan fulfilment simulate --store`."
        )
    return plan


@dataclass
class Register:
    """The store's register as a :class:`Population`, with the id <-> row maps."""

    population: Population
    plan: FulPlan
    enterprise_ids: np.ndarray  # row -> ful_enterprise.id
    sector_ids: np.ndarray  # sector index -> ful_sector.id
    row_of: dict[str, int] = field(default_factory=dict)  # code -> row


def load_register(session: Session, plan: FulPlan | None = None) -> Register:
    """The register, norms and plan as arrays for the checks."""
    plan = plan or current_plan(session)
    rows = repo.register_rows(session, plan.id)
    sec = pd.DataFrame(
        rows["sectors"], columns=["id", "code", "hours", "output_unit", "hours_unit"]
    )
    ent = pd.DataFrame(
        rows["enterprises"], columns=["id", "code", "sector_id", "capacity", "hours_norm"]
    )
    sec_pos = pd.Series(np.arange(len(sec)), index=sec["id"])
    ent_pos = pd.Series(np.arange(len(ent)), index=ent["id"])
    sector = sec_pos.reindex(ent["sector_id"]).to_numpy(np.int64)
    hours_norm = ent["hours_norm"].astype(float).to_numpy()
    sector_hours = sec["hours"].astype(float).to_numpy()
    hours_norm = (
        np.where(np.isfinite(hours_norm), hours_norm, sector_hours[sector])
        if len(ent)
        else hours_norm
    )
    norms = pd.DataFrame(
        rows["norms"], columns=["sector_id", "enterprise_id", "product_id", "per_unit"]
    )
    own = norms[norms["enterprise_id"].notna()]
    with_own = set(own["enterprise_id"].astype(int))
    sector_n = norms[norms["enterprise_id"].isna()]
    rest = ent[~ent["id"].isin(with_own)][["id", "sector_id"]]
    expanded = rest.merge(sector_n, on="sector_id").rename(columns={"id": "eid"})
    ne = np.concatenate(
        [
            ent_pos.reindex(own["enterprise_id"].astype(int)).to_numpy(np.int64),
            ent_pos.reindex(expanded["eid"]).to_numpy(np.int64),
        ]
    )
    npd = np.concatenate(
        [
            sec_pos.reindex(own["product_id"]).to_numpy(np.int64),
            sec_pos.reindex(expanded["product_id"]).to_numpy(np.int64),
        ]
    )
    nv = np.concatenate([own["per_unit"].to_numpy(float), expanded["per_unit"].to_numpy(float)])
    starts, ends = period_bounds(pd.Timestamp(plan.start), plan.periods, plan.freq)
    per = np.full((len(sec), plan.periods), np.nan)
    for sid, pp in rows["plan_sectors"]:
        per[sec_pos[sid]] = pp
    share = np.full(len(ent), np.nan)
    for eid, s in rows["targets"]:
        share[ent_pos[eid]] = s
    plan_arr = per[sector] * share[:, None] if len(ent) else np.zeros((0, plan.periods))
    units = sec["output_unit"].iloc[0] if len(sec) else "unit"
    hunits = sec["hours_unit"].iloc[0] if len(sec) else "hours"
    pop = Population(
        codes=ent["code"].to_numpy(object),
        sector=sector,
        sectors=list(sec["code"]),
        capacity=ent["capacity"].to_numpy(float),
        hours_norm=hours_norm,
        norm_enterprise=ne,
        norm_product=npd,
        norm_per_unit=nv,
        periods=starts,
        period_ends=ends,
        plan=plan_arr,
        output_unit=units,
        hours_unit=hunits,
        own_norms=ent["id"].isin(with_own).to_numpy(bool),
        own_hours=ent["hours_norm"].notna().to_numpy(bool),
    )
    return Register(
        population=pop,
        plan=plan,
        enterprise_ids=ent["id"].to_numpy(np.int64),
        sector_ids=sec["id"].to_numpy(np.int64),
        row_of={str(c): i for i, c in enumerate(ent["code"])},
    )
