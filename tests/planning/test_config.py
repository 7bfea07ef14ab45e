"""Plan configurations and the `gosplan plan` command."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.cli import main
from gosplan.errors import ValidationError
from gosplan.planning.plan_config import DEFAULT_PLAN, validate_config
from gosplan.readers.parquet import write_parquet
from gosplan.services.plan_runs import default_five_year_plan, load_config

from .test_leontief import economy

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "economy"
    write_parquet(economy(), src)
    cfg = tmp_path / "plan.toml"
    cfg.write_text(body.replace("SOURCE", str(src)), encoding="utf-8")
    return cfg


GOOD = """
[economy]
source = "SOURCE"
[plan]
years = 3
[targets]
free = ["health", "education"]
[targets.growth]
personal = 0.02
health = 0.04
[population]
population = 300
participation = 0.6
[output]
charts = true
"""


def test_typo_in_a_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    cfg = _write(tmp_path, GOOD.replace("participation = 0.6", "participaton = 0.6"))
    with pytest.raises(
        ValidationError,
        match=r"unknown key 'participaton' in \[population\]\. "
        r"Did you mean 'participation'\?",
    ):
        load_config(cfg)


def test_typo_in_a_section_a_value_and_a_purpose(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError,
        match=r"unknown section \[targts\]\. Did you mean "
        r"'targets'",
    ):
        validate_config({"targts": {}})
    with pytest.raises(ValidationError, match=r"\[plan\] years must be int.*got 'five'"):
        validate_config({"plan": {"years": "five"}})
    with pytest.raises(ValidationError, match=r"mode must be one of.*Did you mean 'receding'"):
        validate_config({"plan": {"mode": "recedng"}})
    with pytest.raises(ValidationError, match=r"unknown purpose 'helth'.*Did you mean 'health'"):
        validate_config({"targets": {"growth": {"helth": 0.1}}})
    with pytest.raises(ValidationError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_example_configs_are_valid() -> None:
    for name in ("plan-default.toml", "plan-wiod-gbr.toml"):
        cfg = load_config(ROOT / "examples" / name)
        assert cfg.get("plan", "years") == 5
    cfg = load_config(ROOT / "examples" / "plan-default.toml")
    assert cfg.data["targets"]["free"] == DEFAULT_PLAN["targets"]["free"]
    assert cfg.data["population"] == DEFAULT_PLAN["population"]
    assert cfg.data["capital"] == DEFAULT_PLAN["capital"]


def test_cli_plans_and_writes_tables_and_charts(tmp_path: Path) -> None:
    cfg = _write(tmp_path, GOOD)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["plan", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Working week by year" in res.output
    assert "deduction for social funds" in res.output
    by_year = pd.read_csv(out / "by-year.csv", index_col=0)
    assert list(by_year.index) == [2021, 2022, 2023]
    assert (by_year["working_week"] > 0).all()
    assert (out / "plan-by-purpose.png").stat().st_size > 10_000
    assert (out / "working-week.png").stat().st_size > 10_000
    lab = pd.read_csv(out / "labour-by-purpose.csv", index_col=0)
    assert {"personal", "health", "education", "investment"} <= set(lab.index)


def test_cli_reports_a_typo_without_a_traceback(tmp_path: Path) -> None:
    cfg = _write(tmp_path, GOOD.replace("[plan]\nyears = 3", "[plan]\nyeras = 3"))
    res = CliRunner().invoke(main, ["plan", str(cfg)])
    assert res.exit_code == 1
    assert "unknown key 'yeras' in [plan]. Did you mean 'years'?" in res.output
    assert "Traceback" not in res.output


def test_default_five_year_plan_on_a_given_economy() -> None:
    run = default_five_year_plan(economy(), population={"population": 300.0})
    assert run.plan is not None and run.plan.success, run.plan.message if run.plan else ""
    assert len(run.plan.years) == 5
    assert run.plan.years[0] == 2021
    rate, shares = run.plan.deduction_shares()
    assert 0 < rate < 1
    assert {"health", "education"} <= set(shares.index)
    assert run.first_year.working_week is not None
    with pytest.raises(ValidationError, match="Did you mean 'capital'"):
        default_five_year_plan(economy(), capitl={"depreciation": 0.1})


@pytest.mark.parametrize("mode", ["receding", "leontief"])
def test_cli_modes(tmp_path: Path, mode: str) -> None:
    body = GOOD.replace("[plan]\nyears = 3", f'[plan]\nyears = 3\nmode = "{mode}"\nhorizon = 2')
    cfg = _write(tmp_path, body)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["plan", str(cfg), "--out", str(out), "--no-charts"])
    assert res.exit_code == 0, res.output
    assert (out / "first-year-by-purpose.csv").exists()
    if mode == "receding":
        assert "receding-horizon (2 years)" in res.output
        assert len(pd.read_csv(out / "by-year.csv")) == 3
    else:
        assert not (out / "by-year.csv").exists()


def test_feedback_file_scales_personal_targets_only(tmp_path: Path) -> None:
    from gosplan.services.plan_runs import apply_feedback_file as apply_feedback

    bundles = pd.DataFrame(
        {"personal": [10.0, 4.0, 0.0], "health": [1.0, 1.0, 1.0]}, index=["bread", "shoes", "steel"]
    )
    fb = tmp_path / "fb.csv"
    fb.write_text(
        "product,current_target,next_target\nbread,5,6\nshoes,8,6\nsteel,0,3\n", encoding="utf-8"
    )
    out = apply_feedback(bundles, fb)
    assert out["personal"].tolist() == pytest.approx([12.0, 3.0, 0.0])
    assert out["health"].tolist() == [1.0, 1.0, 1.0]
    assert bundles["personal"].tolist() == [10.0, 4.0, 0.0]  # the input is not changed
    assert "14 -> 15" in out.attrs["notes"][-1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("product,current,next\nbread,1,2\n", "lacks column(s) ['current_target', 'next_target']"),
        (
            "product,current_target,next_target\nbraed,1,2\n",
            "row 2: product 'braed' is not a product of this economy. Did you mean 'bread'?",
        ),
        (
            "product,current_target,next_target\nbread,1,2\nshoes,1,-2\n",
            "row 3 ('shoes'): targets must be finite and >= 0",
        ),
        (
            "product,current_target,next_target\nbread,1,lots\n",
            "row 2 ('bread'): current_target and next_target must be numbers",
        ),
    ],
)
def test_feedback_file_errors_name_the_row(tmp_path: Path, body: str, message: str) -> None:
    from gosplan.services.plan_runs import apply_feedback_file as apply_feedback

    bundles = pd.DataFrame({"personal": [10.0, 4.0]}, index=["bread", "shoes"])
    fb = tmp_path / "fb.csv"
    fb.write_text(body, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        apply_feedback(bundles, fb)
    assert message in str(err.value)
    with pytest.raises(ValidationError, match="does not exist"):
        apply_feedback(bundles, tmp_path / "missing.csv")
