"""The documented generic layout (docs/readers.md), on the shipped toy table and variants."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from gosplan import labour_values
from gosplan.errors import NotProductive, ReaderError, ValidationError
from gosplan.readers.generic import read_generic

TOY = Path(__file__).resolve().parents[1] / "data" / "generic" / "toy.csv"


def _toy_rows() -> list[list[str]]:
    with TOY.open(newline="") as f:
        return list(csv.reader(f))


def _write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def _write_xlsx(path: Path, rows: list[list[str]], sheet: str = "table") -> Path:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "readme"
    first.append(["this sheet is not the table"])
    ws = wb.create_sheet(sheet)
    for r in rows:
        ws.append([_num(c) for c in r])
    wb.save(path)
    return path


def _num(c: str) -> object:
    try:
        return float(c)
    except ValueError:
        return c


def test_toy_table() -> None:
    e = read_generic(TOY)
    assert e.name == "Toyland" and e.year == 2024
    assert list(e.products) == ["grain", "tools", "bread"]
    assert e.labour_unit == "hours" and e.money_unit == "EUR" and e.kind == "product"
    np.testing.assert_allclose(e.A.toarray(), [[0.1, 0, 0.5], [0.05, 0.1, 0.05], [0, 0, 0.025]])
    np.testing.assert_allclose(e.labour, [0.3, 0.6, 0.5])
    np.testing.assert_allclose(e.output, [100, 20, 80])
    np.testing.assert_allclose(e.imports_per_unit, [0.03, 0.05, 0.025])
    np.testing.assert_allclose(e.compensation, [40, 10, 20])
    np.testing.assert_allclose(e.surplus, [42, 7, 12])
    assert list(e.final_demand.columns) == ["personal", "schools", "investment", "exports"]
    assert e.purposes == {
        "personal": "personal",
        "schools": "social",
        "investment": "investment",
        "exports": "exports",
    }
    res = labour_values(e)
    # by hand: v_tools = 0.6/0.9; v_grain = (0.3 + 0.05 v_tools)/0.9;
    # v_bread = (0.5 v_grain + 0.05 v_tools + 0.5)/0.975
    v_tools = 0.6 / 0.9
    v_grain = (0.3 + 0.05 * v_tools) / 0.9
    v_bread = (0.5 * v_grain + 0.05 * v_tools + 0.5) / 0.975
    np.testing.assert_allclose(res.values.to_numpy(), [v_grain, v_tools, v_bread], rtol=1e-12)
    assert res.residual < 1e-10 and res.unit == "hours per EUR"


def test_output_row_is_optional(tmp_path: Path) -> None:
    rows = [r for r in _toy_rows() if r[0] != "output"]
    e = read_generic(_write_csv(tmp_path / "t.csv", rows))
    np.testing.assert_allclose(e.output, [100, 20, 80])  # row sums + final demand
    assert any("intermediate sales + final demand" in h for h in e.meta.history)


def test_semicolons_and_defaults(tmp_path: Path) -> None:
    rows = [r for r in _toy_rows() if not r[0].startswith("#")]
    e = read_generic(_write_csv(tmp_path / "plain.csv", rows, delimiter=";"))
    assert e.name == "plain" and e.year is None and e.labour_unit == "hours"
    np.testing.assert_allclose(e.output, [100, 20, 80])


def test_excel_sheet(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "toy.xlsx", _toy_rows())
    e = read_generic(path, sheet="table")
    np.testing.assert_allclose(e.A.toarray()[0], [0.1, 0, 0.5])
    assert e.year == 2024
    assert read_generic(path, sheet=1).n == 3
    with pytest.raises(
        ReaderError,
        match=r"no sheet named 'tabel'; the sheets are "
        r"\['readme', 'table'\]",
    ):
        read_generic(path, sheet="tabel")
    with pytest.raises(
        ReaderError,
        match=r"sheet 'readme', row 1: the heading row names no "
        r"products",
    ):
        read_generic(path)  # the first sheet is not a table


def test_truncated_workbook(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "toy.xlsx", _toy_rows())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(
        ReaderError,
        match=r"toy.xlsx.*cannot be opened as an .xlsx workbook "
        r"\(truncated or corrupt",
    ):
        read_generic(path)


def test_truncated_csv(tmp_path: Path) -> None:
    rows = _toy_rows()[:8]  # heading, one product row only
    with pytest.raises(
        ReaderError,
        match=r"the heading names 3 products but only 1 row\(s\) "
        r"follow \(truncated\?\)",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_nan_cell(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[8][3] = "nan"  # tools -> bread
    with pytest.raises(
        ReaderError,
        match=r"row 9, column D \('bread'\): expected a flow from "
        r"'tools' to 'bread'.*found nan",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_empty_flow_cell(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[9][1] = ""
    with pytest.raises(
        ReaderError,
        match=r"row 10, column B \('grain'\): expected a flow from "
        r"'bread' to 'grain' \(write 0 for none\), found an "
        r"empty cell",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_negative_coefficient(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[7][2] = "-1"
    with pytest.raises(
        ReaderError,
        match=r"row 8, column C \('tools'\): negative flow -1 from "
        r"'grain' to 'tools'",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_non_productive_matrix(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[7][1] = "120"  # grain uses more grain than it makes
    with pytest.raises(NotProductive, match=r"not productive.*spectral radius of A is 1\.2"):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_missing_labour_row(tmp_path: Path) -> None:
    rows = [r for r in _toy_rows() if r[0] != "labour"]
    with pytest.raises(ReaderError, match=r"no 'labour' row below the products"):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_unknown_row_and_setting(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[11][0] = "value added"
    with pytest.raises(ReaderError, match=r"row 12, column A: unknown row 'value added'"):
        read_generic(_write_csv(tmp_path / "t.csv", rows))
    rows = _toy_rows()
    rows[3][0] = "# labor_unit: hours"
    with pytest.raises(ReaderError, match=r"row 4, column A: unknown setting 'labor_unit'"):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_products_out_of_order(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[8], rows[9] = rows[9], rows[8]
    with pytest.raises(
        ReaderError,
        match=r"row 9, column A: row 2 of the flow block should be "
        r"product 'tools'.*found 'bread'",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_bad_final_demand_heading(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[6][5] = "fd:charity"
    with pytest.raises(
        ReaderError,
        match=r"row 7, column F \('fd:charity'\): final-demand "
        r"heading 'fd:charity' must be",
    ):
        read_generic(_write_csv(tmp_path / "t.csv", rows))


def test_zero_output(tmp_path: Path) -> None:
    rows = _toy_rows()
    rows[6].insert(4, "idle")
    for r in rows[7:10]:
        r.insert(4, "0")
    rows.insert(10, ["idle", "0", "0", "0", "0"])
    for r in rows[11:]:
        r.insert(4, "0")
    path = _write_csv(tmp_path / "t.csv", rows)
    with pytest.raises(ValidationError, match=r"t.csv: .*zero gross output.*'idle'"):
        read_generic(path)
    e = read_generic(path, zero_output="drop")
    assert list(e.products) == ["grain", "tools", "bread"]
