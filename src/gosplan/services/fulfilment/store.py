"""Fulfilment in the store: register, plans split by capacity, report ingestion, check runs.

Python API (every function takes an open session; the caller commits)::

    from gosplan.services.fulfilment import store as ful

    ful.register_sectors(session, economy)                 # sectors, A-column and hours norms
    ful.register_enterprise(session, "E1", sector="C24", capacity=3.0,
                            norms={"B": 0.21}, hours_norm=1.9)
    plan = ful.adopt_plan(session, name="2027", freq="week", start="2027-01-04",
                          periods=52, sector_output={"C24": 5200.0}, now=now)
    ful.ingest(session, frame, now=now)                   # long table, see REPORT_COLUMNS
    run = ful.check(session, as_of=now, now=now)          # flags, alerts on the ladder

Reports are a long table, one row per figure (:data:`REPORT_COLUMNS`):

============== ===============================================================
enterprise     code in the register
period         first day of the period (a period start of the current plan)
kind           ``output``, ``hours``, ``input`` (received from ``counterparty``)
               or ``delivery`` (made to ``counterparty``)
quantity       non-negative number (output in the sector's output unit, hours
               in the sector's hours unit, inputs and deliveries in the
               supplier's output unit)
counterparty   supplier (input) or customer (delivery); empty for output/hours
product        optional: sector of the goods (default: the supplier's sector)
submitted_at   optional: when the enterprise filed it (default: ``now``)
============== ===============================================================

A batch is validated as a whole before anything is written: an unknown
enterprise or counterparty, a negative or missing figure, a period that has
not started yet, a period outside the plan or not on a period boundary is an
error naming the enterprise, period and field, and nothing is stored.  The
same report sent again changes nothing; a report that differs from the last
one stored for its enterprise and period is stored as the next version, and
the old one is kept.  Lateness counts from the first version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.services import escalation as esc
from gosplan.services.fulfilment.checks import (
    DELIVERY,
    HELP,
    INPUT,
    INTEGRITY,
    CheckResult,
    CheckSettings,
    Population,
    build_panel,
    run_checks,
)
from gosplan.services.fulfilment.simulator import Links, period_bounds
from gosplan.storage.fulfilment import (
    FulCheckRun,
    FulEnterprise,
    FulFlag,
    FulNorm,
    FulPlan,
    FulPlanSector,
    FulReport,
    FulReportLine,
    FulSector,
    FulTarget,
)

REPORT_COLUMNS = ("enterprise", "period", "kind", "quantity", "counterparty", "product",
                  "submitted_at")
KINDS = ("output", "hours", "input", "delivery")
#: checks that open an alert: integrity checks on the inspection ladder, help on the help one
ALERT_CHECKS = INTEGRITY + HELP


# ----------------------------------------------------------------------------- register


def _sector_ids(session: Session) -> dict[str, int]:
    return {c: i for c, i in session.execute(select(FulSector.code, FulSector.id))}


def register_sectors(session: Session, economy: Economy, *, min_coefficient: float = 0.0
                     ) -> dict[str, int]:
    """Add the economy's products as sectors with sector norms from ``A`` and hours per unit.

    Sectors already registered are kept as they are.  Returns code -> id.
    """
    have = _sector_ids(session)
    hours_ok = economy.labour_kind == "hours"
    new = [{"code": str(p), "hours_per_unit": float(economy.labour[i]) if hours_ok else None,
            "output_unit": economy.output_unit, "hours_unit": economy.labour_unit}
           for i, p in enumerate(economy.products) if str(p) not in have]
    if new:
        session.execute(insert(FulSector), new)
    ids = _sector_ids(session)
    added = {r["code"] for r in new}
    if added:
        A = economy.A.tocoo()
        rows = [{"sector_id": ids[str(economy.products[j])], "enterprise_id": None,
                 "product_id": ids[str(economy.products[i])], "per_unit": float(v)}
                for i, j, v in zip(A.row, A.col, A.data, strict=True)
                if v > min_coefficient and str(economy.products[j]) in added]
        if rows:
            session.execute(insert(FulNorm), rows)
    return ids


def _sector(session: Session, code: str, what: str) -> int:
    sid = session.scalar(select(FulSector.id).where(FulSector.code == code))
    if sid is None:
        raise ValidationError(f"{what}: sector {code!r} is not registered; register the "
                              "economy's sectors first (register_sectors).")
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
    if session.scalar(select(FulEnterprise.id).where(FulEnterprise.code == code)) is not None:
        raise ValidationError(f"{what} is already registered.")
    if not np.isfinite(capacity) or capacity <= 0:
        raise ValidationError(f"{what}: capacity must be a positive number; got {capacity!r}.")
    if hours_norm is not None and (not np.isfinite(hours_norm) or hours_norm < 0):
        raise ValidationError(f"{what}: hours_norm must be >= 0; got {hours_norm!r}.")
    sid = _sector(session, sector, what)
    ent = FulEnterprise(code=code, name=name or code, sector_id=sid, capacity=float(capacity),
                        hours_norm=hours_norm, created_at=now)
    session.add(ent)
    session.flush()
    for product, per_unit in (norms or {}).items():
        if not np.isfinite(per_unit) or per_unit < 0:
            raise ValidationError(f"{what}: norm for {product!r} must be >= 0; got {per_unit!r}.")
        session.add(FulNorm(sector_id=sid, enterprise_id=ent.id,
                            product_id=_sector(session, product, what), per_unit=float(per_unit)))
    session.flush()
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
    plan = FulPlan(name=name, freq=freq, start=start_ts.date(), periods=periods, source=source,
                   created_at=now)
    session.add(plan)
    session.flush()
    ids = _sector_ids(session)
    for code, amount in sector_output.items():
        if code not in ids:
            raise ValidationError(f"plan {name!r}: sector {code!r} is not registered.")
        per = ([float(amount) / periods] * periods if isinstance(amount, int | float)
               else [float(v) for v in amount])
        if len(per) != periods or any(not np.isfinite(v) or v < 0 for v in per):
            raise ValidationError(f"plan {name!r}: output of sector {code!r} must be one "
                                  f"non-negative total or {periods} per-period figures.")
        session.add(FulPlanSector(plan_id=plan.id, sector_id=ids[code], per_period=per))
    ents = session.execute(select(FulEnterprise.id, FulEnterprise.sector_id,
                                  FulEnterprise.capacity)).all()
    frame = pd.DataFrame(ents, columns=["id", "sector", "capacity"])
    if len(frame):
        frame["share"] = frame["capacity"] / frame.groupby("sector")["capacity"].transform("sum")
        session.execute(insert(FulTarget), [
            {"plan_id": plan.id, "enterprise_id": int(i), "share": float(s)}
            for i, s in zip(frame["id"], frame["share"], strict=True)])
    session.flush()
    return plan


def register_population(session: Session, pop: Population, links: Links, economy: Economy, *,
                        name: str, now: dt.datetime, source: str = "") -> FulPlan:
    """Store a simulated population: sectors, enterprises with their own norms, and the plan."""
    ids = register_sectors(session, economy)
    clash = session.scalars(select(FulEnterprise.code).where(
        FulEnterprise.code.in_([str(c) for c in pop.codes[:1000]]))).first()
    if clash is not None:
        raise ValidationError(f"enterprise {clash!r} is already registered; simulate into an "
                              "empty store.")
    sec_ids = np.array([ids[s] for s in pop.sectors])
    session.execute(insert(FulEnterprise), [
        {"code": str(c), "name": str(c), "sector_id": int(sec_ids[k]), "capacity": float(cap),
         "hours_norm": float(h), "created_at": now}
        for c, k, cap, h in zip(pop.codes, pop.sector, pop.capacity, pop.hours_norm,
                                strict=True)])
    eid = {c: i for c, i in session.execute(select(FulEnterprise.code, FulEnterprise.id))}
    ent_ids = np.array([eid[str(c)] for c in pop.codes])
    session.execute(insert(FulNorm), [
        {"sector_id": int(sec_ids[pop.sector[e]]), "enterprise_id": int(ent_ids[e]),
         "product_id": int(sec_ids[p]), "per_unit": float(v)}
        for e, p, v in zip(pop.norm_enterprise, pop.norm_product, pop.norm_per_unit,
                           strict=True)])
    per_sector = np.zeros((len(pop.sectors), pop.T))
    np.add.at(per_sector, pop.sector, pop.plan)
    freq = _freq_of(pop.periods)
    plan = FulPlan(name=name, freq=freq, start=pop.periods[0].date(), periods=pop.T,
                   source=source, created_at=now)
    session.add(plan)
    session.flush()
    session.execute(insert(FulPlanSector), [
        {"plan_id": plan.id, "sector_id": int(sec_ids[k]), "per_period": per_sector[k].tolist()}
        for k in range(len(pop.sectors))])
    share = pop.plan.sum(1) / per_sector.sum(1)[pop.sector]
    session.execute(insert(FulTarget), [
        {"plan_id": plan.id, "enterprise_id": int(ent_ids[e]), "share": float(share[e])}
        for e in range(pop.n)])
    session.flush()
    return plan


def _freq_of(periods: pd.DatetimeIndex) -> str:
    if len(periods) < 2:
        return "week"
    days = (periods[1] - periods[0]).days
    return {1: "day", 7: "week"}.get(days, "month")


def sector_of(session: Session, code: str) -> str:
    """The sector of a registered enterprise (an error naming it if there is none)."""
    sector = session.scalar(select(FulSector.code).join(
        FulEnterprise, FulEnterprise.sector_id == FulSector.id).where(FulEnterprise.code == code))
    if sector is None:
        raise ValidationError(f"enterprise {code!r} is not in the register.")
    return sector


def current_plan(session: Session) -> FulPlan:
    plan = session.scalars(select(FulPlan).order_by(FulPlan.id.desc())).first()
    if plan is None:
        raise ValidationError("no fulfilment plan is stored; adopt one (adopt_plan) or run "
                              "`gosplan fulfilment simulate --store`.")
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
    sec = pd.DataFrame(session.execute(select(
        FulSector.id, FulSector.code, FulSector.hours_per_unit, FulSector.output_unit,
        FulSector.hours_unit).order_by(FulSector.id)).all(),
        columns=["id", "code", "hours", "output_unit", "hours_unit"])
    ent = pd.DataFrame(session.execute(select(
        FulEnterprise.id, FulEnterprise.code, FulEnterprise.sector_id, FulEnterprise.capacity,
        FulEnterprise.hours_norm).order_by(FulEnterprise.id)).all(),
        columns=["id", "code", "sector_id", "capacity", "hours_norm"])
    sec_pos = pd.Series(np.arange(len(sec)), index=sec["id"])
    ent_pos = pd.Series(np.arange(len(ent)), index=ent["id"])
    sector = sec_pos.reindex(ent["sector_id"]).to_numpy(np.int64)
    hours_norm = ent["hours_norm"].astype(float).to_numpy()
    sector_hours = sec["hours"].astype(float).to_numpy()
    hours_norm = np.where(np.isfinite(hours_norm), hours_norm, sector_hours[sector]) if len(
        ent) else hours_norm
    norms = pd.DataFrame(session.execute(select(
        FulNorm.sector_id, FulNorm.enterprise_id, FulNorm.product_id, FulNorm.per_unit)).all(),
        columns=["sector_id", "enterprise_id", "product_id", "per_unit"])
    own = norms[norms["enterprise_id"].notna()]
    with_own = set(own["enterprise_id"].astype(int))
    sector_n = norms[norms["enterprise_id"].isna()]
    rest = ent[~ent["id"].isin(with_own)][["id", "sector_id"]]
    expanded = rest.merge(sector_n, on="sector_id").rename(columns={"id": "eid"})
    ne = np.concatenate([ent_pos.reindex(own["enterprise_id"].astype(int)).to_numpy(np.int64),
                         ent_pos.reindex(expanded["eid"]).to_numpy(np.int64)])
    npd = np.concatenate([sec_pos.reindex(own["product_id"]).to_numpy(np.int64),
                          sec_pos.reindex(expanded["product_id"]).to_numpy(np.int64)])
    nv = np.concatenate([own["per_unit"].to_numpy(float), expanded["per_unit"].to_numpy(float)])
    starts, ends = period_bounds(pd.Timestamp(plan.start), plan.periods, plan.freq)
    per = np.full((len(sec), plan.periods), np.nan)
    for sid, pp in session.execute(select(FulPlanSector.sector_id, FulPlanSector.per_period)
                                   .where(FulPlanSector.plan_id == plan.id)):
        per[sec_pos[sid]] = pp
    share = np.full(len(ent), np.nan)
    for eid, s in session.execute(select(FulTarget.enterprise_id, FulTarget.share)
                                  .where(FulTarget.plan_id == plan.id)):
        share[ent_pos[eid]] = s
    plan_arr = per[sector] * share[:, None] if len(ent) else np.zeros((0, plan.periods))
    units = sec["output_unit"].iloc[0] if len(sec) else "unit"
    hunits = sec["hours_unit"].iloc[0] if len(sec) else "hours"
    pop = Population(codes=ent["code"].to_numpy(object), sector=sector,
                     sectors=list(sec["code"]), capacity=ent["capacity"].to_numpy(float),
                     hours_norm=hours_norm, norm_enterprise=ne, norm_product=npd,
                     norm_per_unit=nv, periods=starts, period_ends=ends, plan=plan_arr,
                     output_unit=units, hours_unit=hunits,
                     own_norms=ent["id"].isin(with_own).to_numpy(bool),
                     own_hours=ent["hours_norm"].notna().to_numpy(bool))
    return Register(population=pop, plan=plan, enterprise_ids=ent["id"].to_numpy(np.int64),
                    sector_ids=sec["id"].to_numpy(np.int64),
                    row_of={str(c): i for i, c in enumerate(ent["code"])})


# ----------------------------------------------------------------------------- ingestion


@dataclass
class IngestResult:
    """What a batch did: new reports, corrections (new versions), unchanged resubmissions."""

    new: int = 0
    corrected: int = 0
    unchanged: int = 0
    report_ids: list[int] = field(default_factory=list)


def read_reports_csv(path: str | Path) -> pd.DataFrame:
    """Read a long report table from CSV (columns: :data:`REPORT_COLUMNS`)."""
    p = Path(path)
    try:
        frame = pd.read_csv(p, dtype={"enterprise": str, "counterparty": str, "product": str,
                                      "kind": str, "period": str, "submitted_at": str})
    except (OSError, ValueError) as exc:
        raise ValidationError(f"reports file {str(p)!r} cannot be read: {exc}") from exc
    missing = [c for c in ("enterprise", "period", "kind", "quantity") if c not in frame.columns]
    if missing:
        raise ValidationError(f"reports file {str(p)!r} lacks columns {missing}; expected "
                              f"{list(REPORT_COLUMNS)}.")
    frame.attrs["source"] = p.name
    frame.attrs["first_line"] = 2
    return frame


def _errors(msgs: list[str]) -> ValidationError:
    head = msgs[:10]
    more = f"\n(and {len(msgs) - 10} more)" if len(msgs) > 10 else ""
    return ValidationError(f"{len(msgs)} problem(s) in the reports; nothing was stored:\n"
                           + "\n".join(head) + more)


def ingest(session: Session, frame: pd.DataFrame, *, now: dt.datetime,
           source: str | None = None) -> IngestResult:
    """Validate and store a batch of reports (see the module docstring)."""
    reg = load_register(session)
    pop = reg.population
    src = source or str(frame.attrs.get("source", "api"))
    first_line = int(frame.attrs.get("first_line", 0))
    missing = [c for c in ("enterprise", "period", "kind", "quantity") if c not in frame.columns]
    if missing:
        raise ValidationError(f"reports from {src} lack columns {missing}; expected "
                              f"{list(REPORT_COLUMNS)}.")
    df = frame.reset_index(drop=True).copy()
    for col in ("counterparty", "product", "submitted_at"):
        if col not in df.columns:
            df[col] = None
    msgs: list[str] = []
    ent = df["enterprise"].astype(str).str.strip()
    per = pd.to_datetime(df["period"], errors="coerce")
    qty = pd.to_numeric(df["quantity"], errors="coerce")
    kind = df["kind"].astype(str).str.strip().str.lower()
    cp = df["counterparty"].where(df["counterparty"].notna(), "").astype(str).str.strip()
    sub = pd.to_datetime(df["submitted_at"], errors="coerce")
    row_label = [f"line {first_line + i}" if first_line else f"row {i}" for i in range(len(df))]

    def where(i: int) -> str:
        p = per.iloc[i]
        ps = p.date().isoformat() if pd.notna(p) else repr(df["period"].iloc[i])
        return f"{row_label[i]}: report of enterprise {ent.iloc[i]!r} for period {ps}"

    e_row = ent.map(reg.row_of)
    for i in np.flatnonzero(e_row.isna().to_numpy()):
        msgs.append(f"{where(i)}, field `enterprise`: no such enterprise in the register")
    for i in np.flatnonzero(per.isna().to_numpy()):
        msgs.append(f"{where(i)}, field `period`: {df['period'].iloc[i]!r} is not a date")
    bad_kind = ~kind.isin(KINDS)
    for i in np.flatnonzero(bad_kind.to_numpy()):
        msgs.append(f"{where(i)}, field `kind`: {kind.iloc[i]!r} is not one of {list(KINDS)}")
    for i in np.flatnonzero(qty.isna().to_numpy()):
        msgs.append(f"{where(i)}, field `quantity` ({kind.iloc[i]}): "
                    f"{df['quantity'].iloc[i]!r} is not a number")
    for i in np.flatnonzero((qty < 0).to_numpy()):
        msgs.append(f"{where(i)}, field `quantity` ({kind.iloc[i]}): {qty.iloc[i]:g} is "
                    "negative; quantities cannot be negative")
    now_ts = pd.Timestamp(now)
    for i in np.flatnonzero((per > now_ts).to_numpy()):
        msgs.append(f"{where(i)}, field `period`: the period has not started yet "
                    f"(now is {now_ts.isoformat()})")
    t_of = pd.Series(np.arange(pop.T), index=pop.periods)
    t_idx = per.map(t_of)
    off = per.notna() & (per <= now_ts) & t_idx.isna()
    for i in np.flatnonzero(off.to_numpy()):
        msgs.append(f"{where(i)}, field `period`: not a period start of plan "
                    f"{reg.plan.name!r} ({reg.plan.freq}s from {pop.periods[0].date()} to "
                    f"{pop.periods[-1].date()})")
    needs_cp = kind.isin(("input", "delivery"))
    c_row = cp.map(reg.row_of)
    for i in np.flatnonzero((needs_cp & (cp == "")).to_numpy()):
        msgs.append(f"{where(i)}, field `counterparty`: an {kind.iloc[i]} line must name "
                    f"the {'supplier' if kind.iloc[i] == 'input' else 'customer'}")
    for i in np.flatnonzero((needs_cp & (cp != "") & c_row.isna()).to_numpy()):
        role = "supplier" if kind.iloc[i] == "input" else "customer"
        msgs.append(f"{where(i)}, field `counterparty`: {role} {cp.iloc[i]!r} does not exist "
                    "in the register")
    sec_of = {s: k for k, s in enumerate(pop.sectors)}
    prod_given = df["product"].notna() & (df["product"].astype(str).str.strip() != "")
    prod = df["product"].where(prod_given, None)
    p_idx = prod.map(lambda v: sec_of.get(str(v).strip()) if v is not None else -1)
    for i in np.flatnonzero((prod_given & p_idx.isna()).to_numpy()):
        msgs.append(f"{where(i)}, field `product`: {prod.iloc[i]!r} is not a registered sector")
    for i in np.flatnonzero((df["submitted_at"].notna() & sub.isna()).to_numpy()):
        msgs.append(f"{where(i)}, field `submitted_at`: {df['submitted_at'].iloc[i]!r} is not "
                    "a date and time")
    if msgs:
        raise _errors(msgs)
    # assemble reports
    work = pd.DataFrame({"e": e_row.astype(int), "t": t_idx.astype(int), "kind": kind,
                         "q": qty.astype(float), "c": c_row.fillna(-1).astype(int),
                         "p": p_idx.fillna(-1).astype(int), "sub": sub})
    is_line = work["kind"].isin(("input", "delivery"))
    default_p = np.where(work["kind"] == "input",
                         pop.sector[np.maximum(work["c"].to_numpy(), 0)],
                         pop.sector[work["e"].to_numpy()])
    work.loc[is_line & (work["p"] < 0), "p"] = default_p[(is_line & (work["p"] < 0)).to_numpy()]
    heads = work[~is_line]
    dup = heads.duplicated(["e", "t", "kind"], keep=False)
    for i in np.flatnonzero(dup.to_numpy())[:10]:
        j = heads.index[i]
        msgs.append(f"{where(j)}, field `{heads['kind'].loc[j]}`: given more than once in "
                    "this batch")
    keys = work.groupby(["e", "t"]).size().index
    have = heads.pivot_table(index=["e", "t"], columns="kind", values="q", aggfunc="first")
    have = have.reindex(keys)
    for col in ("output", "hours"):
        if col not in have.columns:
            have[col] = np.nan
        for e, t in have.index[have[col].isna().to_numpy()][:10]:
            msgs.append(f"report of enterprise {pop.codes[e]!r} for period "
                        f"{pop.periods[t].date()}, field `{col}`: missing (every report "
                        "states output and hours)")
    if msgs:
        raise _errors(msgs)
    # digests and existing versions
    lines = work[is_line].sort_values(["e", "t", "kind", "c", "p", "q"])
    q_txt = lines["q"].map(repr).astype(str)
    line_txt = (lines["kind"] + ":" + lines["c"].astype(str) + ":" + lines["p"].astype(str)
                + ":" + q_txt).groupby([lines["e"], lines["t"]]).agg(";".join)
    head_txt = have["output"].map(repr) + "|" + have["hours"].map(repr)
    text = head_txt.to_frame("h").join(line_txt.rename("l")).fillna("")
    digest = [hashlib.sha256(f"{h}#{ln}".encode()).hexdigest()
              for h, ln in zip(text["h"], text["l"], strict=True)]
    submitted = work.groupby(["e", "t"])["sub"].min().reindex(keys)
    eids = reg.enterprise_ids
    latest = _latest_versions(session, sorted({int(eids[e]) for e, _ in keys}))
    result = IngestResult()
    new_rows: list[dict[str, Any]] = []
    line_groups = {k: g for k, g in lines.groupby(["e", "t"])}
    received = now.replace(tzinfo=None)
    for (e, t), dg, out, hrs, sb in zip(keys, digest, have["output"], have["hours"],
                                        submitted, strict=True):
        eid, period = int(eids[e]), pop.periods[t].date()
        prev = latest.get((eid, period))
        if prev is not None and prev[1] == dg:
            result.unchanged += 1
            result.report_ids.append(prev[2])
            continue
        if prev is None:
            result.new += 1
        else:
            result.corrected += 1
        new_rows.append({"key": (e, t), "enterprise_id": eid, "period": period,
                         "version": 1 if prev is None else prev[0] + 1, "digest": dg,
                         "output": float(out), "hours": float(hrs),
                         "submitted_at": (sb.to_pydatetime() if pd.notna(sb) else received),
                         "received_at": received, "source": src[:200]})
    keys_new = [row.pop("key") for row in new_rows]
    if new_rows:
        ids = list(session.scalars(insert(FulReport).returning(
            FulReport.id, sort_by_parameter_order=True), new_rows))
        result.report_ids.extend(ids)
        line_rows: list[dict[str, Any]] = []
        for rid, key in zip(ids, keys_new, strict=True):
            g = line_groups.get(key)
            if g is not None:
                line_rows += [{"report_id": rid, "kind": k, "counterparty_id": int(eids[c]),
                               "product_id": int(reg.sector_ids[p]), "quantity": float(q)}
                              for k, c, p, q in zip(g["kind"], g["c"], g["p"], g["q"],
                                                    strict=True)]
        if line_rows:
            session.execute(insert(FulReportLine), line_rows)
    session.flush()
    return result


def _latest_versions(session: Session, enterprise_ids: Sequence[int]
                     ) -> dict[tuple[int, dt.date], tuple[int, str, int]]:
    out: dict[tuple[int, dt.date], tuple[int, str, int]] = {}
    for i in range(0, len(enterprise_ids), 500):
        chunk = enterprise_ids[i: i + 500]
        rows = session.execute(select(FulReport.enterprise_id, FulReport.period,
                                      FulReport.version, FulReport.digest, FulReport.id)
                               .where(FulReport.enterprise_id.in_(chunk)))
        for eid, period, version, dg, rid in rows:
            k = (eid, period)
            if k not in out or out[k][0] < version:
                out[k] = (version, dg, rid)
    return out


def report_versions(session: Session, code: str, period: str | dt.date) -> list[FulReport]:
    """Every stored version of one enterprise's report for one period, oldest first."""
    day = pd.Timestamp(period).date()
    return list(session.scalars(select(FulReport).join(
        FulEnterprise, FulEnterprise.id == FulReport.enterprise_id).where(
        FulEnterprise.code == code, FulReport.period == day).order_by(FulReport.version)))


