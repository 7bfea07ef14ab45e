"""UK input–output tables 1984 and 1995 (CSO/ONS CSV): real files and bad input.

Figures asserted were read off the CSV files: ``UK-1984.csv`` line 2
(Agriculture) and lines 104–110 (primary rows); ``UK-1995.csv`` line 2 and
lines 140–147.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from gosplan import labour_values
from gosplan.core.economy import Economy
from gosplan.errors import ReaderError
from gosplan.readers.uk_io import read_uk_io


@pytest.fixture(scope="session")
def uk_dir(data_dir: Path) -> Path:
    return data_dir / "uk-1984"


@pytest.fixture(scope="session")
def uk1984(uk_dir: Path) -> Economy:
    return read_uk_io(uk_dir / "UK-1984.csv")


@pytest.fixture(scope="session")
def uk1995(uk_dir: Path) -> Economy:
    return read_uk_io(uk_dir / "UK-1995.csv")


def _check_values(e: Economy) -> None:
    res = labour_values(e, tol=1e-10)
    v = res.values.to_numpy()
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    r = v - v @ e.A.toarray() - e.labour
    assert np.linalg.norm(r) / np.linalg.norm(e.labour) < 1e-10
    assert res.unit == "GBP million of wages per GBP million"


def test_uk_1984(uk1984: Economy) -> None:
    e = uk1984
    assert e.year == 1984 and e.name == "UK"
    assert e.n == 102  # the 'Adjusts' column has no row and is not an industry
    assert e.products[0] == "Agriculture" and e.products[-1] == "Public administration etc"
    assert e.labour_kind == "wages" and e.labour_unit == "GBP million of wages"
    assert e.money_unit == "GBP million"
    ag = 0
    assert e.output[ag] == 14709  # Total inputs, column Agriculture
    assert e.A[ag, ag] == pytest.approx(2296 / 14709)
    assert e.labour[ag] == pytest.approx(1385 / 14709)  # Income from employment
    assert e.compensation[ag] == 1385 and e.surplus[ag] == 4507  # Gross profits etc
    assert e.imports_per_unit[ag] == pytest.approx(1088 / 14709)
    assert list(e.final_demand.columns) == [
        "Consumers' expenditure",
        "GGFC",
        "GDFCF",
        "Stocks",
        "Exports",
    ]
    assert e.final_demand.loc["Agriculture"].tolist() == [1990, 113, 0, 24, 1262]
    assert e.purposes == {
        "Consumers' expenditure": "personal",
        "GGFC": "social",
        "GDFCF": "investment",
        "Stocks": "stocks",
        "Exports": "exports",
    }
    # totals of the primary rows over the industries (the 'Total' column less 'Adjusts')
    assert e.total_labour == pytest.approx(180053 - 0, abs=3)
    assert any("'Adjusts' has no matching row" in h for h in e.meta.history)
    _check_values(e)


def test_uk_1995(uk1995: Economy) -> None:
    e = uk1995
    assert e.year == 1995
    # 138 rows; 'Public administration and defence (pt)' has no output and is dropped
    assert e.n == 137
    assert "Public administration and defence (pt)" not in e.products
    assert any("dropped 1 zero-output" in h for h in e.meta.history)
    assert e.products[0] == "Agriculture"
    assert e.output[0] == 24116 and e.compensation[0] == 2840 and e.surplus[0] == 8341
    assert e.imports_per_unit[0] == pytest.approx(1505 / 24116)
    assert "GG - Education (116 pt)" in e.products
    # no final-demand columns in this table: implied as output less intermediate sales
    (col,) = e.final_demand.columns
    assert e.purposes[col] == "other"
    np.testing.assert_allclose(e.final_demand[col], e.output - e.Z.sum(axis=1), atol=1e-6)
    _check_values(e)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="latin-1") as f:
        return list(csv.reader(f))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="latin-1") as f:
        csv.writer(f).writerows(rows)
    return path


def test_truncated_csv(uk_dir: Path, tmp_path: Path) -> None:
    lines = (uk_dir / "UK-1984.csv").read_text(encoding="latin-1").splitlines()
    bad = tmp_path / "UK-1984.csv"
    bad.write_text("\n".join(lines[:60]) + "\n", encoding="latin-1")
    with pytest.raises(
        ReaderError,
        match=r"UK-1984.csv.*no row labelled 'Total …' after the "
        r"industry rows.*truncated",
    ):
        read_uk_io(bad)


def test_truncated_in_the_middle_of_a_line(uk_dir: Path, tmp_path: Path) -> None:
    raw = (uk_dir / "UK-1984.csv").read_bytes()
    bad = tmp_path / "UK-1984.csv"
    bad.write_bytes(raw[: int(len(raw) * 0.97)])
    with pytest.raises(
        ReaderError,
        match=r"row 1\d\d \(.*expected a number, found an empty "
        r"cell",
    ):
        read_uk_io(bad)


def test_nan_cell(uk_dir: Path, tmp_path: Path) -> None:
    rows = _rows(uk_dir / "UK-1984.csv")
    rows[3][5] = "NaN"  # Coal extraction etc -> Mineral oil processing
    with pytest.raises(
        ReaderError,
        match=r"row 4 \('Coal extraction etc'\), column F "
        r"\('Mineral oil processing'\): expected a number, "
        r"found nan",
    ):
        read_uk_io(_write(tmp_path / "UK-1984.csv", rows))


def test_text_cell(uk_dir: Path, tmp_path: Path) -> None:
    rows = _rows(uk_dir / "UK-1984.csv")
    rows[2][1] = "n/a"
    with pytest.raises(
        ReaderError,
        match=r"row 3 \('Forestry and fishing'\), column B "
        r"\('Agriculture'\): expected a number, found the "
        r"text 'n/a'",
    ):
        read_uk_io(_write(tmp_path / "UK-1984.csv", rows))


def test_negative_coefficient(uk_dir: Path, tmp_path: Path) -> None:
    rows = _rows(uk_dir / "UK-1995.csv")
    rows[1][2] = "-5"
    with pytest.raises(
        ReaderError,
        match=r"row 2 \('Agriculture'\), column C \('Forestry'\): "
        r"negative flow -5 from 'Agriculture' to 'Forestry'",
    ):
        read_uk_io(_write(tmp_path / "UK-1995.csv", rows))


def test_column_that_does_not_add_up(uk_dir: Path, tmp_path: Path) -> None:
    rows = _rows(uk_dir / "UK-1984.csv")
    rows[5][10] = str(float(rows[5][10]) + 500)  # a flow into 'Iron and steel etc'
    with pytest.raises(
        ReaderError,
        match=r"row 104 \('Total intermediate'\), column K "
        r"\('Iron and steel etc'\): the flows into "
        r"'Iron and steel etc' add up to 4632, but the row "
        r"'Total intermediate' says 4131",
    ):
        read_uk_io(_write(tmp_path / "UK-1984.csv", rows))


def test_total_inputs_that_do_not_add_up(uk_dir: Path, tmp_path: Path) -> None:
    rows = _rows(uk_dir / "UK-1995.csv")
    i = [r[0] for r in rows].index("Compensation of employees")
    rows[i][3] = str(float(rows[i][3]) + 100)  # Fishing
    with pytest.raises(
        ReaderError,
        match=r"row 147 \('Total output'\), column D "
        r"\('Fishing'\): the inputs of 'Fishing'",
    ):
        read_uk_io(_write(tmp_path / "UK-1995.csv", rows))


def test_missing_labour_row(uk_dir: Path, tmp_path: Path) -> None:
    rows = [r for r in _rows(uk_dir / "UK-1984.csv") if r[0] != "Income from employment"]
    with pytest.raises(
        ReaderError,
        match=r"no row 'Income from employment' or 'Compensation "
        r"of employees' \(labour\)",
    ):
        read_uk_io(_write(tmp_path / "UK-1984.csv", rows))
