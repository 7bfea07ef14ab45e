"""The researcher's CSV extracts of the ONS 2015 tables, and the files that only accompany a table.

Figures were read off the files with a text editor: ``domesticiot.csv`` line 2
(product 1, 'Crop And Animal Production, …'), line 135 ``labour``, line 137
``Output``; ``Amatrix2015.csv`` line 2 and line 135 ``Compensation of
employees``; ``importuse.csv`` line 3 (code ``01``) and its ``Total`` line.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gosplan.read
from gosplan import Economy, labour_values
from gosplan.cli import main
from gosplan.errors import ReaderError
from gosplan.readers.ons import read_ons
from gosplan.readers.ons_csv import read_import_use, read_ons_csv
from gosplan.readers.registry import open_source, source_kind


@pytest.fixture(scope="session")
def uk_dir(data_dir: Path) -> Path:
    return data_dir / "uk-2015"


@pytest.fixture(scope="session")
def flows(uk_dir: Path) -> Economy:
    return read_ons_csv(uk_dir / "domesticiot.csv")


@pytest.fixture(scope="session")
def coefs(uk_dir: Path) -> Economy:
    return read_ons_csv(uk_dir / "Amatrix2015.csv")


@pytest.fixture(scope="session")
def workbook(uk_dir: Path) -> Economy:
    return read_ons(uk_dir / "ons-detailed-ioats-2015-bb18.xls")


def _lines(path: Path) -> list[list[str]]:
    with open(path, encoding="latin-1", newline="") as f:
        return list(csv.reader(f))


# ---------------------------------------------------------------------------- the flows
def test_flows_shape_labels_units(flows: Economy, uk_dir: Path) -> None:
    e = flows
    assert (e.name, e.year, e.kind, e.n) == ("United Kingdom", 2015, "product", 129)
    assert e.products[0] == "Crop And Animal Production, Hunting And Related Service Activities"
    assert e.products[4] == ("Extraction Of Crude Petroleum And Natural Gas & Mining Of Metal Ores")
    assert e.products[-1] == "Activities Of Membership Organisations NPISH"
    assert e.labour_kind == "wages"
    assert e.labour_unit == "GBP million of compensation of employees"
    assert source_kind(str(uk_dir / "domesticiot.csv")) == "ons_csv"
    assert any("compensation of employees" in h and "not hours" in h for h in e.meta.history)


def test_flows_cells(flows: Economy, uk_dir: Path) -> None:
    e = flows
    assert e.output is not None and e.compensation is not None and e.surplus is not None
    assert e.output[0] == 23_521  # line 137 'Output', column B
    assert e.labour[0] * 23_521 == pytest.approx(4_200)  # line 135 'labour', column B
    assert e.compensation[0] == 4_200
    assert e.surplus[0] == 6_910  # line 136 'Gross operating surplus'
    assert e.surplus[3] == -27  # coal and lignite: a loss
    rows = _lines(uk_dir / "domesticiot.csv")
    assert e.A[0, 0] * 23_521 == pytest.approx(float(rows[1][1]))
    assert e.total_labour == pytest.approx(sum(float(v) for v in rows[134][1:130]))
    fd = e.final_demand
    assert fd is not None
    assert list(fd.columns)[:2] == ["Households", "Non-Profit Institutions Serving Households"]
    assert "PublicSector" not in fd.columns and "Total Exports" not in fd.columns
    assert fd.iloc[0]["Households"] == 7_114 and fd.iloc[0]["Exports of Goods - EU"] == 1_529
    assert e.purposes["Local Authorities"] == "social"
    # the extract's slip for owner-occupiers' housing is noted, its components read
    i = list(e.products).index("Owner-Occupiers' Housing")
    assert fd.iloc[i]["Households"] == 193_954
    assert any("Total Exports" in h and "Owner-Occupiers" in h for h in e.meta.history)


def test_flows_imports(flows: Economy, uk_dir: Path) -> None:
    e = flows
    assert e.imports is not None and e.output is not None
    # importuse.csv line 3 ('01'), column C: 740 of imported 01 into 01
    assert e.imports[0, 0] * 23_521 == pytest.approx(740)
    # its 'Total' line, column C, '2,899' (thousands separator): all imports into 01
    assert e.imports_per_unit[0] * 23_521 == pytest.approx(2_899, abs=0.5 * 40)
    M, codes = read_import_use(uk_dir / "importuse.csv", n=129)
    assert codes[:3] == ["01", "02", "03"] and codes[-1] == "94n" and len(codes) == 129
    rows = _lines(uk_dir / "domesticiot.csv")
    imports_row = np.array([float(v) for v in rows[131][1:130]])
    # each column of importuse.csv adds up to domesticiot.csv's imports row within rounding
    assert np.abs(M.sum(axis=0) - imports_row).max() <= 0.5 * 129
    assert M.sum() == pytest.approx(imports_row.sum(), abs=0.5 * 129)  # 311,709 vs 311,755
    # without importuse.csv: the imports row (line 132, 2,899 into 01) on the diagonal
    none = read_ons_csv(uk_dir / "domesticiot.csv", imports=False)
    assert none.imports is not None and none.imports.nnz <= 129
    assert none.imports[0, 0] * 23_521 == pytest.approx(2_899)


def test_labour_values_and_residual(flows: Economy, coefs: Economy) -> None:
    for e in (flows, coefs):
        res = labour_values(e, tol=1e-12)
        v = res.values.to_numpy()
        assert np.isfinite(v).all() and (v > 0).all()
        r = v - e.A.T @ v - e.labour
        assert np.linalg.norm(r) / np.linalg.norm(e.labour) < 1e-10
        assert res.residual < 1e-10
        assert v.max() < 1.0  # wages per £ of output


# ---------------------------------------------------------------------------- coefficients
def test_coefficients_shape_labels_cells(coefs: Economy, uk_dir: Path) -> None:
    e = coefs
    assert e.n == 129 and e.labour_kind == "wages"
    assert e.products[0] == "Products of agriculture, hunting and related services"
    # line 1 holds "Natural Gas \ufffd& Mining" (a stray byte): normalised away
    assert e.products[4] == "Extraction Of Crude Petroleum And Natural Gas & Mining Of Metal Ores"
    assert all("\ufffd" not in p and "  " not in p and p == p.strip() for p in e.products)
    assert e.labour[0] == 0.179 and e.labour[3] == 0.241  # line 135
    rows = _lines(uk_dir / "Amatrix2015.csv")
    assert e.A[0, 0] == float(rows[1][1])
    assert source_kind(str(uk_dir / "Amatrix2015.csv")) == "ons_csv"
    # gross output and final demand come from domesticiot.csv beside it
    assert e.output is not None and e.output[0] == 23_521
    assert e.final_demand is not None and e.final_demand.iloc[0]["Households"] == 7_114
    assert any("domesticiot.csv" in h for h in e.meta.history)


def test_coefficients_alone(uk_dir: Path, tmp_path: Path) -> None:
    lone = tmp_path / "Amatrix2015.csv"
    lone.write_bytes((uk_dir / "Amatrix2015.csv").read_bytes())
    e = read_ons_csv(lone)
    assert e.output is None and e.final_demand is None
    assert e.imports is not None and e.imports.nnz <= 129
    assert e.imports[0, 0] == 0.123  # its own imports row (line 132), on the diagonal
    assert any("no gross output" in h for h in e.meta.history)
    with pytest.raises(
        ReaderError,
        match=r"Amatrix2015\.csv.*capital stock per unit needs "
        r"gross output",
    ):
        read_ons_csv(lone, capital=uk_dir / "capitalstockmatrix2015.csv")


# ---------------------------------------------------------------------------- cross-checks
def _bounds(
    flows: Economy, coefs: Economy, workbook: Economy
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    vd = labour_values(flows, tol=1e-12).values.to_numpy()
    va = labour_values(coefs, tol=1e-12).values.to_numpy()
    vo = labour_values(workbook, tol=1e-12).values.to_numpy()
    return (
        vd,
        va,
        vo,
        np.linalg.inv(np.eye(workbook.n) - workbook.A.toarray()),
        np.asarray(workbook.output),
    )


def test_labour_of_the_extract_is_compensation_of_employees(
    flows: Economy, workbook: Economy
) -> None:
    """The 'labour' row is the workbook's compensation of employees rounded to £ million."""
    assert flows.compensation is not None and workbook.compensation is not None
    np.testing.assert_allclose(flows.compensation, workbook.compensation, atol=0.5 + 1e-9)
    assert flows.total_labour == pytest.approx(workbook.total_labour, abs=0.5 * 129)
    assert flows.total_labour == 928_458 and round(workbook.total_labour) == 928_459