def load_reports(session: Session, reg: Register) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest version of every report, and its lines, as the long tables of the checks."""
    pop = reg.population
    first = (select(FulReport.enterprise_id, FulReport.period,
                    func.max(FulReport.version).label("v"),
                    func.min(FulReport.submitted_at).label("first_sub"))
             .group_by(FulReport.enterprise_id, FulReport.period).subquery())
    q = select(FulReport.id, FulReport.enterprise_id, FulReport.period, FulReport.output,
               FulReport.hours, first.c.first_sub).join(first, (
                   FulReport.enterprise_id == first.c.enterprise_id)
                   & (FulReport.period == first.c.period) & (FulReport.version == first.c.v))
    reps = pd.DataFrame(session.execute(q).all(),
                        columns=["id", "eid", "period", "output", "hours", "first_sub"])
    e_pos = pd.Series(np.arange(pop.n), index=reg.enterprise_ids)
    s_pos = pd.Series(np.arange(len(reg.sector_ids)), index=reg.sector_ids)
    t_of = pd.Series(np.arange(pop.T), index=pop.periods)
    reps["t"] = pd.to_datetime(reps["period"]).map(t_of)
    reps = reps[reps["t"].notna()]
    ends = pop.period_ends[reps["t"].astype(int).to_numpy()]
    lag = (pd.to_datetime(reps["first_sub"]).to_numpy() - ends.to_numpy()) / np.timedelta64(
        1, "D")
    reports = pd.DataFrame({"enterprise": e_pos.reindex(reps["eid"]).to_numpy(np.int64),
                            "period": reps["t"].astype(int).to_numpy(),
                            "output": reps["output"].to_numpy(float),
                            "hours": reps["hours"].to_numpy(float), "lag_days": lag})
    lines_rows: list[Any] = []
    ids = reps["id"].tolist()
    rep_pos = dict(zip(ids, range(len(ids)), strict=True))
    for i in range(0, len(ids), 500):
        lines_rows += session.execute(select(
            FulReportLine.report_id, FulReportLine.kind, FulReportLine.counterparty_id,
            FulReportLine.product_id, FulReportLine.quantity).where(
            FulReportLine.report_id.in_(ids[i: i + 500]))).all()
    ln = pd.DataFrame(lines_rows, columns=["rid", "kind", "cp", "product", "quantity"])
    pos = ln["rid"].map(rep_pos).to_numpy(np.int64)
    lines = pd.DataFrame({
        "enterprise": reports["enterprise"].to_numpy()[pos] if len(ln) else np.zeros(0, int),
        "period": reports["period"].to_numpy()[pos] if len(ln) else np.zeros(0, int),
        "kind": np.where(ln["kind"] == "input", INPUT, DELIVERY),
        "counterparty": e_pos.reindex(ln["cp"]).to_numpy(np.int64),
        "product": s_pos.reindex(ln["product"]).to_numpy(np.int64),
        "quantity": ln["quantity"].to_numpy(float)})
    return reports, lines


# ----------------------------------------------------------------------------- checks


@dataclass
class StoredCheck:
    """A check run: the arrays, the stored run, and the alerts it opened or updated."""

    result: CheckResult
    run: FulCheckRun
    alerts: list[esc.EscalationItem]
    flags: pd.DataFrame  # the flags of the weeks this run saw (as stored)


def check(
    session: Session,
    *,
    as_of: dt.datetime,
    now: dt.datetime,
    settings: CheckSettings | None = None,
    ladder: esc.Ladder = esc.DEFAULT_LADDER,
    help_ladder: esc.Ladder = esc.HELP_LADDER,
    open_alerts: bool = True,
) -> StoredCheck:
    """Run every check on the stored reports; store and alert on the weeks this run sees.

    The checks are causal (:func:`.checks.run_checks`): a week is judged only
    by what came before it.  A run stores flags and opens alerts only for
    the weeks it has just seen — those ending after the last run's ``as_of``
    (every week up to ``as_of`` at the first run) — so it never re-opens the
    past.  Integrity flags open alerts on ``ladder`` (inspection); a
    shortfall whose reports are consistent opens one on ``help_ladder``.
    One alert per enterprise and check stays open at a time (key
    ``fulfilment:<code>:<check>``, or ``fulfilment:<code>:help:<check>``).
    """
    reg = load_register(session)
    reports, lines = load_reports(session, reg)
    pop = reg.population
    panel = build_panel(pop, reports, lines)
    as_of_ts = pd.Timestamp(as_of)
    result = run_checks(pop, panel, as_of=as_of_ts, settings=settings)
    prev = session.scalar(select(func.max(FulCheckRun.as_of)).where(
        FulCheckRun.plan_id == reg.plan.id, FulCheckRun.as_of < as_of))
    ends = pop.period_ends
    fresh = np.asarray(pop.periods <= as_of_ts)
    if prev is not None:
        fresh &= np.asarray(ends > pd.Timestamp(prev))
    flags = result.flags()
    if len(flags):
        t_of = pd.Series(np.arange(pop.T), index=pop.periods)
        flags = flags[fresh[flags["period"].map(t_of).to_numpy(np.int64)]]
    counts = flags["check"].value_counts().to_dict() if len(flags) else {}
    run = FulCheckRun(plan_id=reg.plan.id, at=now, as_of=as_of,
                      counts={str(k): int(v) for k, v in counts.items()})
    session.add(run)
    session.flush()
    covered = {(e, d, c) for e, d, c in session.execute(
        select(FulFlag.enterprise_id, FulFlag.period, FulFlag.check)
        .where(FulFlag.alert_id.is_not(None)))}
    eid = dict(zip(pop.codes, reg.enterprise_ids, strict=True))
    alerts: list[esc.EscalationItem] = []
    rows = []
    if len(flags):
        flags = flags.copy()
        flags["eid"] = flags["enterprise"].map(eid).astype(int)
        flags["day"] = flags["period"].dt.date
        flags["new"] = [(e, d, c) not in covered for e, d, c in
                        zip(flags["eid"], flags["day"], flags["check"], strict=True)]
        alert_of: dict[tuple[str, str], int] = {}
        if open_alerts:
            todo = flags[flags["new"] & flags["check"].isin(ALERT_CHECKS)]
            for (code, chk, route), g in todo.groupby(["enterprise", "check", "route"],
                                                      sort=True):
                last = g.iloc[-1]
                periods = [d.isoformat() for d in g["day"]]
                helped = route == "help"
                item = esc.open_alert(
                    session, area="fulfilment", subject=f"enterprise {code}",
                    reason=(("help: " if helped else "") + f"{chk}: {last['detail']} (period "
                            f"{last['day'].isoformat()}"
                            + (f" and {len(g) - 1} earlier" if len(g) > 1 else "") + ")"),
                    context={"unit": code, "sector": last["sector"]},
                    ladder=help_ladder if helped else ladder,
                    key=f"fulfilment:{code}:" + ("help:" if helped else "") + str(chk), now=now,
                    details={"check": chk, "periods": periods, "run": run.id,
                             "route": route, "evidence": last["evidence"]})
                alert_of[(str(code), str(chk))] = item.id
                alerts.append(item)
        for code, chk, eid_, day, val, detail, new in zip(
                flags["enterprise"], flags["check"], flags["eid"], flags["day"],
                flags["value"].to_numpy(float), flags["detail"], flags["new"], strict=True):
            v = float(val)
            rows.append({"run_id": run.id, "enterprise_id": int(eid_), "period": day,
                         "check": chk, "value": v if np.isfinite(v) else None,
                         "detail": detail,
                         "alert_id": alert_of.get((str(code), str(chk))) if new else None})
        session.execute(insert(FulFlag), rows)
    session.flush()
    return StoredCheck(result=result, run=run, alerts=alerts, flags=flags)
