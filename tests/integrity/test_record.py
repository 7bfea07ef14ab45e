"""Integrity records on hand-built logs whose records are known."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gosplan.analysis.integrity import (
    EVENT_KINDS,
    IntegrityConfig,
    change_points,
    integrity_record,
    poisson_interval,
    rate_ratio,
)


class Log:
    """A log built by hand, entry by entry, in the public form."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, day: str, /, **payload: Any) -> int:
        i = len(self.entries)
        self.entries.append(
            {"index": i, "kind": kind, "payload": payload, "time": f"{day}T12:00:00"}
        )
        return i

    def unit(self, unit: str, day: str = "2020-01-01") -> None:
        self.add("unit.registered", day, unit=unit, name=f"{unit} works", kind="enterprise")

    def workforce(self, unit: str, period: str, wy: float) -> None:
        self.add(
            "unit.workforce",
            f"{period[:4]}-01-02",
            unit=unit,
            period=period,
            worker_years=wy,
            by="statistics office",
        )

    def infringements(self, unit: str, year: int, n: int) -> None:
        for j in range(n):
            day = f"{year}-{1 + j % 12:02d}-15"
            a = self.add(
                "fulfilment.alert.opened",
                day,
                item=1000 * year + j,
                unit=unit,
                subject=unit,
                reason="inputs above norm",
            )
            self.add(
                "integrity.finding",
                day,
                unit=unit,
                kind="infringement",
                outcome="upheld",
                evidence=[a],
                by="inspector",
                reason="stock count",
            )


YEARLY = IntegrityConfig(granularity="year")


def _rate(rec: Any, org: str, period: str, kind: str) -> dict[str, Any]:
    t = rec.table
    row = t[(t["org"] == org) & (t["period"] == period) & (t["kind"] == kind)]
    assert len(row) == 1
    return row.iloc[0].to_dict()


