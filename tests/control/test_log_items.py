"""Alerts, directives and approved hours are caches of the log: rewrites are named.

An operator with the database owner's rights marks an alert about a friend's
enterprise resolved, lowers its rung, deletes another, or doubles the hours of an
approved work record (triggers dropped first); ``log verify --store`` names each row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from gosplan.config import Settings
from gosplan.services import escalation as esc
from gosplan.services.accounts import Accounts, Deduction
from gosplan.services.publiclog import state
from gosplan.storage.accounts import drop_append_only_ddl
from gosplan.storage.base import session_scope

T0 = dt.datetime(2027, 3, 1, 9, 0)


def _alerts(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        ids = []
        for unit in ("E1", "E2", "E3"):
            item = esc.open_alert(
                s,
                area="fulfilment",
                subject=f"enterprise {unit}",
                reason="inputs above norm",
                context={"unit": unit, "sector": "S"},
                now=T0,
            )
            ids.append(item.id)
        esc.tick(s, T0 + dt.timedelta(days=10))  # all climb one rung
        esc.resolve(s, ids[2], by="commission", resolution="stock count", now=T0)
    return ids


def _names(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        check = state.verify_public_state(s)
    return [str(d) for d in check.differences]


def test_rewritten_alerts_are_named(engine: Engine, settings: Settings) -> None:
    a, b, c = _alerts(engine)
    assert _names(engine) == []
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE esc_item SET resolved_at = :t, resolution = 'nothing wrong' WHERE id = :i"
            ),
            {"t": T0, "i": a},
        )
        conn.execute(text("UPDATE esc_item SET level = 0 WHERE id = :i"), {"i": b})
        conn.execute(text("DELETE FROM esc_event WHERE item_id = :i"), {"i": c})
        conn.execute(text("DELETE FROM esc_item WHERE id = :i"), {"i": c})
    names = _names(engine)
    assert any(
        f"esc_item {a} " in n and "resolved in the table but not in the log" in n for n in names
    ), names
    assert any(
        f"esc_item {b} " in n and "rung 1 in the table, 2 in log entry" in n for n in names
    ), names
    assert any(n.startswith(f"esc_item {c}:") and "row is missing" in n for n in names), names


def test_hours_credited_behind_the_log_are_named(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    acc = Accounts(engine)
    for code, kind in [("ana", "person"), ("bea", "person"), ("mill", "enterprise")]:
        acc.open_account(code, kind)
    acc.open_period("2027-03", Deduction(Decimal("0.25"), {"health": Decimal(1)}))
    acc.join("mill", "ana", by="council")
    rec = acc.record_hours("mill", "ana", "2027-03", "37.5", key="r1", recorded_by="bea")
    acc.approve_record(rec.id, key="a1", approver="auditor")
    acc.join("mill", "bea", by="council")
    other = acc.record_hours("mill", "bea", "2027-03", "10", key="r2", recorded_by="ana")
    assert _names(engine) == []
    dialect = engine.dialect.name
    with engine.begin() as conn:  # the operator doubles ana's approved hours
        for stmt in drop_append_only_ddl(dialect, function=False):
            conn.execute(text(stmt))
        conn.execute(text("UPDATE acct_work SET hours = hours * 2 WHERE id = :i"), {"i": rec.id})
        conn.execute(  # and slips in an approval of bea's record that the log never saw
            text(
                "INSERT INTO acct_approval (work_id, transaction_id, approver) "
                "SELECT :w, transaction_id, 'nobody' FROM acct_approval WHERE work_id = :r"
            ),
            {"w": other.id, "r": rec.id},
        )
    names = _names(engine)
    assert any(f"acct_work {rec.id}:" in n and "75" in n and "37.5" in n for n in names), names
    assert any(f"acct_approval {other.id}:" in n and "not in the log" in n for n in names), names


def test_a_rewritten_plan_target_is_named(engine: Engine, settings: Settings) -> None:
    import numpy as np

    from gosplan.core.economy import Economy
    from gosplan.services.fulfilment import store as ful

    eco = Economy.from_flows(
        np.array([[10.0, 20.0], [5.0, 10.0]]),
        np.array([100.0, 80.0]),
        [50.0, 40.0],
        products=["grain", "cloth"],
        labour_unit="hours",
    )
    with session_scope(engine) as s:
        ful.register_sectors(s, eco)
        ful.register_enterprise(s, "E1", sector="grain", capacity=1.0, now=T0)
        plan = ful.adopt_plan(
            s,
            name="2027",
            freq="week",
            start="2027-01-04",
            periods=4,
            sector_output={"grain": 400.0, "cloth": [10.0, 20.0, 30.0, 40.0]},
            now=T0,
        )
        pid = plan.id
    assert _names(engine) == []
    with engine.begin() as conn:  # the shortfall is excused by lowering the target
        conn.execute(
            text(
                "UPDATE ful_plan_sector SET per_period = :v WHERE plan_id = :p AND sector_id = "
                "(SELECT id FROM ful_sector WHERE code = 'grain')"
            ),
            {"v": "[50.0, 50.0, 50.0, 50.0]", "p": pid},
        )
    names = _names(engine)
    assert any(f"ful_plan_sector {pid}:" in n and "digest" in n for n in names), names