def test_cross_check_labour_values(flows: Economy, coefs: Economy, workbook: Economy) -> None:
    """Labour values from both extracts and from the workbook agree within their rounding.

    With ṽ the values of a rounded table and v the workbook's,
    (ṽ − v)(I − A) = δl + ṽ δA exactly, so |ṽ − v| ≤ (|δl| + ṽ|δA|)(I − A)⁻¹.
    domesticiot.csv rounds flows, wages and output to £ million (±0.5):
    |δA_ik| ≤ 0.5(1 + Ã_ik)/x_k and |δl_k| ≤ 0.5(1 + l̃_k)/x_k.  Amatrix2015.csv rounds
    every coefficient to 0.001: |δA_ik|, |δl_k| ≤ 0.0005.  These worst cases hold
    (the deviations use about a tenth of them).  Treating the rounding errors as
    independent and uniform gives standard deviations σ; every deviation is
    within 5σ (largest 2.2σ and 3.5σ: a rounded-to-zero coefficient is biased).
    Observed: domesticiot vs workbook at most 0.0020 (0.46 %), Amatrix vs
    workbook 0.0060 (2.2 %, electricity), Amatrix vs domesticiot 0.0070 (2.4 %).
    """
    vd, va, vo, L, x = _bounds(flows, coefs, workbook)
    Ad = flows.A.toarray()
    bound_d = ((0.5 * (1 + flows.labour) / x) + vd @ (0.5 * (1 + Ad) / x[None, :])) @ L
    bound_a = np.full(len(x), 0.0005 * (1 + va.sum())) @ L
    assert (np.abs(vd - vo) <= bound_d).all()
    assert (np.abs(va - vo) <= bound_a).all()
    assert (np.abs(va - vd) <= bound_a + bound_d).all()
    sd = np.sqrt((((1 + flows.labour**2) + (vd**2) @ (1 + Ad**2)) / (12 * x**2)) @ L**2)
    sa = np.sqrt(0.001**2 / 12 * (1 + (va**2).sum()) * (L**2).sum(axis=0))
    assert (np.abs(vd - vo) <= 5 * sd).all()
    assert (np.abs(va - vo) <= 5 * sa).all()
    assert (np.abs(va - vd) <= 5 * np.hypot(sa, sd)).all()
    assert np.abs(vd - vo).max() < 0.0025 and (np.abs(vd - vo) / vo).max() < 0.005
    assert (np.abs(va - vo) / vo).max() < 0.025
    assert (np.abs(va - vd) / vd).max() < 0.025
    assert np.corrcoef(va, vd)[0, 1] > 0.9999