def test_poisson_interval_matches_published_exact_limits() -> None:
    # Garwood limits for 0, 1 and 10 events (tables in e.g. Ulm 1990, Am J Epidemiol):
    # 0 -> (0, 3.689), 1 -> (0.0253, 5.572), 10 -> (4.795, 18.39) at 95 %.
    assert poisson_interval(0, 1.0, per=1.0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert poisson_interval(1, 1.0, per=1.0) == pytest.approx((0.0253, 5.572), abs=1e-3)
    assert poisson_interval(10, 1.0, per=1.0) == pytest.approx((4.795, 18.39), abs=1e-2)
    # rate per 1 000 worker-years scales with exposure
    lo, hi = poisson_interval(10, 2000.0)
    assert (lo, hi) == pytest.approx((4.795 / 2, 18.39 / 2), abs=1e-2)
    assert poisson_interval(3, 0.0) == (0.0, math.inf)


def test_rate_ratio_interval_covers_and_excludes() -> None:
    est, lo, hi = rate_ratio(40, 1000.0, 10, 1000.0)
    assert est == pytest.approx(4.0)
    assert 1.0 < lo < 4.0 < hi
    est, lo, hi = rate_ratio(5, 1000.0, 5, 1000.0)
    assert est == pytest.approx(1.0) and lo < 1.0 < hi
    est, lo, hi = rate_ratio(0, 1000.0, 0, 1000.0)
    assert math.isnan(est) and lo == 0.0 and math.isinf(hi)


def test_the_essays_example_improving_worst_and_worsening_best() -> None:
    """A ranks worse than B in both years, yet A improved and B got worse."""
    log = Log()
    for u in ("A", "B"):
        log.unit(u)
        for y in (2021, 2022):
            log.workforce(u, str(y), 1000.0)
    log.infringements("A", 2021, 60)
    log.infringements("A", 2022, 25)  # A: 60 -> 25 per 1 000 worker-years: better
    log.infringements("B", 2021, 0)
    log.infringements("B", 2022, 15)  # B: 0 -> 15: worse, though still "least corrupt"
    rec = integrity_record(log.entries, YEARLY)

    a22, b22 = (_rate(rec, o, "2022", "infringement") for o in ("A", "B"))
    assert a22["rate"] == pytest.approx(25.0) and b22["rate"] == pytest.approx(15.0)
    assert a22["rate"] > b22["rate"]  # a rank would still put B first...
    tr = rec.trends.set_index(["org", "kind"])
    assert tr.loc[("A", "infringement"), "trend"] == "better than its own past"
    assert tr.loc[("B", "infringement"), "trend"] == "worse than its own past"
    # ... the overview sorts by change, so B (worsened) comes before A (improved)
    ov = rec.overview()
    assert list(ov["org"]) == ["B", "A"]
    assert ov.iloc[0]["worsened"] == ["infringement"]
    assert ov.iloc[1]["improved"] == ["infringement"]
    # fixed standards (5 per 1 000): both above it in 2022; B was within it in 2021
    # (0 events: upper limit 3.69 per 1 000); 2 events would not be distinguishable
    assert a22["verdict"] == b22["verdict"] == "above standard"
    assert _rate(rec, "B", "2021", "infringement")["verdict"] == "within standard"


def test_small_organisations_get_wide_intervals() -> None:
    log = Log()
    log.unit("BIG")
    log.unit("SMALL")
    log.workforce("BIG", "2022", 10000.0)
    log.workforce("SMALL", "2022", 10.0)
    log.infringements("BIG", 2022, 100)
    log.infringements("SMALL", 2022, 0)
    rec = integrity_record(log.entries, YEARLY)
    big, small = (
        _rate(rec, "BIG", "2022", "infringement"),
        _rate(rec, "SMALL", "2022", "infringement"),
    )
    assert big["rate"] == pytest.approx(10.0)
    assert small["rate"] == 0.0
    assert small["rate_high"] - small["rate_low"] > 30 * (big["rate_high"] - big["rate_low"])
    assert small["verdict"] == "not distinguishable from standard"


def test_only_established_events_count_and_each_has_its_evidence() -> None:
    log = Log()
    log.unit("E1")
    log.workforce("E1", "2022", 100.0)
    log.add("position.created", "2022-01-01", position="E1-head", title="head", unit="E1")
    log.add(
        "appointment.made",
        "2022-01-03",
        position="E1-head",
        appointee="p1",
        appointer="p0",
        panel=[],
        day="2022-01-03",
        flagged=False,
        findings=[],
    )
    f1 = log.add(
        "criticism.filed",
        "2022-02-01",
        criticism="C-1",
        target_kind="official",
        target="p1",
        content="books overtime nobody worked",
    )
    s1 = log.add(
        "criticism.status",
        "2022-03-01",
        criticism="C-1",
        to="upheld",
        **{"from": "under_investigation"},
    )
    log.add(
        "criticism.filed",
        "2022-02-02",
        criticism="C-2",
        target_kind="enterprise",
        target="E1",
        content="noise",
    )
    log.add(
        "criticism.status", "2022-03-02", criticism="C-2", to="rejected", **{"from": "received"}
    )
    log.add(
        "criticism.filed",
        "2022-02-03",
        criticism="C-3",
        target_kind="enterprise",
        target="E1",
        content="upheld then withdrawn on appeal",
    )
    log.add("criticism.status", "2022-03-03", criticism="C-3", to="upheld", **{"from": "received"})
    log.add("criticism.status", "2022-04-03", criticism="C-3", to="rejected", **{"from": "upheld"})
    # an alert climbs to the public rung twice (counted once), another is explained
    a1 = log.add(
        "fulfilment.alert.escalated",
        "2022-05-01",
        item=7,
        subject="E1",
        unit="E1",
        level=4,
        level_name="public",
        reason="output 40 % short",
    )
    log.add(
        "fulfilment.alert.escalated",
        "2022-05-02",
        item=7,
        subject="E1",
        unit="E1",
        level=4,
        level_name="public",
        reason="output 40 % short",
    )
    a2 = log.add(
        "fulfilment.alert.escalated",
        "2022-06-01",
        item=8,
        subject="E1",
        unit="E1",
        level=4,
        level_name="public",
        reason="capacity lost in a flood",
    )
    log.add(
        "integrity.finding",
        "2022-06-10",
        unit="E1",
        kind="public_alert",
        outcome="outside_control",
        evidence=[a2],
        by="commission",
        reason="flood",
    )
    log.add(
        "fulfilment.help.escalated",
        "2022-06-02",
        item=9,
        subject="E1",
        unit="E1",
        level=4,
        level_name="public",
        reason="honest shortfall, asked for help",
    )
    # a finding that was dismissed does not count
    log.add(
        "integrity.finding",
        "2022-07-01",
        unit="E1",
        kind="infringement",
        outcome="dismissed",
        evidence=[a1],
        by="commission",
        reason="meter fault",
    )
    d = log.add(
        "decisions.directive.escalated",
        "2022-08-01",
        item=3,
        subject="E1",
        unit="E1",
        level=2,
        level_name="sector",
        reason="open the second kiln",
    )
    log.add(
        "decisions.directive.escalated",
        "2022-08-20",
        item=3,
        subject="E1",
        unit="E1",
        level=3,
        level_name="planning",
        reason="open the second kiln",
    )

    rec = integrity_record(log.entries, YEARLY)
    counts = {k: _rate(rec, "E1", "2022", k)["count"] for k in EVENT_KINDS}
    assert counts == {
        "criticism_upheld": 1,
        "infringement": 0,
        "input_overuse": 0,
        "rigged_appointment": 0,
        "retaliation": 0,
        "directive_overdue": 1,
        "public_alert": 1,
    }
    by_kind = {ev.kind: ev for ev in rec.events}
    assert by_kind["criticism_upheld"].evidence == (f1, s1)
    assert by_kind["public_alert"].evidence == (a1,)
    assert by_kind["directive_overdue"].evidence == (d,)
    org = rec.for_org("E1")
    assert org["name"] == "E1 works" and len(org["events"]) == 3


def test_quarterly_exposure_from_approved_hours_and_declared_months() -> None:
    log = Log()
    log.unit("E1")
    log.unit("E2")
    for m in ("2022-01", "2022-02", "2022-03"):
        log.add(
            "accounts.hours_approved", f"{m}-28", enterprise="E1", period=m, hours="17200.000000"
        )  # the ledger writes hours as exact decimal text
        log.workforce("E2", m, 5.0)
    log.workforce("E2", "2022-03", 6.0)  # a correction of March
    rec = integrity_record(log.entries, IntegrityConfig(granularity="quarter"))
    assert _rate(rec, "E1", "2022-Q1", "retaliation")["worker_years"] == pytest.approx(30.0)
    assert _rate(rec, "E2", "2022-Q1", "retaliation")["worker_years"] == pytest.approx(16.0)


def test_change_points_find_a_step_and_not_noise() -> None:
    flat = [5, 4, 6, 5, 5, 4, 6, 5, 5, 6]
    assert change_points(flat, [100.0] * 10) == []
    step = [2, 1, 2, 3, 2, 14, 15, 13, 16, 14]
    assert change_points(step, [100.0] * 10) == [5]


def test_record_is_a_pure_function_of_the_log() -> None:
    log = Log()
    log.unit("A")
    log.workforce("A", "2022", 50.0)
    log.infringements("A", 2022, 3)
    one, two = integrity_record(log.entries, YEARLY), integrity_record(list(log.entries), YEARLY)
    assert one.to_json() == two.to_json()
    log.infringements("A", 2022, 1)
    assert integrity_record(log.entries, YEARLY).to_json() != one.to_json()


@pytest.mark.parametrize(
    "bad",
    [
        {"granularity": "week"},
        {"hours_per_worker_year": 0.0},
        {"level": 1.0},
        {"standards": {"bribes": 1.0}},
        {"standards": {"retaliation": math.inf}},
    ],
)
def test_bad_settings_name_the_field(bad: dict[str, Any]) -> None:
    field = next(iter(bad))
    with pytest.raises(ValueError, match=field if field != "standards" else "standard"):
        IntegrityConfig(**bad)
