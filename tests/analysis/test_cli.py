"""``gosplan analyse`` on every kind of file in the shared data folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.cli import main

WIOD = ["AUS", "CAN", "DEU", "FRA", "GBR", "USA"]


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["analyse", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output.replace("\n", " ")  # the summaries' own line breaks


def test_wiod_series_with_csv_parquet_and_chart(data_dir: Path, tmp_path: Path) -> None:
    csv, pq, png = tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "s.png"
    out = run(
        str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"),
        "--years",
        "2009-2011",
        "--csv",
        str(csv),
        "--parquet",
        str(pq),
        "--chart",
        str(png),
    )
    assert "GBR" in out and "2011" in out and "million hours" in out
    frame = pd.read_csv(csv, index_col="year")
    assert list(frame.index) == [2009, 2010, 2011]
    assert frame["correlation"].between(0.8, 1.0).all()
    assert frame["r"].between(0.05, 0.5).all()
    assert pd.read_parquet(pq).shape[0] == 3
    assert png.stat().st_size > 10_000
    # the printed table carries the numbers of the file
    assert f"{frame['correlation'].to_numpy()[1]:.4f}" in out


@pytest.mark.parametrize("country", WIOD)
def test_every_wiod_country(data_dir: Path, tmp_path: Path, country: str) -> None:
    csv = tmp_path / f"{country}.csv"
    out = run(
        str(data_dir / "wiod-2016" / f"{country}_NIOT_nov16.xlsx"),
        "--years",
        "2014",
        "--csv",
        str(csv),
    )
    assert f"{country}: labour values against prices" in out
    row = pd.read_csv(csv, index_col="year").loc[2014]
    for col in ("correlation", "log_r2", "mad", "d_distance", "e", "r"):
        assert np.isfinite(row[col]) and row[col] > 0, col


def test_uk_1984_single_table(data_dir: Path, tmp_path: Path) -> None:
    csv, png = tmp_path / "uk.csv", tmp_path / "uk.png"
    out = run(str(data_dir / "uk-1984" / "UK-1984.csv"), "--csv", str(csv), "--chart", str(png))
    assert "Labour values against market prices, UK 1984 (102 sectors)" in out
    assert "r   = 0.9585" in out
    assert "Rate of surplus value, UK 1984" in out
    assert "no value rate of profit" in out
    # the same as data
    r = CliRunner().invoke(main, ["analyse", str(data_dir / "uk-1984" / "UK-1984.csv"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    vp = data["value_price"]
    assert (vp["name"], vp["year"], vp["n"]) == ("UK", 1984, 102)
    assert round(vp["correlation"], 4) == 0.9585
    assert data["surplus_value"]["rate"] > 0 and data["profit_rate"] is None
    assert any("no value rate of profit" in n for n in data["notes"])
    assert pd.read_csv(csv, index_col=0).shape == (102, 3)
    assert png.exists()


def test_uk_1984_ignores_years_and_excludes_on_request(data_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "analyse",
            str(data_dir / "uk-1984" / "UK-1984.csv"),
            "--years",
            "1984",
            "--exclude",
            "Extraction of oil and gas",
        ],
    )
    assert result.exit_code == 0
    assert "Extraction of oil and gas: excluded by the caller" in result.output
    assert "(101 sectors)" in result.output


def test_uk_1995_has_no_household_column(data_dir: Path) -> None:
    out = run(str(data_dir / "uk-1984" / "UK-1995.csv"))
    assert "UK 1995" in out and "no rate of surplus value" in out


def test_ons_2015(data_dir: Path) -> None:
    out = run(str(data_dir / "uk-2015" / "ons-detailed-ioats-2015-bb18.xls"))
    assert "Rate of surplus value" in out and "2015" in out
    assert "no value rate of profit" in out


def test_ons_2015_with_capital_and_depreciation_files(data_dir: Path) -> None:
    d = data_dir / "uk-2015"
    out = run(
        str(d / "ons-detailed-ioats-2015-bb18.xls"),
        "--depreciation",
        "--read-option",
        f"capital={d / 'capitalstockmatrix2015.csv'}",
        "--read-option",
        f"depreciation={d / 'deprates.csv'}",
    )
    assert "Value rate of profit, United Kingdom 2015" in out
    assert "each capital good at its own labour" in out
    assert "net of the wear of fixed capital" in out
    bad = CliRunner().invoke(main, ["analyse", "default", "--read-option", "capital"])
    assert bad.exit_code == 2 and "is not KEY=VALUE" in bad.output


def test_scb_years(data_dir: Path) -> None:
    out = run(
        str(data_dir / "sweden-2008-2016" / "scb-nrio-sut-181108.xlsx"), "--years", "2015-2016"
    )
    assert "Sweden" in out and "2016" in out and "no rate of profit" in out


def test_default_economy() -> None:
    out = run("default")
    assert "Labour values against market prices, Brazil" in out
    assert "persons" in out


def test_bad_years_are_refused(data_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["analyse", str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"), "--years", "1999-2000"],
    )
    assert result.exit_code == 2
    assert "no year(s) [1999]" in result.output