# ---------------------------------------------------------------------------- capital
def test_capital_and_depreciation(uk_dir: Path, flows: Economy) -> None:
    e = read_ons_csv(
        uk_dir / "domesticiot.csv",
        capital=uk_dir / "capitalstockmatrix2015.csv",
        depreciation=uk_dir / "deprates.csv",
    )
    assert e.capital is not None and e.depreciation is not None and e.output is not None
    # every £ of the file's 4,337,207 million is placed (rounding of the columns: a few £m)
    assert (e.capital.toarray() * e.output[None, :]).sum() == pytest.approx(4_337_207, abs=5)
    names = list(e.products)
    assert (
        e.depreciation[names.index("Manufacture Of Computer, Electronic And Optical Products")]
        == 0.13
    )
    assert e.depreciation[names.index("Fishing And Aquaculture")] == 0.5  # '0,5' in the file
    assert e.depreciation[names.index("Owner-Occupiers' Housing")] == 0.0  # no line
    full = labour_values(e, depreciation=True)
    plain = labour_values(flows)
    assert full.residual < 1e-10
    assert (full.values.to_numpy() >= plain.values.to_numpy() - 1e-15).all()
    assert (full.values.to_numpy() > plain.values.to_numpy() * 1.01).sum() > 50


def test_capital_needs_codes(uk_dir: Path, tmp_path: Path) -> None:
    lone = tmp_path / "domesticiot.csv"
    lone.write_bytes((uk_dir / "domesticiot.csv").read_bytes())
    with pytest.raises(ReaderError, match=r"domesticiot\.csv.*only importuse\.csv carries"):
        read_ons_csv(lone, capital=uk_dir / "capitalstockmatrix2015.csv")


