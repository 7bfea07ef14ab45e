"""A declared workforce that the approved hours contradict opens an alert.

An organisation that declares more worker-years than it worked lowers its own
integrity rates.  The hours approved for its members are public; a declaration
further from them than the configured tolerance opens an alert on the control
commission's ladder, once, and the organisation's own people cannot resolve it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import appointments as appt
from gosplan.services import escalation, integrity, publiclog
from gosplan.services.accounts import Accounts, Deduction
from gosplan.services.integrity_workforce import cross_check_workforce
from gosplan.storage.base import session_scope

NOW = dt.datetime(2027, 4, 5, 9, 0)


def _hours(engine: Engine) -> None:
    """mill: 6 × 215 h approved in 2027-03 (1 290 h = 0.75 worker-years in 2027-Q1);
    kiln: an account too, but no declaration."""
    people = [f"p{i}" for i in range(6)]
    with session_scope(engine) as s:
        appt.add_unit(s, "mill", "flour mill")
        appt.add_unit(s, "kiln", "brick kiln")
        appt.add_person(s, "p0", "a miller")
    acc = Accounts(engine)
    for code in people:
        acc.open_account(code, "person")
    for code in ("mill", "kiln"):
        acc.open_account(code, "enterprise")
    acc.open_period("2027-03", Deduction(Decimal("0.25"), {"health": Decimal(1)}))
    for i, person in enumerate(people):
        acc.join("mill", person, by="council")
        rec = acc.record_hours("mill", person, "2027-03", "215", key=f"r{i}", recorded_by="clerk")
        acc.approve_record(rec.id, key=f"a{i}", approver="auditor")


def _declare(engine: Engine, unit: str, period: str, wy: float) -> int:
    with session_scope(engine) as s:
        return integrity.record_workforce(
            s, unit=unit, period=period, worker_years=wy, by="statistics"
        )


def test_a_declaration_far_from_the_approved_hours_opens_one_alert(
    engine: Engine, settings: Settings
) -> None:
    _hours(engine)
    inflated = _declare(engine, "mill", "2027-Q1", 5.0)  # 5 declared, 0.75 worked
    _declare(engine, "mill", "2027", 0.8)  # the year: within 20 % of 0.75
    _declare(engine, "mill", "2026-Q4", 3.0)  # no approved hours then: not compared
    with session_scope(engine) as s:
        check = cross_check_workforce(s, now=NOW, tolerance=0.2)
    assert not check.success and (check.compared, check.not_compared) == (2, 1)
    (gap,) = check.gaps
    assert (gap.unit, gap.period, gap.declaration) == ("mill", "2027-Q1", inflated)
    assert gap.approved_hours == pytest.approx(1290.0)
    assert gap.approved == pytest.approx(1290 / 1720)
    assert gap.relative == pytest.approx(1 - 0.75 / 5.0)
    assert check.opened == 1 and gap.alert is not None
    with session_scope(engine) as s:
        opened = publiclog.entries(s, kind="integrity.alert.opened")
        assert len(opened) == 1
        assert opened[0].payload["subject"] == "enterprise mill"
        assert "5 worker-years" in opened[0].payload["reason"]
        assert opened[0].payload["owner"] == "control commission officer"
    # checking again opens nothing more
    with session_scope(engine) as s:
        again = cross_check_workforce(s, now=NOW, tolerance=0.2)
    assert again.opened == 0 and [g.alert for g in again.gaps] == [gap.alert]
    # the mill's own people cannot close it
    with session_scope(engine) as s:
        with pytest.raises(ValidationError, match="belongs to mill"):
            escalation.resolve(
                s, gap.alert, by="p0", resolution="a typo", now=NOW, actor_units=["mill"]
            )
    # a corrected declaration within the tolerance raises nothing new
    _declare(engine, "mill", "2027-Q1", 0.7)
    with session_scope(engine) as s:
        fixed = cross_check_workforce(s, now=NOW, tolerance=0.2)
        assert fixed.success and fixed.opened == 0
        assert len(publiclog.entries(s, kind="integrity.alert.opened")) == 1


def test_an_understated_workforce_is_a_gap_too_and_the_tolerance_is_a_share(
    engine: Engine, settings: Settings
) -> None:
    _hours(engine)
    _declare(engine, "mill", "2027-03", 0.5)  # the month: 0.75 worked, 33 % apart
    with session_scope(engine) as s:
        assert not cross_check_workforce(s, now=NOW, tolerance=0.2, open_alerts=False).success
        assert cross_check_workforce(s, now=NOW, tolerance=0.4, open_alerts=False).success
        for bad in (0.0, 1.0, -0.1):
            with pytest.raises(ValidationError, match="tolerance"):
                cross_check_workforce(s, now=NOW, tolerance=bad)
        assert publiclog.entries(s, kind="integrity.alert.opened") == []


def test_cli_declaration_is_checked_at_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    from gosplan.services import commission

    _hours(engine)
    commission.keygen(tmp_path / "cc", ["cm1", "cm2"], threshold=2, public_path=tmp_path / "cc.pub")
    (key,) = (tmp_path / "cc").glob("share-*-cm1.json")
    env = {
        "GOSPLAN_DATABASE_URL": settings.database_url,
        "GOSPLAN_LOG_KEY_PATH": settings.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": str(tmp_path / "cc.pub"),
        "GOSPLAN_INTEGRITY_WORKFORCE_TOLERANCE": "0.25",
    }
    run = CliRunner()
    r = run.invoke(
        main, ["integrity", "workforce", "mill", "2027-Q1", "9", "--key", str(key)], env=env
    )
    assert r.exit_code == 0, r.output
    assert "ALERT" in r.output
    r = run.invoke(main, ["integrity", "check-workforce", "--json"], env=env)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["tolerance"] == 0.25 and out["opened"] == 0
    assert [(g["unit"], g["period"]) for g in out["gaps"]] == [("mill", "2027-Q1")]
