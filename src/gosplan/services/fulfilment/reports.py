"""Reports in the store: validated ingestion of long tables, versions, and reading back.

Reports are a long table, one row per figure (:data:`REPORT_COLUMNS`); see
:mod:`.store` for the columns and the rules.  Every query is in
:mod:`gosplan.storage.fulfilment`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from gosplan.core.validation import MAX_MAGNITUDE
from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks import DELIVERY, INPUT
from gosplan.services.fulfilment.register import Register, load_register
from gosplan.storage import fulfilment as repo
from gosplan.storage.fulfilment import FulReport, FulReportLine

REPORT_COLUMNS = (
    "enterprise",
    "period",
    "kind",
    "quantity",
    "counterparty",
    "product",
    "submitted_at",
)
KINDS = ("output", "hours", "input", "delivery")


@dataclass
class IngestResult:
    """What a batch did: new reports, corrections (new versions), unchanged resubmissions."""

    new: int = 0
    corrected: int = 0
    unchanged: int = 0
    report_ids: list[int] = field(default_factory=list)
    #: id of each correction (a new version) → id of the version it corrects
    corrects: dict[int, int] = field(default_factory=dict)


def read_reports_csv(path: str | Path) -> pd.DataFrame:
    """Read a long report table from CSV (columns: :data:`REPORT_COLUMNS`)."""
    p = Path(path)
    try:
        frame = pd.read_csv(
            p,
            dtype={
                "enterprise": str,
                "counterparty": str,
                "product": str,
                "quantity": str,
                "kind": str,
                "period": str,
                "submitted_at": str,
            },
        )
    except (OSError, ValueError) as exc:
        raise ValidationError(f"reports file {str(p)!r} cannot be read: {exc}") from exc
    missing = [c for c in ("enterprise", "period", "kind", "quantity") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"reports file {str(p)!r} lacks columns {missing}; expected {list(REPORT_COLUMNS)}."
        )
    frame.attrs["source"] = p.name
    frame.attrs["first_line"] = 2
    return frame


_ISO = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?"


def _iso_dates(col: pd.Series) -> pd.Series:
    """Dates of a column; text must be ISO (YYYY-MM-DD[THH:MM:SS]), anything else (such as
    08/01/2024, which pandas reads month-first) becomes NaT, to be reported."""
    if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
        return pd.to_datetime(col, errors="coerce")
    is_text = col.map(lambda v: isinstance(v, str)).astype(bool)
    text = col.where(is_text, "").astype(str).str.strip()
    bad = is_text & ~text.str.fullmatch(_ISO).astype(bool)
    keep = col.where(~is_text, text).where(~bad, None)
    return pd.to_datetime(keep, errors="coerce")


def _shown(value: Any) -> str:
    """A cell as the user wrote it (not numpy's repr)."""
    if isinstance(value, float | np.floating):
        return repr(float(value)) if np.isfinite(value) else str(float(value))
    return repr(value)


def _errors(msgs: list[str]) -> ValidationError:
    head = msgs[:10]
    more = f"\n(and {len(msgs) - 10} more)" if len(msgs) > 10 else ""
    return ValidationError(
        f"{len(msgs)} problem(s) in the reports; nothing was stored:\n" + "\n".join(head) + more
    )


def ingest(
    session: Session,
    frame: pd.DataFrame,
    *,
    now: dt.datetime,
    source: str | None = None,
    simulated_receipt: bool = False,
) -> IngestResult:
    """Validate and store a batch of reports (see :mod:`.store`).

    ``now`` is when the server received them (lateness counts from it).  Only a
    simulation, which plays the server's clock itself, passes ``simulated_receipt`` to
    take each report's ``submitted_at`` as its time of receipt."""
    reg = load_register(session)
    pop = reg.population
    src = source or str(frame.attrs.get("source", "api"))
    first_line = int(frame.attrs.get("first_line", 0))
    missing = [c for c in ("enterprise", "period", "kind", "quantity") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"reports from {src} lack columns {missing}; expected {list(REPORT_COLUMNS)}."
        )
    if len(frame) == 0:
        raise ValidationError(
            f"reports from {src} hold no report (only a header?); nothing "
            "was stored. Each line is one figure: enterprise, period, kind, "
            "quantity."
        )
    df = frame.reset_index(drop=True).copy()
    for col in ("counterparty", "product", "submitted_at"):
        if col not in df.columns:
            df[col] = None
    msgs: list[str] = []
    ent = df["enterprise"].astype(str).str.strip()
    per = _iso_dates(df["period"])
    qty = pd.to_numeric(df["quantity"], errors="coerce")
    kind = df["kind"].astype(str).str.strip().str.lower()
    cp = df["counterparty"].where(df["counterparty"].notna(), "").astype(str).str.strip()
    sub = _iso_dates(df["submitted_at"])
    row_label = [f"line {first_line + i}" if first_line else f"row {i}" for i in range(len(df))]

    def where(i: int) -> str:
        p = per.iloc[i]
        ps = p.date().isoformat() if pd.notna(p) else repr(df["period"].iloc[i])
        return f"{row_label[i]}: report of enterprise {ent.iloc[i]!r} for period {ps}"

    e_row = ent.map(reg.row_of)
    for i in np.flatnonzero(e_row.isna().to_numpy()):
        msgs.append(f"{where(i)}, field `enterprise`: no such enterprise in the register")
    for i in np.flatnonzero(per.isna().to_numpy()):
        msgs.append(
            f"{where(i)}, field `period`: {df['period'].iloc[i]!r} is not an ISO date "
            "(YYYY-MM-DD; 08/01/2024 could be 1 August or 8 January)"
        )
    bad_kind = ~kind.isin(KINDS)
    for i in np.flatnonzero(bad_kind.to_numpy()):
        msgs.append(f"{where(i)}, field `kind`: {kind.iloc[i]!r} is not one of {list(KINDS)}")
    for i in np.flatnonzero(qty.isna().to_numpy()):
        msgs.append(
            f"{where(i)}, field `quantity` ({kind.iloc[i]}): "
            f"{_shown(df['quantity'].iloc[i])} is not a number"
        )
    huge = qty.notna() & ~(qty.abs() <= MAX_MAGNITUDE)
    for i in np.flatnonzero(huge.to_numpy()):
        msgs.append(
            f"{where(i)}, field `quantity` ({kind.iloc[i]}): "
            f"{_shown(df['quantity'].iloc[i])} is not a finite number of at most "
            f"{MAX_MAGNITUDE:g}"
        )
    for i in np.flatnonzero((qty < 0).to_numpy()):
        msgs.append(
            f"{where(i)}, field `quantity` ({kind.iloc[i]}): {qty.iloc[i]:g} is "
            "negative; quantities cannot be negative"
        )
    now_ts = pd.Timestamp(now)
    for i in np.flatnonzero((per > now_ts).to_numpy()):
        msgs.append(
            f"{where(i)}, field `period`: the period has not started yet "
            f"(now is {now_ts.isoformat()})"
        )
    t_of = pd.Series(np.arange(pop.T), index=pop.periods)
    t_idx = per.map(t_of)
    off = per.notna() & (per <= now_ts) & t_idx.isna()
    for i in np.flatnonzero(off.to_numpy()):
        msgs.append(
            f"{where(i)}, field `period`: not a period start of plan "
            f"{reg.plan.name!r} ({reg.plan.freq}s from {pop.periods[0].date()} to "
            f"{pop.periods[-1].date()})"
        )
    needs_cp = kind.isin(("input", "delivery"))
    c_row = cp.map(reg.row_of)
    for i in np.flatnonzero((needs_cp & (cp == "")).to_numpy()):
        msgs.append(
            f"{where(i)}, field `counterparty`: an {kind.iloc[i]} line must name "
            f"the {'supplier' if kind.iloc[i] == 'input' else 'customer'}"
        )
    for i in np.flatnonzero((needs_cp & (cp != "") & c_row.isna()).to_numpy()):
        role = "supplier" if kind.iloc[i] == "input" else "customer"
        msgs.append(
            f"{where(i)}, field `counterparty`: {role} {cp.iloc[i]!r} does not exist "
            "in the register"
        )
    sec_of = {s: k for k, s in enumerate(pop.sectors)}
    prod_given = df["product"].notna() & (df["product"].astype(str).str.strip() != "")
    prod = df["product"].where(prod_given, None)
    p_idx = prod.map(lambda v: sec_of.get(str(v).strip()) if v is not None else -1)
    for i in np.flatnonzero((prod_given & p_idx.isna()).to_numpy()):
        msgs.append(f"{where(i)}, field `product`: {prod.iloc[i]!r} is not a registered sector")
    for i in np.flatnonzero((df["submitted_at"].notna() & sub.isna()).to_numpy()):
        msgs.append(
            f"{where(i)}, field `submitted_at`: {df['submitted_at'].iloc[i]!r} is not "
            "an ISO date and time (YYYY-MM-DDTHH:MM:SS)"
        )
    if msgs:
        raise _errors(msgs)
    # assemble reports
    work = pd.DataFrame(
        {
            "e": e_row.astype(int),
            "t": t_idx.astype(int),
            "kind": kind,
            # + 0.0 turns -0.0 into 0.0: SQLite keeps no negative zero, and the digest
            # (recomputed from the rows by `log verify --store`) must survive the store
            "q": qty.astype(float) + 0.0,
            "c": c_row.fillna(-1).astype(int),
            "p": p_idx.fillna(-1).astype(int),
            "sub": sub,
        }
    )
    is_line = work["kind"].isin(("input", "delivery"))
    default_p = np.where(
        work["kind"] == "input",
        pop.sector[np.maximum(work["c"].to_numpy(), 0)],
        pop.sector[work["e"].to_numpy()],
    )
    work.loc[is_line & (work["p"] < 0), "p"] = default_p[(is_line & (work["p"] < 0)).to_numpy()]
    heads = work[~is_line]
    dup = heads.duplicated(["e", "t", "kind"], keep=False)
    for i in np.flatnonzero(dup.to_numpy())[:10]:
        j = heads.index[i]
        msgs.append(
            f"{where(j)}, field `{heads['kind'].loc[j]}`: given more than once in this batch"
        )
    keys = work.groupby(["e", "t"]).size().index
    have = heads.pivot_table(index=["e", "t"], columns="kind", values="q", aggfunc="first")
    have = have.reindex(keys)
    for col in ("output", "hours"):
        if col not in have.columns:
            have[col] = np.nan
        for e, t in have.index[have[col].isna().to_numpy()][:10]:
            msgs.append(
                f"report of enterprise {pop.codes[e]!r} for period "
                f"{pop.periods[t].date()}, field `{col}`: missing (every report "
                "states output and hours)"
            )
    if msgs:
        raise _errors(msgs)
    # digests and existing versions
    lines = work[is_line].sort_values(["e", "t", "kind", "c", "p", "q"])
    q_txt = lines["q"].map(repr).astype(str)
    line_txt = (
        (lines["kind"] + ":" + lines["c"].astype(str) + ":" + lines["p"].astype(str) + ":" + q_txt)
        .groupby([lines["e"], lines["t"]])
        .agg(";".join)
    )
    head_txt = have["output"].map(repr) + "|" + have["hours"].map(repr)
    text = head_txt.to_frame("h").join(line_txt.rename("l")).fillna("")
    digest = [
        hashlib.sha256(f"{h}#{ln}".encode()).hexdigest()
        for h, ln in zip(text["h"], text["l"], strict=True)
    ]
    submitted = work.groupby(["e", "t"])["sub"].min().reindex(keys)
    eids = reg.enterprise_ids
    latest = repo.latest_versions(session, sorted({int(eids[e]) for e, _ in keys}))
    result = IngestResult()
    new_rows: list[dict[str, Any]] = []
    line_groups = {k: g for k, g in lines.groupby(["e", "t"])}
    received = now.replace(tzinfo=None)
    for (e, t), dg, out, hrs, sb in zip(
        keys, digest, have["output"], have["hours"], submitted, strict=True
    ):
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
        new_rows.append(
            {
                "key": (e, t),
                "corrects": None if prev is None else int(prev[2]),
                "enterprise_id": eid,
                "period": period,
                "version": 1 if prev is None else prev[0] + 1,
                "digest": dg,
                "output": float(out),
                "hours": float(hrs),
                "submitted_at": (sb.to_pydatetime() if pd.notna(sb) else received),
                "received_at": (
                    sb.to_pydatetime() if simulated_receipt and pd.notna(sb) else received
                ),
                "source": src[:200],
            }
        )
    keys_new = [row.pop("key") for row in new_rows]
    corrects = [row.pop("corrects") for row in new_rows]
    if new_rows:
        ids = repo.insert_reports(session, new_rows)
        result.report_ids.extend(ids)
        result.corrects = {
            int(i): int(old) for i, old in zip(ids, corrects, strict=True) if old is not None
        }
        line_rows: list[dict[str, Any]] = []
        for rid, key in zip(ids, keys_new, strict=True):
            g = line_groups.get(key)
            if g is not None:
                line_rows += [
                    {
                        "report_id": rid,
                        "kind": k,
                        "counterparty_id": int(eids[c]),
                        "product_id": int(reg.sector_ids[p]),
                        "quantity": float(q),
                    }
                    for k, c, p, q in zip(g["kind"], g["c"], g["p"], g["q"], strict=True)
                ]
        repo.insert_rows(session, FulReportLine, line_rows)
        from gosplan.services import publiclog
        from gosplan.services.publiclog.state_reports import batch_ids_field

        # public: one entry per batch received, committing to every report's digest
        # (``log verify --store`` recomputes it: publiclog.state_reports)
        ledger = "\n".join(
            f"{r}|{row['enterprise_id']}|{row['period']}|{row['version']}|{row['digest']}"
            for r, row in zip(ids, new_rows, strict=True)
        )
        publiclog.append_event(
            session,
            "reports.received",
            {
                "reports": len(new_rows),
                "new": result.new,
                "corrected": result.corrected,
                "received_at": received.isoformat(),
                "first_report": min(ids),
                "digest": hashlib.sha256(ledger.encode("utf-8")).hexdigest(),
                **batch_ids_field(ids),
                # each correction names the version it corrects: [new report, old report]
                **(
                    {"corrections": [[n, o] for n, o in sorted(result.corrects.items())]}
                    if result.corrects
                    else {}
                ),
            },
        )
    session.flush()
    return result


def report_versions(session: Session, code: str, period: str | dt.date) -> list[FulReport]:
    """Every stored version of one enterprise's report for one period, oldest first."""
    return repo.report_versions(session, code, pd.Timestamp(period).date())


def load_reports(session: Session, reg: Register) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest version of every report, and its lines, as the long tables of the checks."""
    pop = reg.population
    reps = pd.DataFrame(
        repo.newest_reports(session),
        columns=["id", "eid", "period", "output", "hours", "first_sub"],
    )
    e_pos = pd.Series(np.arange(pop.n), index=reg.enterprise_ids)
    s_pos = pd.Series(np.arange(len(reg.sector_ids)), index=reg.sector_ids)
    t_of = pd.Series(np.arange(pop.T), index=pop.periods)
    reps["t"] = pd.to_datetime(reps["period"]).map(t_of)
    reps = reps[reps["t"].notna()]
    ends = pop.period_ends[reps["t"].astype(int).to_numpy()]
    lag = (pd.to_datetime(reps["first_sub"]).to_numpy() - ends.to_numpy()) / np.timedelta64(1, "D")
    reports = pd.DataFrame(
        {
            "enterprise": e_pos.reindex(reps["eid"]).to_numpy(np.int64),
            "period": reps["t"].astype(int).to_numpy(),
            "output": reps["output"].to_numpy(float),
            "hours": reps["hours"].to_numpy(float),
            "lag_days": lag,
        }
    )
    ids = reps["id"].tolist()
    rep_pos = dict(zip(ids, range(len(ids)), strict=True))
    lines_rows = repo.report_lines(session, ids)
    ln = pd.DataFrame(lines_rows, columns=["rid", "kind", "cp", "product", "quantity"])
    pos = ln["rid"].map(rep_pos).to_numpy(np.int64)
    lines = pd.DataFrame(
        {
            "enterprise": reports["enterprise"].to_numpy()[pos] if len(ln) else np.zeros(0, int),
            "period": reports["period"].to_numpy()[pos] if len(ln) else np.zeros(0, int),
            "kind": np.where(ln["kind"] == "input", INPUT, DELIVERY),
            "counterparty": e_pos.reindex(ln["cp"]).to_numpy(np.int64),
            "product": s_pos.reindex(ln["product"]).to_numpy(np.int64),
            "quantity": ln["quantity"].to_numpy(float),
        }
    )
    return reports, lines