# ---------------------------------------------------------------------------- bad input
def test_bad_cell_and_mismatched_imports(uk_dir: Path, tmp_path: Path) -> None:
    rows = _lines(uk_dir / "domesticiot.csv")
    rows[2][3] = "n/a"
    bad = tmp_path / "domesticiot.csv"
    with open(bad, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(
        ReaderError,
        match=r"domesticiot\.csv', row 3 \('Forestry And Logging'\)"
        r", column D \('Fishing And Aquaculture'\): expected "
        r"a number \(flow\), found the text 'n/a'",
    ):
        read_ons_csv(bad)
    rows = _lines(uk_dir / "domesticiot.csv")
    rows[1][1] = str(float(rows[1][1]) + 500)  # a flow no longer adds up to its column total
    with open(bad, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(
        ReaderError,
        match=r"flows into 'Crop And Animal.*not to 'Total "
        r"Consumption'",
    ):
        read_ons_csv(bad)
    imp = _lines(uk_dir / "importuse.csv")
    imp[2][2] = "5740"  # 740 -> 5740 imported 01 into 01: the 'Total' line catches it
    other = tmp_path / "importuse.csv"
    with open(other, "w", encoding="latin-1", newline="") as f:
        csv.writer(f).writerows(imp)
    with pytest.raises(
        ReaderError,
        match=r"importuse\.csv', row \d+, column C \('01'\): the "
        r"imports into '01' add up to",
    ):
        read_ons_csv(uk_dir / "domesticiot.csv", imports=other)


def test_read_namespace_and_open_source(uk_dir: Path) -> None:
    assert gosplan.read.ons_csv is read_ons_csv
    e = open_source(str(uk_dir / "domesticiot.csv"), imports=False)
    assert e.n == 129


# ---------------------------------------------------------------------------- the CLI
def _cli(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, result.exception


@pytest.mark.parametrize("name", ["domesticiot.csv", "Amatrix2015.csv"])
def test_values_cli(uk_dir: Path, name: str, tmp_path: Path) -> None:
    out_csv = tmp_path / "v.csv"
    code, out, _ = _cli("values", str(uk_dir / name), "--json", "--csv", str(out_csv))
    assert code == 0, out
    data = json.loads(out)
    assert (data["economy"], data["year"], data["products"]) == ("United Kingdom", 2015, 129)
    assert "GBP million of compensation of employees" in data["unit"]
    assert len(out_csv.read_text().splitlines()) == 130


AUX = {
    "uk-2015/capitalstockmatrix2015.csv": r"capital-stock matrix.*--read-option capital=",
    "uk-2015/deprates.csv": r"depreciation rates per product.*--read-option depreciation=",
    "uk-2015/importuse.csv": r"imported-use table.*gosplan values .*domesticiot\.csv",
    "uk-2015/dep.csv": r"layout could not be identified.*use deprates\.csv",
    "wiod-2016/sea.csv": r"WIOD's Socio-Economic Accounts.*gosplan values "
    r".*GBR_NIOT_nov16\.xlsx --year 2010",
}


@pytest.mark.parametrize("command", ["values", "analyse"])
@pytest.mark.parametrize("rel", sorted(AUX))
def test_auxiliary_files_explain_themselves(data_dir: Path, rel: str, command: str) -> None:
    path = data_dir / rel
    assert source_kind(str(path)) == "aux"
    code, out, exc = _cli(command, str(path))
    assert code == 1 and isinstance(exc, SystemExit)
    assert out.count("Error:") == 1
    text = " ".join(out.split())
    assert f"file '{path}': not an input–output table: this is" in text
    assert re.search(AUX[rel], text), text
    with pytest.raises(ReaderError, match=AUX[rel]):
        open_source(str(path))


def test_sources_lists_auxiliary_files(data_dir: Path) -> None:
    code, out, _ = _cli("sources", "--data", str(data_dir), "--json")
    assert code == 0, out
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert files["domesticiot.csv"]["kind"] == "ons_csv"
    assert files["sea.csv"] == {
        "kind": "aux",
        "path": str(data_dir / "wiod-2016" / "sea.csv"),
        "accompanies": "accompanies the WIOD *_NIOT_nov16.xlsx tables",
    }
    assert files["dep.csv"]["accompanies"] == "layout not identified; not read (use deprates.csv)"
    assert files["GBR_NIOT_nov16.xlsx"]["years"] == list(range(2000, 2015))
    # and as text, one file a line
    code, out, _ = _cli("sources", "--data", str(data_dir))
    assert code == 0
    assert any(
        line.split() == ["ons_csv", str(data_dir / "uk-2015" / "domesticiot.csv")]
        for line in out.splitlines()
    )


def test_values_on_every_file(data_dir: Path) -> None:
    """`gosplan values` on every file of the data folder: works, or one clear error naming it."""
    seen = 0
    for f in sorted(data_dir.rglob("*")):
        if not f.is_file():
            continue
        seen += 1
        code, out, exc = _cli("values", str(f), "--top", "2")
        assert isinstance(exc, SystemExit) or exc is None, (f, repr(exc))
        if code == 0:
            assert "labour value" in out, f
            continue
        assert code == 1, (f, out)
        # only the files that are not tables fail: the auxiliary files and the README
        assert f.name.lower().startswith("readme") or source_kind(str(f)) == "aux", (f, out)
        text = " ".join(out.split())
        assert text.startswith(f"Error: file '{f}'"), (f, out)
        assert "Traceback" not in out
    assert seen >= 18
