"""Plans of real economies: the embedded default (Brazil, IBGE), WIOD and the ONS UK 2015."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gosplan.readers.registry import open_source
from gosplan.services.plan_runs import default_five_year_plan, load_config, run_config

ROOT = Path(__file__).resolve().parents[2]


def _check_run(run, years: int = 5) -> None:  # type: ignore[no-untyped-def]
    plan = run.plan
    assert plan is not None and plan.success, plan.message if plan else ""
    assert len(plan.years) == years
    for year in plan.years:
        need = plan.target_bundles[year].sum(axis=1).to_numpy()
        net = plan.net_output[year].to_numpy()
        gross = plan.gross_output[year].to_numpy()
        # net output >= target to 1e-9 of the flows involved
        assert np.all(net >= need - 1e-9 * np.maximum(np.maximum(need, gross), 1.0)), year
    ww = plan.working_week
    assert ww is not None and ((ww > 5) & (ww < 80)).all(), ww
    first = run.first_year
    assert first.labour_by_purpose.sum() == pytest.approx(first.labour_hours, rel=1e-9)
    rate, shares = plan.deduction_shares()
    assert 0.2 < rate < 0.9
    assert shares["health"] > 0 and shares["education"] > 0


def test_default_five_year_plan() -> None:
    run = default_five_year_plan()
    assert run.economy.name.startswith("Brazil")
    _check_run(run)
    # health and education are free: nothing of them is left in personal consumption
    b = run.plan.target_bundles[run.plan.years[0]]  # type: ignore[union-attr]
    health = [p for p in b.index if "Saúde" in p]
    assert health and b.loc[health, "personal"].sum() == 0.0
    assert b.loc[health, "health"].sum() > 0


@pytest.mark.shared_data
def test_wiod_plan(data_dir: Path) -> None:
    cfg = load_config(ROOT / "examples" / "plan-wiod-gbr.toml")
    e = open_source(str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"), year=2010)
    run = run_config(cfg, economy=e)
    _check_run(run)
    assert "capital stock" in run.plan.assumptions["capital"]  # type: ignore[union-attr]


@pytest.mark.shared_data
def test_uk_2015_plan(data_dir: Path) -> None:
    cfg = load_config(ROOT / "examples" / "plan-uk-2015.toml")
    e = open_source(str(data_dir / "uk-2015" / "ons-detailed-ioats-2015-bb18.xls"))
    run = run_config(cfg, economy=e)
    _check_run(run)
    assert run.first_year.hours_per_labour_unit == 55556
