"""The simulator: a population true to its economy, faults as documented, detection measured."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.core.economy import Economy
from gosplan.errors import ValidationError
from gosplan.services.fulfilment.checks import build_panel, run_checks
from gosplan.services.fulfilment.simulator import (
    FAULT_KINDS,
    build_population,
    evaluate,
    per_year,
    report_frame,
    simulate,
)


def economy() -> Economy:
    rng = np.random.default_rng(7)
    n = 8
    A = rng.uniform(0, 0.08, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    return Economy.from_coefficients(
        A,
        rng.uniform(0.5, 2.0, n),
        products=[f"s{i}" for i in range(n)],
        output=rng.uniform(100, 1000, n),
        name="toy",
        year=2030,
    )


def test_population_follows_the_table() -> None:
    eco = economy()
    pop, links = build_population(eco, enterprises=400, periods=52, seed=3)
    assert pop.n == 400 and pop.T == 52
    assert np.bincount(pop.sector).min() >= 2
    # a year of plan adds up to each sector's gross output
    per_sector = np.bincount(pop.sector, weights=pop.plan.sum(1))
    np.testing.assert_allclose(per_sector, eco.output, rtol=0.02)
    assert pop.plan.sum() == pytest.approx(eco.output.sum() * 52 / per_year("week"), rel=0.02)
    # every supplier belongs to the product's sector, nobody supplies itself
    assert (pop.sector[links.supplier] == links.product).all()
    assert (links.supplier != links.customer).all()
    # own norms scatter around the sector's column of A
    A = eco.A.toarray()
    ratio = links.per_unit / A[links.product, pop.sector[links.customer]]
    assert 0.8 < np.median(ratio) < 1.2
    assert pop.periods[0].weekday() == 0 and pop.periods[0].year == 2030


def test_faults_and_detection_on_a_small_population() -> None:
    pop, links = build_population(economy(), enterprises=1200, periods=26, seed=0)
    sim = simulate(pop, links, fault_share=0.1, seed=1)
    assert set(sim.truth["kind"]) == set(FAULT_KINDS)
    assert ((sim.truth["start"] >= 6) & (sim.truth["start"] <= 23)).all()
    res = run_checks(pop, build_panel(pop, sim.reports, sim.lines))
    table = evaluate(res, sim)
    for kind in FAULT_KINDS:
        assert table.loc[kind, "detected_pct"] >= 95.0, table
    assert table.loc["honest enterprise-periods", "detected_pct"] <= 1.0, table
    # the same simulation without faults raises (almost) nothing
    clean = simulate(pop, links, fault_share=0.0, seed=1)
    res0 = run_checks(pop, build_panel(pop, clean.reports, clean.lines))
    assert res0.any_flag().mean() < 0.005


def test_report_frame_is_what_enterprises_file() -> None:
    pop, links = build_population(economy(), enterprises=40, periods=8, seed=0)
    sim = simulate(pop, links, fault_share=0.0, seed=1)
    frame = report_frame(sim)
    assert set(frame["kind"]) == {"output", "hours", "input", "delivery"}
    assert len(frame) == 2 * len(sim.reports) + len(sim.lines)
    out = frame[frame["kind"] == "output"]
    assert out["quantity"].sum() == pytest.approx(sim.reports["output"].sum())
    assert (frame["submitted_at"] > frame["period"]).all()


def test_bad_simulation_requests() -> None:
    with pytest.raises(ValidationError, match="at least 2 enterprises per sector"):
        build_population(economy(), enterprises=10)
    pop, links = build_population(economy(), enterprises=40, periods=8)
    with pytest.raises(ValidationError, match="unknown fault kinds"):
        simulate(pop, links, kinds=("arson",))
