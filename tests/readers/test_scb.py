"""Statistics Sweden supply–use workbook: every year of the real file, a mock, bad input.

Publisher's figures were read off ``scb-nrio-sut-181108.xlsx`` with a
spreadsheet (rows and columns as the spreadsheet numbers them): in each year's
sheet, row 69 ``Produktionsvärde``, row 85 ``Antal sysselsatta``, row 86
``Arbetade timmar (10K)``, column BJ ``Summa``; the supply block from row 157.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from gosplan import Economy, labour_values
from gosplan.cli import main
from gosplan.errors import ReaderError
from gosplan.readers.registry import open_source, source_kind
from gosplan.readers.scb import available_years, read_scb

MOCK = Path(__file__).resolve().parents[1] / "data" / "scb" / "scb-mock-sut.xlsx"
YEARS = list(range(2008, 2017))


@pytest.fixture(scope="session")
def scb_file(data_dir: Path) -> Path:
    return data_dir / "sweden-2008-2016" / "scb-nrio-sut-181108.xlsx"


@pytest.fixture(scope="session")
def scb(scb_file: Path) -> Callable[[int], Economy]:
    cache: dict[int, Economy] = {}

    def get(year: int) -> Economy:
        if year not in cache:
            cache[year] = read_scb(scb_file, year=year)
        return cache[year]

    return get


def test_years_and_source_kind(scb_file: Path) -> None:
    assert available_years(scb_file) == YEARS
    assert source_kind(str(scb_file)) == "scb"


@pytest.mark.parametrize("year", YEARS)
def test_every_year(scb: Callable[[int], Economy], year: int) -> None:
    e = scb(year)
    assert e.name == "Sweden" and e.year == year and e.kind == "product"
    assert e.n == (58 if year == 2016 else 59)
    assert e.products[0] == "A01" and e.products[-1] == "T-U"
    assert e.labour_kind == "hours" and e.labour_unit == "hours"
    assert e.money_unit == "SEK million"
    res = labour_values(e, tol=1e-10)
    v = res.values.to_numpy()
    assert np.isfinite(v).all() and (v > 0).all(), res.values[~(v > 0)]
    r = v - e.A.T @ v - e.labour
    assert np.linalg.norm(r) / np.linalg.norm(e.labour) < 1e-10
    # hours are hours, not the gross-output row: 1,300-1,800 a year per person employed
    assert e.persons is not None
    assert 1300 < e.total_labour / e.persons.sum() < 1800
    assert 0.3 < e.spectral_radius() < 0.5
    if year != 2016:  # 2016 lost imputed rents' inputs from its use block (see below)
        x, fd = e.output, e.final_demand
        assert x is not None and fd is not None
        np.testing.assert_allclose(e.A @ x + fd.sum(axis=1).to_numpy(), x, rtol=1e-9)


def test_publisher_figures(scb: Callable[[int], Economy]) -> None:
    e = scb(2016)
    # row 86 'Arbetade timmar (10K)', column BJ 'Summa': 794,353 tens of thousands
    assert e.total_labour == pytest.approx(794_353 * 10_000, rel=1e-12)
    # row 85 'Antal sysselsatta', column BJ: 4,896,500 persons
    assert e.persons is not None and e.persons.sum() == pytest.approx(4_896_500, rel=1e-12)
    # supply block row 159 (A01), column BJ 'Summa': 50,570
    assert e.output is not None and e.output[0] == pytest.approx(50_570)
    # row 69 'Produktionsvärde' BJ 7,617,856, less L68A (column AQ, 229,551: blanked out
    # of every 2016 matrix), plus the one negative supply entry moved to use (row 185
    # G45-47, column AJ J59_60: -229)
    assert e.output.sum() == pytest.approx(7_617_856 - 229_551 + 229)
    assert "L68A" not in e.products
    assert any("['L68A'] have no entries" in h for h in e.meta.history)
    assert any("'Summa'" in h and "89,734" in h for h in e.meta.history)
    e8 = scb(2008)
    assert e8.total_labour == pytest.approx(738_130 * 10_000, rel=1e-12)
    assert e8.output is not None and e8.output.sum() == pytest.approx(6_299_764)
    assert not any("moved" in h for h in e8.meta.history)  # no negative supply in 2008


def test_other_technologies(scb_file: Path) -> None:
    e = read_scb(scb_file, year=2015, technology="sales")
    assert e.kind == "industry" and e.n == 59
    # the industries' own hours, unchanged: row 86 column BJ of sheet 2015
    assert labour_values(e).residual < 1e-10
    with pytest.raises(
        ReaderError,
        match=r"sheet '2016'.*product technology needs a square "
        r"supply table.*59 products × 58 industries",
    ):
        read_scb(scb_file, year=2016, technology="product")


def test_cli_values_scb_2016(scb_file: Path) -> None:
    result = CliRunner().invoke(main, ["values", str(scb_file), "--year", "2016", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["economy"], data["year"], data["products"]) == ("Sweden", 2016, 58)
    assert data["labour_unit"] == "hours" and "hours per SEK million" in data["unit"]
    e = open_source(str(scb_file), year=2012)
    assert e.year == 2012 and e.n == 59


# ---------------------------------------------------------------------------- the mock
def test_mock_by_hand() -> None:
    e = read_scb(MOCK)  # latest sheet: 2016
    assert e.year == 2016 and list(e.products) == ["A01", "C10T12", "G45-47"]
    # A01's industry makes 100 of A01 and 5 of C10T12 (output 105): its inputs and
    # hours go 100/105 to product A01 and 5/105 to C10T12
    A = e.A.toarray()
    np.testing.assert_allclose(A[:, 0], np.array([10.0, 5.0, 3.0]) / 105, rtol=1e-12)
    np.testing.assert_allclose(
        A[:, 1],
        (np.array([10.0, 5.0, 3.0]) * 5 / 105 + np.array([40.0, 30.0, 6.0])) / 205,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        e.labour, [1e5 / 105, (1e5 * 5 / 105 + 3e5) / 205, 2e5 / 150], rtol=1e-12
    )
    assert e.total_labour == pytest.approx(60 * 10_000)
    assert e.purposes["exports"] == "exports" and e.purposes["business GFCF"] == "investment"


def _edit(tmp_path: Path, edit: Callable[[openpyxl.worksheet.worksheet.Worksheet], None]) -> Path:
    out = tmp_path / "scb-edit-sut.xlsx"
    wb = openpyxl.load_workbook(MOCK)
    edit(wb["2016"])
    wb.save(out)
    return out


def _find(ws: openpyxl.worksheet.worksheet.Worksheet, label: str) -> int:
    for row in ws.iter_rows(min_col=2, max_col=2):
        if row[0].value == label:
            return int(row[0].row)
    raise AssertionError(label)


def test_truncated_workbook(tmp_path: Path) -> None:
    data = MOCK.read_bytes()
    bad = tmp_path / "scb-trunc-sut.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match=r"scb-trunc-sut\.xlsx.*truncated or corrupt"):
        read_scb(bad, year=2016)


def test_nan_cell(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws["D5"] = "..."  # domestic use of product C10T12 by industry C10T12

    path = _edit(tmp_path, edit)
    with pytest.raises(
        ReaderError,
        match=r"sheet '2016', row 5 \('C10T12'\), column D "
        r"\('C10T12'\).*found the text '\.\.\.'",
    ):
        read_scb(path, year=2016)


def test_negative_coefficient(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws["C6"] = -3.0  # use of G45-47 by A01

    with pytest.raises(
        ReaderError,
        match=r"`use` of make_symmetric is negative \(-3\) for "
        r"product 'G45-47', industry 'A01'",
    ):
        read_scb(_edit(tmp_path, edit), year=2016)


def test_missing_hours_row(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.cell(_find(ws, "Arbetade timmar (10K)"), 2).value = "Timmar"

    with pytest.raises(
        ReaderError,
        match=r"sheet '2016'.*no row 'Arbetade timmar \(10K\)' "
        r"\(hours worked",
    ):
        read_scb(_edit(tmp_path, edit), year=2016)


def test_gross_output_in_the_hours_row(tmp_path: Path) -> None:
    # the pitfall of the real file: gross output a few rows above the hours
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        out, hours = _find(ws, "Produktionsvärde"), _find(ws, "Arbetade timmar (10K)")
        for c in range(3, 7):
            ws.cell(hours, c).value = ws.cell(out, c).value

    with pytest.raises(
        ReaderError,
        match=r"row 'Arbetade timmar \(10K\)' gives .* hours a "
        r"year per person employed \(expected 500–3 000\)",
    ):
        read_scb(_edit(tmp_path, edit), year=2016)


def test_unknown_year_and_wrong_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"no sheet for 1999; the workbook has \[2015, 2016\]"):
        read_scb(MOCK, year=1999)
    other = tmp_path / "scb-empty-sut.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "2016"
    wb.save(other)
    with pytest.raises(ReaderError, match="no block titled 'Insatsmatris - inhemsk'"):
        read_scb(other)
    shutil.copy(MOCK, tmp_path / "copy.xlsx")
    assert read_scb(tmp_path / "copy.xlsx", year=2015).year == 2015
