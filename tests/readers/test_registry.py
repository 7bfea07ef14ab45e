"""Source specs go to the right reader; `gosplan values` works on WIOD and UK tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import gosplan.read
from gosplan.cli import main
from gosplan.errors import ReaderError
from gosplan.readers.generic import read_generic
from gosplan.readers.registry import available_years, open_source, source_kind
from gosplan.readers.uk_io import read_uk_io
from gosplan.readers.wiod import read_wiod

TOY = Path(__file__).resolve().parents[1] / "data" / "generic" / "toy.csv"


@pytest.fixture(scope="session")
def gbr(data_dir: Path) -> Path:
    return data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"


@pytest.fixture(scope="session")
def uk84(data_dir: Path) -> Path:
    return data_dir / "uk-1984" / "UK-1984.csv"


def test_source_kind(gbr: Path, uk84: Path, tmp_path: Path) -> None:
    assert source_kind(str(gbr)) == "wiod"
    assert source_kind(str(gbr.with_name("USA_NIOT_nov16.xlsx"))) == "wiod"
    assert source_kind(str(uk84)) == "uk_io"
    assert source_kind(str(uk84.with_name("UK-1995.csv"))) == "uk_io"
    assert source_kind(str(TOY)) == "generic"
    assert source_kind(str(tmp_path / "mine.xlsx")) == "generic"
    assert available_years(str(gbr)) == list(range(2000, 2015))
    assert available_years(str(uk84)) is None


def test_open_source_dispatch(gbr: Path, uk84: Path) -> None:
    e = open_source(str(gbr), year=2010)
    assert (e.name, e.year, e.n) == ("GBR", 2010, 55)
    assert e.labour_unit == "million hours"
    e = open_source(str(gbr), year=2010, hours="employees")
    assert any("employees only" in h for h in e.meta.history)
    e = open_source(str(uk84))
    assert (e.name, e.year, e.n, e.labour_kind) == ("UK", 1984, 102, "wages")
    e = open_source(str(uk84.with_name("UK-1995.csv")))
    assert e.year == 1995
    e = open_source(str(TOY))
    assert (e.name, e.n) == ("Toyland", 3)


def test_open_source_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"GBR_NIOT_nov16.xlsx'?: no such file"):
        open_source(str(tmp_path / "GBR_NIOT_nov16.xlsx"), year=2010)


def test_read_namespace() -> None:
    assert gosplan.read.wiod is read_wiod
    assert gosplan.read.uk_io is read_uk_io
    assert gosplan.read.generic is read_generic


def _values_cli(tmp_path: Path, *args: str) -> tuple[str, pd.DataFrame]:
    csv_path, png = tmp_path / "values.csv", tmp_path / "values.png"
    result = CliRunner().invoke(
        main, ["values", *args, "--csv", str(csv_path), "--chart", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return result.output, pd.read_csv(csv_path, index_col=0)


def test_values_cli_on_wiod(gbr: Path, tmp_path: Path) -> None:
    out, table = _values_cli(tmp_path, str(gbr), "--year", "2010")
    assert "GBR 2010" in out and "million hours per USD million" in out
    assert len(table) == 55 and (table.iloc[:, 0] > 0).all()
    assert any(str(i).startswith("C10-C12 ") for i in table.index)


def test_values_cli_on_uk_1984(uk84: Path, tmp_path: Path) -> None:
    out, table = _values_cli(tmp_path, str(uk84))
    assert "UK 1984" in out and "GBP million of wages" in out
    assert len(table) == 102 and (table.iloc[:, 0] > 0).all()
    assert "Agriculture" in table.index


def test_values_cli_reports_a_bad_year(gbr: Path) -> None:
    result = CliRunner().invoke(main, ["values", str(gbr), "--year", "2020"])
    assert result.exit_code == 1
    assert "year 2020 is outside the WIOD 2016 release" in result.output
