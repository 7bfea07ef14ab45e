"""Register, plan, report ingestion: validation, idempotency, versions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.services.fulfilment import store as ful
from gosplan.storage.base import session_scope
from gosplan.storage.fulfilment import FulReport, FulReportLine

NOW = dt.datetime(2027, 2, 1, 12, 0)
START = "2027-01-04"  # a Monday


def toy_economy() -> Economy:
    A = np.array([[0.1, 0.3, 0.0], [0.2, 0.1, 0.4], [0.0, 0.0, 0.1]])
    return Economy.from_coefficients(
        A,
        [2.0, 1.0, 3.0],
        products=["grain", "steel", "tools"],
        output=[100.0, 200.0, 50.0],
        name="toy",
    )


def setup_register(engine: Engine) -> None:
    with session_scope(engine) as s:
        ful.register_sectors(s, toy_economy())
        ful.register_enterprise(s, "F1", sector="grain", capacity=1.0, now=NOW)
        ful.register_enterprise(s, "F2", sector="grain", capacity=3.0, now=NOW)
        ful.register_enterprise(
            s, "S1", sector="steel", capacity=1.0, now=NOW, norms={"grain": 0.25}, hours_norm=1.5
        )
        ful.adopt_plan(
            s,
            name="2027",
            freq="week",
            start=START,
            periods=52,
            sector_output={"grain": 5200.0, "steel": 520.0},
            now=NOW,
        )


def report(
    ent: str,
    period: str,
    output: float,
    hours: float,
    *lines: tuple[str, str, float],
    submitted: str | None = None,
) -> pd.DataFrame:
    rows = [
        {"enterprise": ent, "period": period, "kind": "output", "quantity": output},
        {"enterprise": ent, "period": period, "kind": "hours", "quantity": hours},
    ]
    rows += [
        {"enterprise": ent, "period": period, "kind": k, "counterparty": c, "quantity": q}
        for k, c, q in lines
    ]
    df = pd.DataFrame(rows)
    if submitted:
        df["submitted_at"] = submitted
    return df


def counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(FulReport)) or 0,
            s.scalar(select(func.count()).select_from(FulReportLine)) or 0,
        )


def test_plan_is_split_by_capacity_and_norms_come_from_A(engine: Engine) -> None:
    setup_register(engine)
    with session_scope(engine) as s:
        reg = ful.load_register(s)
    pop = reg.population
    row = reg.row_of
    assert pop.plan[row["F1"], 0] == pytest.approx(100.0 * 1 / 4)
    assert pop.plan[row["F2"], 5] == pytest.approx(100.0 * 3 / 4)
    assert pop.plan[row["S1"], 0] == pytest.approx(10.0)
    total = pop.input_norm_total()
    assert total[row["S1"]] == pytest.approx(0.25)  # own norm wins over the A column
    assert total[row["F1"]] == pytest.approx(0.1 + 0.2)  # grain's column of A
    assert pop.hours_norm[row["F1"]] == pytest.approx(2.0)
    assert pop.hours_norm[row["S1"]] == pytest.approx(1.5)
    assert pop.own_norms is not None and pop.own_hours is not None
    assert pop.own_norms[row["S1"]] and not pop.own_norms[row["F1"]]
    assert pop.own_hours[row["S1"]] and not pop.own_hours[row["F2"]]


def test_resubmission_is_idempotent_and_correction_is_a_new_version(engine: Engine) -> None:
    setup_register(engine)
    r = report("S1", START, 10.0, 15.0, ("input", "F1", 2.5))
    with session_scope(engine) as s:
        res = ful.ingest(s, r, now=NOW)
        assert (res.new, res.corrected, res.unchanged) == (1, 0, 0)
    assert counts(engine) == (1, 1)
    with session_scope(engine) as s:
        res = ful.ingest(s, r.sample(frac=1.0, random_state=3), now=NOW)  # same, reordered
        assert (res.new, res.corrected, res.unchanged) == (0, 0, 1)
    assert counts(engine) == (1, 1)
    with session_scope(engine) as s:
        res = ful.ingest(s, report("S1", START, 11.0, 15.0, ("input", "F1", 2.5)), now=NOW)
        assert res.corrected == 1
        versions = ful.report_versions(s, "S1", START)
        assert [v.version for v in versions] == [1, 2]
        assert [v.output for v in versions] == [10.0, 11.0]
        reg = ful.load_register(s)
        reports, lines = ful.load_reports(s, reg)
    assert reports["output"].tolist() == [11.0]
    assert lines["quantity"].tolist() == [2.5]
    assert lines["product"].tolist() == [reg.population.sectors.index("grain")]


@pytest.mark.parametrize(
    "frame,match",
    [
        (report("NOPE", START, 1.0, 1.0), r"enterprise 'NOPE'.*field `enterprise`: no such"),
        (
            report("F1", START, -5.0, 1.0),
            r"enterprise 'F1' for period 2027-01-04, field "
            r"`quantity` \(output\): -5 is negative",
        ),
        (
            report("F1", "2027-03-01", 1.0, 1.0),
            r"period 2027-03-01, field `period`: the period "
            r"has not started yet",
        ),
        (
            report("S1", START, 1.0, 1.0, ("input", "GHOST", 1.0)),
            r"field `counterparty`: supplier 'GHOST' does not exist",
        ),
        (report("F1", "2027-01-05", 1.0, 1.0), r"not a period start of plan '2027'"),
        (report("F1", START, 1.0, 1.0).iloc[:1], r"field `hours`: missing"),
    ],
)
def test_bad_reports_are_refused_and_change_nothing(
    engine: Engine, frame: pd.DataFrame, match: str
) -> None:
    setup_register(engine)
    good = report("F2", START, 70.0, 140.0)
    with session_scope(engine) as s, pytest.raises(ValidationError, match=match):
        ful.ingest(s, pd.concat([good, frame], ignore_index=True), now=NOW)
    assert counts(engine) == (0, 0)


def test_csv_errors_name_the_line(engine: Engine, tmp_path) -> None:
    setup_register(engine)
    path = tmp_path / "r.csv"
    pd.concat([report("F1", START, 1.0, 1.0), report("F2", START, -2.0, 1.0)]).to_csv(
        path, index=False
    )
    frame = ful.read_reports_csv(path)
    with (
        session_scope(engine) as s,
        pytest.raises(
            ValidationError,
            match=r"line 4: report "
            r"of enterprise 'F2'",
        ),
    ):
        ful.ingest(s, frame, now=NOW)
    assert counts(engine) == (0, 0)
