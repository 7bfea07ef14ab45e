"""The fault library against the checks on a small population of Brazil 2021 at 20 activities.

Fixed seeds; 26 weeks of history, then 26 weekly runs; the register holds
engineering norms with error (or only the sector's), never the coefficients
that generated the data.  Noise at the simulator's present level with t(4)
tails; the benchmark holds the 2x levels (see BENCHMARKS.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gosplan.errors import ValidationError
from gosplan.readers.registry import open_source
from gosplan.services.fulfilment import faults as F
from gosplan.services.fulfilment.checks import build_panel, run_checks
from gosplan.services.fulfilment.simulator import build_population

WITHIN = {
    "output_up_15": 1,
    "inputs_down_25": 1,
    "ghost_hours": 1,
    "phantom_delivery": 1,
    "output_up_5": 8,
    "cooperating_pair": 4,
    "copy_whole": 3,
    "copy_output_hours": 3,
    "slow_decline": 4,
    "rounded_reports": 4,
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    eco = open_source("ibge:2021:20")
    pop, links = build_population(eco, enterprises=200, periods=52, seed=4)
    reg = F.register_view(pop, links, seed=4)
    case = F.generate(
        pop,
        links,
        faults=dict.fromkeys(F.FAULTS, 3),
        first_start=26,
        last_start=43,
        noise=F.Noise(scale=1.0, tail_df=4.0),
        seed=5,
    )
    # the checks see the register, not the generating norms
    assert not np.allclose(reg.norm_per_unit, pop.norm_per_unit)
    res = run_checks(reg, build_panel(reg, case.reports, case.lines))
    inspect, helped = res.routes()
    return F.evaluate(inspect, helped, case, first_run=26, within=WITHIN)


@pytest.mark.parametrize("kind", [k for k in F.FAULTS if k != "honest_shortfall"])
def test_each_fault_kind_is_found_in_time(table: pd.DataFrame, kind: str) -> None:
    assert table.loc[kind, "found_within_pct"] == 100.0, table


def test_honest_shortfall_asks_for_help(table: pd.DataFrame) -> None:
    assert table.loc["honest_shortfall", "found_pct"] == 100.0, table


def test_honest_enterprises_are_rarely_sent_anywhere(table: pd.DataFrame) -> None:
    row = table.loc["honest: sent to inspection"]
    assert row["cases"] > 80
    assert row["found_pct"] <= 1.0, table  # issue 14's goal: <= 1 % over 26 weekly runs
    # help is no accusation: a week below 75 % of plan asks the supply body for help
    assert table.loc["honest: sent to help", "found_pct"] <= 5.0, table


def test_library_refuses_what_it_cannot_place() -> None:
    eco = open_source("ibge:2021:20")
    pop, links = build_population(eco, enterprises=60, periods=30, seed=0)
    with pytest.raises(ValidationError, match="unknown faults"):
        F.generate(pop, links, faults={"arson": 1})
    with pytest.raises(ValidationError, match="ask for fewer"):
        F.generate(pop, links, faults={"ghost_hours": 59}, first_start=10, last_start=20)


def _small_shifts(tail_df: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 enterprises at twice today's noise (``tail_df``: Student t tails, None: Gaussian),
    ten cases of each fault issue 14 found weak. Returns the evaluation table and, per
    case, whether it was found in time and whether the enterprise reports any input lines."""
    eco = open_source("ibge:2021:20")
    pop, links = build_population(eco, enterprises=300, periods=52, seed=7)
    reg = F.register_view(pop, links, seed=7)
    kinds = ("ghost_hours", "output_up_5", "slow_decline", "output_up_15")
    case = F.generate(
        pop,
        links,
        faults=dict.fromkeys(kinds, 10),
        first_start=26,
        last_start=43,
        noise=F.Noise(scale=2.0, tail_df=tail_df),
        seed=8,
    )
    res = run_checks(reg, build_panel(reg, case.reports, case.lines))
    inspect, helped = res.routes()
    tr = case.truth
    found = [
        bool(inspect[e, t0 : t0 + WITHIN[k] + 1].any())
        for e, k, t0 in zip(tr["enterprise"], tr["kind"], tr["start"], strict=True)
    ]
    buys = np.bincount(links.customer, minlength=pop.n) > 0
    cases = tr.assign(found=found, buys=buys[tr["enterprise"].to_numpy()])
    return F.evaluate(inspect, helped, case, first_run=26, within=WITHIN), cases


@pytest.fixture(scope="module")
def twice() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Twice today's noise, Gaussian (the harder case for small shifts: a robust scale
    equals the standard deviation)."""
    return _small_shifts(None)


@pytest.mark.parametrize(
    ("kind", "share"),
    [
        ("output_up_15", 100.0),
        ("output_up_5", 90.0),  # issue 14's goal: >= 90 % within 8 weeks
        ("slow_decline", 90.0),  # ... >= 90 % within 4 weeks
        ("ghost_hours", 99.0),  # ... >= 99 % within 1 week
    ],
)
def test_twice_the_noise_small_shifts_accumulate(
    twice: tuple[pd.DataFrame, pd.DataFrame], kind: str, share: float
) -> None:
    """Found in time among enterprises that buy inputs; one that buys nothing has only
    its hours to check output against (5 % of output is under one noise a week there)."""
    cases = twice[1].query("kind == @kind")
    assert 100.0 * cases.loc[cases["buys"], "found"].mean() >= share, cases


def test_twice_the_noise_honest_rarely_inspected(
    twice: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    row = twice[0].loc["honest: sent to inspection"]
    assert row["cases"] > 150
    assert row["found_pct"] <= 1.0, twice[0]


@pytest.fixture(scope="module")
def heavy() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same population and faults as ``twice``, with Student t(4) tails."""
    return _small_shifts(4.0)


@pytest.mark.parametrize(
    ("kind", "share"),
    [
        ("output_up_15", 100.0),
        ("output_up_5", 90.0),
        ("slow_decline", 90.0),  # the drift test: 80 % before it (the CUSUM's h rises with tails)
        # the goal is 99 % within 1 week; at 2x t(4) no test can reach it within the false-
        # alarm goal (docs/fulfilment.md, "What the checks cannot see")
        ("ghost_hours", 80.0),
    ],
)
def test_heavy_tails_small_shifts_accumulate(
    heavy: tuple[pd.DataFrame, pd.DataFrame], kind: str, share: float
) -> None:
    cases = heavy[1].query("kind == @kind")
    assert 100.0 * cases["found"].mean() >= share, cases


def test_heavy_tails_honest_rarely_inspected(heavy: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    row = heavy[0].loc["honest: sent to inspection"]
    assert row["cases"] > 150
    assert row["found_pct"] <= 1.0, heavy[0]
