"""Integrity records through the real services and store: findings, separation, recompute."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gosplan.analysis.integrity import IntegrityConfig
from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import appointments as appt
from gosplan.services import criticism, escalation, integrity, publiclog
from gosplan.storage.base import session_scope

QUARTERLY = IntegrityConfig(granularity="quarter")
START = dt.datetime(2025, 1, 6, 9, 0)


@dataclass
class World:
    """A generated population: which enterprises are corrupt, which had honest shortfalls."""

    units: list[str]
    corrupt: set[str]
    shortfall: set[str]
    commission: str = "cm1"
    log_index: dict[str, list[int]] = field(default_factory=dict)


def _last_index(s: object, kind: str) -> int:
    return publiclog.entries(s, kind=kind)[-1].index  # type: ignore[arg-type]


def build_world(
    engine: Engine,
    settings: Settings,
    *,
    n: int = 40,
    n_corrupt: int = 8,
    n_shortfall: int = 6,
    quarters: int = 4,
    seed: int = 1,
    fault_rate: float = 0.6,
) -> World:
    """Enterprises, officials, ties; per quarter faults found by checks and inspected,
    false alarms dismissed, honest shortfalls that climb to the public rung and are
    explained, criticisms upheld or rejected, rigged and fair appointments, all through
    the services (escalation, appointments, criticism, integrity)."""
    rng = random.Random(seed)
    units = [f"E{i:03d}" for i in range(n)]
    corrupt = set(rng.sample(units, n_corrupt))
    shortfall = set(rng.sample([u for u in units if u not in corrupt], n_shortfall))
    w = World(units, corrupt, shortfall)
    with session_scope(engine) as s:
        appt.add_unit(s, "CC", "control commission", "organisation")
        appt.add_position(s, "CC-1", "commissioner", "CC")
        appt.add_person(s, "cm1", "Commissioner One")
        for u in units:
            appt.add_unit(s, u, f"{u} cooperative")
            appt.add_position(s, f"{u}-head", "head", u)
            appt.add_position(s, f"{u}-dep", "deputy", u)
            appt.add_person(s, f"{u}-h", f"head of {u}")
            appt.add_person(s, f"{u}-d", f"deputy of {u}")
            appt.add_person(s, f"{u}-r", f"relative in {u}")
            appt.add_tie(s, f"{u}-h", f"{u}-r", "family")
    for q in range(quarters):
        t0 = START + dt.timedelta(days=91 * q)
        with session_scope(engine) as s:
            period = f"{t0.year}-Q{(t0.month - 1) // 3 + 1}"
            for u in units:
                integrity.record_workforce(
                    s, unit=u, period=period, worker_years=rng.uniform(10, 100), by="statistics"
                )
                faults = _poisson(rng, fault_rate) if u in corrupt else 0
                false_alarms = _poisson(rng, 0.3)
                for j in range(faults + false_alarms):
                    real = j < faults
                    esc_item = escalation.open_alert(
                        s,
                        area="fulfilment",
                        subject=f"enterprise {u}",
                        reason="inputs above norm",
                        context={"unit": u, "sector": "S"},
                        now=t0 + dt.timedelta(hours=j),
                    )
                    opened = _last_index(s, "fulfilment.alert.opened")
                    assert publiclog.entry(s, opened).payload["item"] == esc_item.id
                    detected = rng.random() < 0.9 if real else rng.random() < 0.05
                    integrity.record_finding(
                        s,
                        unit=u,
                        kind="infringement",
                        outcome="upheld" if detected else "dismissed",
                        evidence=[opened],
                        by=w.commission,
                        reason="inspection on site",
                        day=(t0 + dt.timedelta(days=10)).date(),
                    )
                    escalation.resolve(
                        s,
                        esc_item.id,
                        by="commission",
                        resolution="inspected",
                        now=t0 + dt.timedelta(days=10),
                    )
                if u in shortfall:
                    help_item = escalation.open_alert(
                        s,
                        area="fulfilment",
                        subject=f"enterprise {u}",
                        reason="output 30 % short, inputs and hours short alike",
                        context={"unit": u, "sector": "S"},
                        now=t0,
                    )
                    escalation.tick(s, t0 + dt.timedelta(days=60))
                    climbed = _last_index(s, "fulfilment.alert.escalated")
                    assert publiclog.entry(s, climbed).payload["level_name"] == "public"
                    integrity.record_finding(
                        s,
                        unit=u,
                        kind="public_alert",
                        outcome="explained",
                        evidence=[climbed],
                        by=w.commission,
                        reason="honest capacity loss; asked for help",
                        day=(t0 + dt.timedelta(days=61)).date(),
                    )
                    escalation.resolve(
                        s,
                        help_item.id,
                        by="planning body",
                        resolution="supply rerouted",
                        now=t0 + dt.timedelta(days=62),
                    )
                for _ in range(_poisson(rng, 1.0)):
                    ref = criticism.file(
                        s,
                        target_kind="enterprise",
                        target=u,
                        content="a complaint from the shop floor",
                        settings=settings,
                        today=t0.date(),
                    ).ref
                    up = rng.random() < (0.3 if u in corrupt else 0.1)
                    criticism.change_status(
                        s,
                        ref,
                        "upheld" if up else "rejected",
                        reason="investigated",
                        by="commission",
                    )
            if q == 1:  # appointments: corrupt units appoint a relative of the head
                for u in units:
                    appointee = f"{u}-r" if u in corrupt else f"{u}-d"
                    a = appt.appoint(
                        s,
                        position=f"{u}-dep",
                        appointee=appointee,
                        appointer=f"{u}-h",
                        day=t0.date(),
                    )
                    if a.flagged:
                        integrity.record_finding(
                            s,
                            unit=u,
                            kind="rigged_appointment",
                            outcome="upheld",
                            evidence=[a.log_index],
                            by=w.commission,
                            reason="relative of the appointer",
                            day=t0.date(),
                        )
    return w


def _poisson(rng: random.Random, lam: float) -> int:
    import math

    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _auc(pos: list[float], neg: list[float]) -> float:
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def test_the_record_separates_corrupt_from_honest_enterprises(
    engine: Engine, settings: Settings
) -> None:
    w = build_world(engine, settings)
    with session_scope(engine) as s:
        rec = integrity.served_record(s, QUARTERLY)
    t = rec.table[rec.table["org"].isin(w.units)]
    per_org = t.groupby(["org", "period"]).agg(count=("count", "sum"), wy=("worker_years", "first"))
    totals = per_org.groupby("org").sum()
    score = (totals["count"] / totals["wy"]).to_dict()
    auc = _auc([score[u] for u in w.corrupt], [score[u] for u in w.units if u not in w.corrupt])
    assert auc >= 0.95, auc
    # honest shortfalls climbed to the public rung but are not held against anyone
    pub = t[(t["kind"] == "public_alert")]
    assert pub["count"].sum() == 0
    assert {ev.org for ev in rec.events if ev.kind == "rigged_appointment"} == w.corrupt


def test_nobody_rules_on_their_own_organisation(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        appt.add_unit(s, "E1", "kiln cooperative")
        appt.add_position(s, "E1-head", "head", "E1")
        appt.add_person(s, "h1", "head")
        appt.add_person(s, "x1", "outsider")
        appt.add_person(s, "r1", "relative")
        appt.add_tie(s, "h1", "r1", "family")
        appt.add_position(s, "E1-dep", "deputy", "E1")
        appt.appoint(s, position="E1-head", appointee="h1", appointer="x1", day=dt.date(2025, 1, 1))
        a = appt.appoint(
            s, position="E1-dep", appointee="r1", appointer="h1", day=dt.date(2025, 2, 1)
        )
        item = escalation.open_alert(
            s,
            area="fulfilment",
            subject="enterprise E1",
            reason="inputs above norm",
            context={"unit": "E1", "sector": "S"},
            now=START,
        )
        opened = _last_index(s, "fulfilment.alert.opened")
        assert item.id
    day = dt.date(2025, 3, 1)
    cases = [
        (
            dict(unit="E1", kind="infringement", outcome="dismissed", evidence=[opened], by="h1"),
            "holds position 'E1-head' in 'E1'",
        ),
        (
            dict(
                unit="E1",
                kind="rigged_appointment",
                outcome="dismissed",
                evidence=[a.log_index],
                by="r1",
            ),
            "named in evidence",
        ),
        (
            dict(
                unit="E1", kind="rigged_appointment", outcome="upheld", evidence=[opened], by="x1"
            ),
            "rests on appointment.made",
        ),
        (
            dict(unit="E1", kind="bribery", outcome="upheld", evidence=[opened], by="x1"),
            "finding kind 'bribery'",
        ),
        (
            dict(unit="E9", kind="infringement", outcome="upheld", evidence=[opened], by="x1"),
            "organisation 'E9' is not on record",
        ),
        (
            dict(unit="E1", kind="infringement", outcome="upheld", evidence=[10**6], by="x1"),
            "not an entry of the public log",
        ),
    ]
    for kwargs, message in cases:
        with session_scope(engine) as s:
            before = publiclog.size(s)
            with pytest.raises(ValidationError, match=message):
                integrity.record_finding(s, reason="ruling", day=day, **kwargs)  # type: ignore[arg-type]
        with session_scope(engine) as s:
            assert publiclog.size(s) == before
    with session_scope(engine) as s:  # the outsider may rule on the alert
        integrity.record_finding(
            s,
            unit="E1",
            kind="infringement",
            outcome="upheld",
            evidence=[opened],
            by="x1",
            reason="stock count",
            day=day,
        )


def test_recompute_from_export_equals_the_served_record(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    build_world(engine, settings, n=10, n_corrupt=3, n_shortfall=2, quarters=2, seed=3)
    path = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, path, settings)
        served = integrity.served_record(s, QUARTERLY)
    again = integrity.recompute_from_export(
        path, QUARTERLY, trusted_key=publiclog.public_key(settings)
    )
    assert integrity.compare(served, again) == []
    assert served.to_json() == again.to_json()
    assert len(served.events) > 0


def test_tampering_with_the_evidence_is_caught_by_the_log_check(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    build_world(engine, settings, n=6, n_corrupt=2, n_shortfall=1, quarters=2, seed=5)
    path = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, path, settings)
        target = next(
            e
            for e in publiclog.entries(s, kind="integrity.finding")
            if e.payload["outcome"] == "upheld"
        )
    drop = (
        "DROP TRIGGER publiclog_entry_no_update"
        if engine.dialect.name == "sqlite"
        else "DROP TRIGGER publiclog_entry_append_only ON publiclog_entry"
    )
    forged = dict(target.payload, outcome="dismissed")
    with engine.begin() as conn:  # the operator quietly clears an enterprise's record
        conn.execute(text(drop))
        conn.execute(
            text("UPDATE publiclog_entry SET payload_json = :p WHERE idx = :i"),
            {"p": publiclog.canonical_json(forged), "i": target.index},
        )
    with session_scope(engine) as s:
        served = integrity.served_record(s, QUARTERLY)
        v = publiclog.verify_store(s, trusted_key=publiclog.public_key(settings))
    assert not v.ok and f"entry {target.index}" in v.message
    honest_copy = integrity.recompute_from_export(path, QUARTERLY)
    diff = integrity.compare(served, honest_copy)
    assert any(target.payload["unit"] in d and target.payload["kind"] in d for d in diff), diff
