"""ONS UK input–output analytical tables 2015: the real workbook, the researcher's CSVs, bad input.

Publisher's figures were read off ``ons-detailed-ioats-2015-bb18.xls`` with a
spreadsheet (sheet ``IOT``: row 8 = product 01, column C = product 01, row 141
``Compensation of employees``, row 143 ``Total Output``; sheet ``Imports PxP``
row 8) and off ``capitalstockmatrix2015.csv`` / ``deprates.csv``.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from gosplan import Economy, labour_values
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers.ons import read_ons
from gosplan.readers.registry import open_source, source_kind


@pytest.fixture(scope="session")
def uk_dir(data_dir: Path) -> Path:
    return data_dir / "uk-2015"


@pytest.fixture(scope="session")
def ons(uk_dir: Path) -> Economy:
    return read_ons(uk_dir / "ons-detailed-ioats-2015-bb18.xls")


@pytest.fixture(scope="session")
def ons_capital(uk_dir: Path) -> Economy:
    return read_ons(
        uk_dir / "ons-detailed-ioats-2015-bb18.xls",
        capital=uk_dir / "capitalstockmatrix2015.csv",
        depreciation=uk_dir / "deprates.csv",
    )


def test_shape_labels_units(ons: Economy, uk_dir: Path) -> None:
    assert (ons.name, ons.year, ons.kind) == ("United Kingdom", 2015, "product")
    # 105 products plus the government ('g') and NPISH ('n') variants ONS lists apart
    assert ons.n == 129
    assert ons.products[0] == "01 Products of agriculture, hunting and related services"
    assert ons.products[-1].startswith("94n Services furnished by membership organisations")
    assert ons.labour_kind == "wages"
    assert ons.labour_unit == "GBP million of compensation of employees"
    assert source_kind(str(uk_dir / "ons-detailed-ioats-2015-bb18.xls")) == "ons"


def test_publisher_figures(ons: Economy) -> None:
    assert ons.output is not None
    assert ons.output[0] == pytest.approx(23_521)  # IOT row 143, column C
    # row 8 column C: 2,203.201328525897 of product 01 into product 01
    assert ons.A[0, 0] * 23_521 == pytest.approx(2_203.201328525897, rel=1e-12)
    # row 141 column C: compensation of employees of product 01
    assert ons.labour[0] * 23_521 == pytest.approx(4_200.142396044087, rel=1e-12)
    assert ons.total_labour == pytest.approx(928_459, abs=1e-6)  # row 141 summed
    assert ons.output.sum() == pytest.approx(3_238_681)  # row 143 summed
    # product 26 (computers, electronic): IOT row 46, output 19,092 (row 143)
    i26 = [p.split()[0] for p in ons.products].index("26")
    assert ons.output[i26] == pytest.approx(19_092)
    # Imports PxP row 8 column C: 740.3759778259457 of imported 01 into 01;
    # IOT row 138 column C: 2,899.388585435557 imported into 01 in all (the Imports
    # PxP rows add up to 2,899.388598404616: the reader allows such rounding)
    assert ons.imports is not None
    assert ons.imports[0, 0] * 23_521 == pytest.approx(740.3759778259457, rel=1e-12)
    assert ons.imports_per_unit[0] * 23_521 == pytest.approx(2_899.388585435557, rel=1e-8)
    fd = ons.final_demand
    assert fd is not None
    assert fd.loc[ons.products[0], "Households"] == 7_114  # IOT row 8, column EC
    assert fd.loc[ons.products[0], "Exports of Goods - EU"] == 1_529
    assert ons.purposes["Central Government"] == "social"
    assert ons.purposes["Exports of Services - Non EU"] == "exports"


def test_labour_values(ons: Economy) -> None:
    res = labour_values(ons, tol=1e-10)
    v = res.values.to_numpy()
    assert np.isfinite(v).all() and (v > 0).all()
    r = v - ons.A.T @ v - ons.labour
    assert np.linalg.norm(r) / np.linalg.norm(ons.labour) < 1e-10
    # wages per £ of output can never exceed 1 in a table whose columns add up
    assert v.max() < 1.0
    assert 0.4 < ons.spectral_radius() < 0.5


def test_agrees_with_the_researchers_extract(ons: Economy, uk_dir: Path) -> None:
    """``domesticiot.csv`` holds the same table rounded to £ million: rows 'labour', 'Output'."""
    with open(uk_dir / "domesticiot.csv", encoding="utf-8-sig", newline="") as f:
        rows = {r[0].strip(): r[1:] for r in csv.reader(f)}
    n = ons.n
    labour = np.array(rows["labour"][:n], dtype=float)
    output = np.array(rows["Output"][:n], dtype=float)
    assert ons.output is not None
    np.testing.assert_allclose(ons.labour * ons.output, labour, atol=0.5 + 1e-9)
    np.testing.assert_allclose(ons.output, output, atol=0.5 + 1e-9)
    first = np.array(
        rows["Crop And Animal Production, Hunting And Related Service Activities"][:n], dtype=float
    )
    flows = ons.A.toarray()[0] * ons.output
    np.testing.assert_allclose(flows, first, atol=0.5 + 1e-9)


def test_capital_and_depreciation(ons: Economy, ons_capital: Economy) -> None:
    e = ons_capital
    assert e.capital is not None and e.depreciation is not None and e.output is not None
    # all of the file's stock is placed: 'Total assets', column 'TOTAL: Total Industry'
    stock = (e.capital.toarray() * e.output[None, :]).sum()
    assert stock == pytest.approx(4_337_207, abs=5)
    # dwellings and other buildings are made by construction (the industries' columns
    # add up to the 'TOTAL' column within a few £ million of rounding)
    i_con = [p.split()[0] for p in e.products].index("41-43")
    assert (e.capital.toarray()[i_con] * e.output).sum() == pytest.approx(
        1_719_594 + 1_671_463, abs=5
    )
    codes = [p.split()[0] for p in e.products]
    assert e.depreciation[codes.index("26")] == 0.13  # deprates.csv line 40
    assert e.depreciation[codes.index("03")] == 0.5  # written '0,5' in the file
    assert e.depreciation[codes.index("68.2IMP")] == 0.0  # no line in the file
    assert any("no line for" in h and "68.2IMP" in h for h in e.meta.history)
    plain = labour_values(ons)
    full = labour_values(e, depreciation=True)
    assert full.residual < 1e-10
    assert (full.values >= plain.values - 1e-15).all()
    assert (full.values > plain.values * 1.01).sum() > 50


def test_open_source_passes_options(uk_dir: Path) -> None:
    e = open_source(
        str(uk_dir / "ons-detailed-ioats-2015-bb18.xls"),
        capital=str(uk_dir / "capitalstockmatrix2015.csv"),
        depreciation=str(uk_dir / "deprates.csv"),
    )
    assert e.capital is not None


def test_truncated_workbook(uk_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ons-ioats-trunc.xls"
    shutil.copy(uk_dir / "ons-detailed-ioats-2015-bb18.xls", bad)
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError, match=r"ons-ioats-trunc\.xls.*truncated or corrupt"):
        read_ons(bad)


# ---------------------------------------------------------------------------- a tiny table
CODES = ["01", "02", "03"]
NAMES = ["Farm products", "Steel", "Cloth"]
FD_HEADS = [
    "Households",
    "Non-Profit Institutions Serving Households",
    "Central Government",
    "Local Authorities",
    "Gross Fixed Capital Formation",
    "Valuables",
    "Changes in Inventories",
    "Exports of Goods - EU",
]


def _mock(
    path: Path, *, flows: Sequence[Sequence[object]] | None = None, drop: str | None = None
) -> Path:
    Z = flows or [[10.0, 5.0, 20.0], [4.0, 30.0, 6.0], [0.0, 2.0, 15.0]]
    fd = [
        [50.0, 0, 0, 0, 0, 0, 0, 15.0],
        [0, 0, 10.0, 0, 40.0, 0, 0, 10.0],
        [60.0, 5.0, 0, 0, 0, 0, 0, 18.0],
    ]
    x = [100.0, 100.0, 100.0]
    numeric = [[float(v) if isinstance(v, int | float) else 0.0 for v in r] for r in Z]
    inter = [sum(r[j] for r in numeric) for j in range(3)]
    imports = [5.0, 10.0, 3.0]
    comp = [40.0, 35.0, 42.0]
    surplus = [x[j] - inter[j] - imports[j] - comp[j] for j in range(3)]
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "IOT"
    ws.append(["2015 Input-Output Analytical Tables"])
    ws.append(["Input-Output table (domestic use, basic prices, product by product)"])
    ws.append(["£ million"])
    ws.append(["MENU"])
    ws.append([])
    ws.append([None, None, *CODES])
    ws.append(
        [
            None,
            "Product",
            *NAMES,
            "Total Intermediate Demand",
            *FD_HEADS,
            "Total Demand for Products at Basic Prices",
        ]
    )
    for i in range(3):
        total = sum(numeric[i]) + sum(fd[i])
        ws.append([CODES[i], NAMES[i], *Z[i], sum(numeric[i]), *fd[i], total])
    primary = [
        ("Total Consumption", inter),
        ("Imports of goods and services", imports),
        ("Taxes less subsidies on products", [0.0] * 3),
        ("Taxes less subsidies on production", [0.0] * 3),
        ("Compensation of employees", comp),
        ("Gross operating surplus and mixed income", surplus),
        ("Total Output", x),
    ]
    for label, vals in primary:
        if label != drop:
            ws.append([None, label, *vals])
    im = wb.create_sheet("Imports PxP")
    for row in (["2015"], ["Imports"], ["£ million"], ["MENU"], []):
        im.append(row)
    im.append([None, None, *CODES])
    im.append([None, "Product", *NAMES])
    im.append(["01", NAMES[0], 5.0, 0.0, 3.0])
    im.append(["02", NAMES[1], 0.0, 10.0, 0.0])
    im.append([None, "Total", 5.0, 10.0, 3.0])
    wb.save(path)
    return path


def test_mock(tmp_path: Path) -> None:
    e = read_ons(_mock(tmp_path / "mock-ioat.xlsx"))
    assert list(e.products) == ["01 Farm products", "02 Steel", "03 Cloth"]
    np.testing.assert_allclose(e.A.toarray()[:, 0], [0.10, 0.04, 0.0])
    np.testing.assert_allclose(e.labour, [0.40, 0.35, 0.42])
    assert e.imports is not None
    np.testing.assert_allclose(e.imports_per_unit, [0.05, 0.10, 0.03])


def test_nan_cell(tmp_path: Path) -> None:
    bad: list[list[object]] = [[10.0, 5.0, 20.0], [4.0, "x", 6.0], [0.0, 2.0, 15.0]]
    with pytest.raises(
        ReaderError,
        match=r"sheet 'IOT', row 9 \('Steel'\), column D "
        r"\('02'\).*found the text 'x'",
    ):
        read_ons(_mock(tmp_path / "nan-ioat.xlsx", flows=bad))


def test_negative_coefficient(tmp_path: Path) -> None:
    bad = [[10.0, 5.0, 20.0], [4.0, -30.0, 6.0], [0.0, 2.0, 15.0]]
    with pytest.raises(
        ValidationError,
        match=r"mock-neg-ioat\.xlsx.*negative value at row "
        r"'02 Steel'.*column '02 Steel'",
    ):
        read_ons(_mock(tmp_path / "mock-neg-ioat.xlsx", flows=bad))


def test_missing_labour_row(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"rows \['compensation of employees'\] not found"):
        read_ons(_mock(tmp_path / "nolab-ioat.xlsx", drop="Compensation of employees"))


def test_bad_depreciation_file(tmp_path: Path, uk_dir: Path) -> None:
    xls = uk_dir / "ons-detailed-ioats-2015-bb18.xls"
    lines = (uk_dir / "deprates.csv").read_text(encoding="utf-8-sig").splitlines()
    k = next(i for i, line in enumerate(lines) if "COMPUTER, ELECTRONIC" in line)
    lines[k] = lines[k].replace("0.13", "13")  # a percentage where a rate belongs
    bad = tmp_path / "deprates.csv"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(
        ReaderError,
        match=rf"deprates\.csv', row {k + 1} \('MANUFACTURE OF "
        r"COMPUTER.*rate 13 is outside \[0, 1\]",
    ):
        read_ons(xls, depreciation=bad)
    lines = (uk_dir / "deprates.csv").read_text(encoding="utf-8-sig").splitlines()
    lines.insert(5, '"MANUFACTURE OF SPACESHIPS AND TIME MACHINES",0.07')
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ReaderError, match=r"1 line\(s\) match no product.*SPACESHIPS"):
        read_ons(xls, depreciation=bad)
