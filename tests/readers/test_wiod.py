"""WIOD 2016 national tables + Socio-Economic Accounts: real files, a tiny mock, bad input.

The figures asserted below were read off the publisher's files with a
spreadsheet: ``GBR_NIOT_nov16.xlsx`` sheet ``National IO-tables`` rows
1203–1322 (year 2010) and ``sea.csv`` lines for GBR/USA 2010.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from gosplan import labour_values
from gosplan.core.economy import Economy
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers.wiod import FINAL_DEMAND, read_wiod, wiod_code

MOCK_DIR = Path(__file__).resolve().parents[1] / "data" / "wiod"
MOCK = MOCK_DIR / "MCK_NIOT_nov16.xlsx"
COUNTRIES = ["AUS", "CAN", "DEU", "FRA", "GBR", "USA"]
# industries with output in 2010 (WIOD leaves some empty: U everywhere, more in AUS, CAN)
KEPT_2010 = {"AUS": 50, "CAN": 51, "DEU": 55, "FRA": 55, "GBR": 55, "USA": 55}


@pytest.fixture(scope="session")
def wiod_dir(data_dir: Path) -> Path:
    return data_dir / "wiod-2016"


@pytest.fixture(scope="session")
def wiod(wiod_dir: Path) -> Callable[..., Economy]:
    """Read a country-year once per session."""
    cache: dict[tuple[str, int, str], Economy] = {}

    def get(country: str, year: int, hours: str = "persons") -> Economy:
        key = (country, year, hours)
        if key not in cache:
            cache[key] = read_wiod(wiod_dir / f"{country}_NIOT_nov16.xlsx", year=year, hours=hours)  # type: ignore[arg-type]
        return cache[key]

    return get


def _idx(e: Economy, code: str) -> int:
    codes = [wiod_code(p) for p in e.products]
    return codes.index(code)


def _check_values(e: Economy) -> None:
    res = labour_values(e, tol=1e-10)
    v = res.values.to_numpy()
    assert np.all(np.isfinite(v)) and np.all(v > 0), res.values[~(v > 0)]
    # residual recomputed here, not trusted from the solver
    r = v - v @ e.A.toarray() - e.labour
    assert np.linalg.norm(r) / np.linalg.norm(e.labour) < 1e-10
    assert res.residual < 1e-10
    assert res.unit == "million hours per USD million"


# ------------------------------------------------------------------ real files
@pytest.mark.parametrize("country", COUNTRIES)
def test_every_country_2010(wiod: Callable[..., Economy], country: str) -> None:
    e = wiod(country, 2010)
    assert e.name == country and e.year == 2010 and e.kind == "industry"
    assert e.n == KEPT_2010[country]
    assert e.A.shape == (e.n, e.n) and e.imports is not None and e.imports.shape == e.A.shape
    assert list(e.final_demand.columns) == list(FINAL_DEMAND)
    assert e.purposes["CONS_h"] == "personal" and e.purposes["EXP"] == "exports"
    assert e.labour_unit == "million hours" and e.money_unit == "USD million"
    assert not any(wiod_code(p) == "U" for p in e.products)
    assert any("dropped" in h and "U Activities" in h for h in e.meta.history)
    assert e.spectral_radius() < 0.6
    _check_values(e)


@pytest.mark.parametrize("year", [2000, 2005, 2009, 2014])
def test_spread_of_years_gbr(wiod: Callable[..., Economy], year: int) -> None:
    e = wiod("GBR", year)
    assert e.year == year and e.n == 55
    _check_values(e)


def test_gbr_2010_cells_match_the_publisher(wiod: Callable[..., Economy]) -> None:
    e = wiod("GBR", 2010)
    a01, food = _idx(e, "A01"), _idx(e, "C10-C12")
    assert e.products[food] == (
        "C10-C12 Manufacture of food products, beverages and tobacco products"
    )
    x_food = 116312.30919  # GO of C10-C12, row 1207 column GO and row 1322 column I
    assert e.output[food] == pytest.approx(x_food, rel=1e-12)
    assert e.output[a01] == pytest.approx(35392.00401, rel=1e-12)
    # domestic flow A01 -> C10-C12 (row 1203, column I), imported flow (row 1259, column I)
    assert e.A[a01, food] == pytest.approx(13123.214272290998 / x_food, rel=1e-12)
    assert e.imports[a01, food] == pytest.approx(2696.305219868575 / x_food, rel=1e-12)
    assert e.final_demand["CONS_h"].iloc[a01] == pytest.approx(10875.90480454993, rel=1e-12)
    assert e.final_demand["EXP"].iloc[food] == pytest.approx(21073.764784152318, rel=1e-12)
    # sea.csv: GBR,C10-C12,2010: H_EMPE 745.784, EMP 408, EMPE 398, LAB 17186, CAP 5486,
    # K 38088, NOMEXCH 0.647179 (GBP per USD)
    assert e.labour[food] == pytest.approx(745.784 * 408 / 398 / x_food, rel=1e-12)
    assert e.persons[food] == 408
    assert e.compensation[food] == pytest.approx(17186 / 0.647179, rel=1e-9)
    assert e.surplus[food] == pytest.approx(5486 / 0.647179, rel=1e-9)
    assert e.capital_stock[food] == pytest.approx(38088 / 0.647179, rel=1e-9)


def test_employees_hours_only(wiod: Callable[..., Economy]) -> None:
    e = wiod("GBR", 2010, "employees")
    food, a01 = _idx(e, "C10-C12"), _idx(e, "A01")
    assert e.labour[food] == pytest.approx(745.784 / 116312.30919, rel=1e-12)
    # sea.csv GBR,A01,2010: H_EMPE 372.33; half of agriculture's workers are self-employed
    assert e.labour[a01] == pytest.approx(372.33 / 35392.00401, rel=1e-12)
    assert wiod("GBR", 2010).labour[a01] == pytest.approx(372.33 * 365 / 182 / 35392.00401)
    assert e.compensation[food] == pytest.approx(16765 / 0.647179, rel=1e-9)  # COMP
    assert e.surplus[food] == pytest.approx((22672 - 16765) / 0.647179, rel=1e-9)  # VA - COMP
    assert any("employees only" in h for h in e.meta.history)
    _check_values(e)


def test_usa_2010_cells(wiod: Callable[..., Economy]) -> None:
    e = wiod("USA", 2010)
    c26 = _idx(e, "C26")
    assert e.output[c26] == pytest.approx(368699, rel=1e-12)
    assert e.A[c26, c26] == pytest.approx(28182.02461218901 / 368699, rel=1e-12)
    # sea.csv USA,C26,2010: H_EMPE 2167.936, EMP 1109.996, EMPE 1099.996; USD already
    assert e.labour[c26] == pytest.approx(2167.936 * 1109.996 / 1099.996 / 368699, rel=1e-12)
    assert e.compensation[c26] == pytest.approx(124575.3, rel=1e-12)


def test_no_year_takes_the_latest(wiod_dir: Path) -> None:
    e = read_wiod(wiod_dir / "DEU_NIOT_nov16.xlsx", year=None)
    assert e.year == 2014
    assert any("latest" in h for h in e.meta.history)


@pytest.mark.parametrize("year", [1999, 2015])
def test_year_outside_the_release(wiod_dir: Path, year: int) -> None:
    with pytest.raises(ReaderError, match=f"year {year} is outside the WIOD 2016 release"):
        read_wiod(wiod_dir / "GBR_NIOT_nov16.xlsx", year=year)


def test_country_must_match_the_file_name(wiod_dir: Path) -> None:
    with pytest.raises(ReaderError, match="file name says country GBR"):
        read_wiod(wiod_dir / "GBR_NIOT_nov16.xlsx", year=2010, country="USA")
    e = read_wiod(wiod_dir / "GBR_NIOT_nov16.xlsx", year=2010, country="gbr")
    assert e.name == "GBR"


def test_truncated_workbook(wiod_dir: Path, tmp_path: Path) -> None:
    raw = (wiod_dir / "GBR_NIOT_nov16.xlsx").read_bytes()
    bad = tmp_path / "GBR_NIOT_nov16.xlsx"
    bad.write_bytes(raw[: len(raw) // 2])
    shutil.copy(wiod_dir / "sea.csv", tmp_path / "sea.csv")
    with pytest.raises(
        ReaderError,
        match=r"GBR_NIOT_nov16.xlsx.*cannot be opened as an "
        r"\.xlsx workbook \(truncated or corrupt",
    ):
        read_wiod(bad, year=2010)


# ------------------------------------------------------------------ the mock
def test_mock_is_read_exactly() -> None:
    e = read_wiod(MOCK, year=2010)
    assert e.n == 2 and [wiod_code(p) for p in e.products] == ["A01", "C10-C12"]
    np.testing.assert_allclose(e.A.toarray(), [[10 / 100, 40 / 100], [5 / 100, 20 / 100]])
    np.testing.assert_allclose(e.imports.toarray(), [[2 / 100, 3 / 100], [1 / 100, 7 / 100]])
    np.testing.assert_allclose(e.output, [110, 110])
    # hours 5 and 8, scaled by EMP/EMPE = 4/2 and 5/4
    np.testing.assert_allclose(e.labour, [5 * 2 / 110, 8 * 1.25 / 110])
    # SEA money in national currency at 2 per dollar
    np.testing.assert_allclose(e.compensation, [50, 17.5])
    np.testing.assert_allclose(e.capital_stock, [250, 150])
    np.testing.assert_allclose(e.final_demand["INVEN"], [1.1, -1.1])


def _mock_copy(
    tmp_path: Path,
    edit: Callable[[openpyxl.worksheet.worksheet.Worksheet], None] | None = None,
    sea_lines: Callable[[list[str]], list[str]] | None = None,
) -> Path:
    dst = tmp_path / MOCK.name
    if edit is None:
        shutil.copy(MOCK, dst)
    else:
        wb = openpyxl.load_workbook(MOCK)
        edit(wb["National IO-tables"])
        wb.save(dst)
    lines = (MOCK_DIR / "sea.csv").read_text().splitlines()
    if sea_lines is not None:
        lines = sea_lines(lines)
    (tmp_path / "sea.csv").write_text("\n".join(lines) + "\n")
    return dst


def _row_of(ws: openpyxl.worksheet.worksheet.Worksheet, year: int, code: str, origin: str) -> int:
    for row in ws.iter_rows(min_row=3):
        if row[0].value == year and row[1].value == code and row[3].value == origin:
            return int(row[0].row)
    raise AssertionError(f"no row {year} {code} {origin} in the mock")


def test_nan_cell_is_named(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.cell(_row_of(ws, 2010, "A01", "Domestic"), 6).value = "NaN"  # column F: C10-C12

    path = _mock_copy(tmp_path, edit)
    with pytest.raises(
        ReaderError,
        match=r"sheet 'National IO-tables', row 17, column F "
        r"\('C10-C12'\): expected a number.*'A01'.*nan",
    ):
        read_wiod(path, year=2010)


def test_empty_cell_is_named(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.cell(_row_of(ws, 2010, "C10-C12", "Imports"), 5).value = None

    with pytest.raises(
        ReaderError,
        match=r"row 21, column E \('A01'\): expected a number "
        r"\(imported use flow of 'C10-C12'\), found an "
        r"empty cell",
    ):
        read_wiod(_mock_copy(tmp_path, edit), year=2010)


def test_negative_coefficient_is_named(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.cell(_row_of(ws, 2010, "C10-C12", "Domestic"), 5).value = -3.0

    with pytest.raises(
        ReaderError,
        match=r"row 18, column E \('A01'\): negative domestic use "
        r"flow -3 of 'C10-C12'",
    ):
        read_wiod(_mock_copy(tmp_path, edit), year=2010)


def test_truncated_rows(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        ws.delete_rows(_row_of(ws, 2010, "C10-C12", "Imports"), 20)

    with pytest.raises(
        ReaderError,
        match=r"year 2010: no Imports row \(the imported use "
        r"block\) for industries \['C10-C12', 'U'\]",
    ):
        read_wiod(_mock_copy(tmp_path, edit), year=2010)
    # the other year is whole and still reads
    assert read_wiod(tmp_path / MOCK.name, year=2009).n == 2


def test_columns_that_do_not_add_up(tmp_path: Path) -> None:
    def edit(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        r = _row_of(ws, 2010, "A01", "Domestic")
        ws.cell(r, 5).value = ws.cell(r, 5).value + 30  # and the row no longer balances

    with pytest.raises(ReaderError, match=r"domestic use of 'A01' .* does not add up"):
        read_wiod(_mock_copy(tmp_path, edit), year=2010)


def test_missing_year_in_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"no rows for year 2005; it has years \[2009, 2010\]"):
        read_wiod(_mock_copy(tmp_path), year=2005)


def test_missing_industry_in_sea(tmp_path: Path) -> None:
    path = _mock_copy(
        tmp_path, sea_lines=lambda ls: [x for x in ls if not x.startswith("MCK,C10-C12,2010")]
    )
    with pytest.raises(
        ReaderError,
        match=r"sea.csv.*no hours for industry \['C10-C12'\] of "
        r"MCK in 2010",
    ):
        read_wiod(path, year=2010)


def test_missing_hours_column_in_sea(tmp_path: Path) -> None:
    def drop_hours(lines: list[str]) -> list[str]:
        return [",".join(c for k, c in enumerate(x.split(",")) if k != 8) for x in lines]

    with pytest.raises(ReaderError, match=r"lack the column\(s\) \['H_EMPE'\]"):
        read_wiod(_mock_copy(tmp_path, sea_lines=drop_hours), year=2010)


def test_zero_hours_for_an_active_industry(tmp_path: Path) -> None:
    def zero(lines: list[str]) -> list[str]:
        out = []
        for x in lines:
            if x.startswith("MCK,A01,2010"):
                cells = x.split(",")
                cells[8] = "0"
                x = ",".join(cells)
            out.append(x)
        return out

    with pytest.raises(
        ReaderError,
        match=r"row 5, column H_EMPE: industry 'A01' of MCK 2010 "
        r"has gross output 110 .* H_EMPE .* is 0",
    ):
        read_wiod(_mock_copy(tmp_path, sea_lines=zero), year=2010)


def test_sea_of_another_economy(tmp_path: Path) -> None:
    def triple_go(lines: list[str]) -> list[str]:
        out = [lines[0]]
        for x in lines[1:]:
            cells = x.split(",")
            cells[7] = str(float(cells[7]) * 3)
            out.append(",".join(cells))
        return out

    with pytest.raises(ReaderError, match="do not describe the same economy"):
        read_wiod(_mock_copy(tmp_path, sea_lines=triple_go), year=2010)


def test_no_sea_file(tmp_path: Path) -> None:
    dst = tmp_path / MOCK.name
    shutil.copy(MOCK, dst)
    with pytest.raises(
        ReaderError,
        match=r"Socio-Economic Accounts .* does not exist; pass "
        r"sea=",
    ):
        read_wiod(dst, year=2010)


def test_zero_output_error_is_a_choice() -> None:
    with pytest.raises(ValidationError, match=r"zero gross output.*U Activities"):
        read_wiod(MOCK, year=2010, zero_output="error")
    with pytest.raises(ValidationError, match="'hours' parameter of read_wiod"):
        read_wiod(MOCK, year=2010, hours="everyone")  # type: ignore[arg-type]
