"""IBGE supply–use tables shipped in ``iotbr`` (the embedded default economy).

Publisher's figures below were read off IBGE's own workbooks inside the
installed ``iotbr`` package, ``IBGE/nivel_20_2010_2021_xls/20_tab1_2021.xls``
and ``20_tab2_2021.xls`` (Tabelas de Recursos e Usos 2021, 20 activities,
R$ million), with a spreadsheet; the row numbers are the spreadsheet's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlrd
from click.testing import CliRunner

from gosplan import Economy, labour_values
from gosplan.cli import main
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers.ibge import available_years, read_ibge
from gosplan.readers.registry import open_source

IBGE_DIR = Path(str(resources.files("iotbr.IBGE")))
FOLDERS = {
    12: "nivel_12_2000_2021_xls",
    20: "nivel_20_2010_2021_xls",
    51: "nivel_51_2000_2021_xls",
    68: "nivel_68_2010_2021_xls",
}


@pytest.fixture(scope="session")
def ibge() -> Callable[..., Economy]:
    cache: dict[tuple[int | None, int, str], Economy] = {}

    def get(year: int | None = None, level: int = 20, technology: str = "industry") -> Economy:
        key = (year, level, technology)
        if key not in cache:
            cache[key] = read_ibge(year=year, level=level, technology=technology)
        return cache[key]

    return get


def _published_va_row(level: int, year: int, starts: str) -> np.ndarray:
    """A row of the value-added block, read straight from the publisher's file."""
    sh = xlrd.open_workbook(
        str(IBGE_DIR / FOLDERS[level] / f"{level}_tab2_{year}.xls")
    ).sheet_by_name("VA")
    for r in range(sh.nrows):
        if str(sh.cell_value(r, 0)).startswith(starts):
            return np.array(sh.row_values(r)[1 : 1 + level], dtype=float)
    raise AssertionError(f"no row {starts!r}")


def _check_values(e: Economy) -> None:
    res = labour_values(e, tol=1e-10)
    v = res.values.to_numpy()
    assert np.isfinite(v).all() and (v > 0).all(), res.values[~(v > 0)]
    r = v - e.A.T @ v - e.labour  # recomputed here, not trusted from the solver
    assert np.linalg.norm(r) / np.linalg.norm(e.labour) < 1e-10
    assert res.residual < 1e-10


def test_level_20_and_the_default_at_level_68(ibge: Callable[..., Economy]) -> None:
    e = ibge()
    assert (e.name, e.year, e.n, e.kind) == ("Brazil", 2021, 20, "product")
    assert e.labour_kind == "persons" and e.labour_unit == "persons employed (jobs)"
    assert e.money_unit == "BRL million"
    assert e.products[0] == "Agricultura, pecuária, produção florestal, pesca e aquicultura"
    assert e.products[-1] == "Serviços domésticos"
    assert "Guilhoto & Sesso" in e.meta.history[0]
    assert any("industry technology" in h for h in e.meta.history)
    assert available_years(20) == list(range(2010, 2022))
    assert available_years(12) == list(range(2000, 2022))
    default = open_source("default")  # the most detailed level: 68 activities, 128 products
    assert (default.year, default.n) == (2021, 128)
    e68 = open_source("ibge:2015:68")
    assert (e68.year, e68.n) == (2015, 128)


def test_publisher_figures_2021(ibge: Callable[..., Economy]) -> None:
    e = ibge()
    # 20_tab2_2021.xls, sheet VA, row 19 'Fator trabalho (ocupações)', column W (total)
    assert e.persons is not None and e.persons.sum() == pytest.approx(105_065_178, abs=1e-3)
    assert e.total_labour == pytest.approx(105_065_178, abs=1e-3)
    # sheet VA row 7 'Remunerações' and row 13 'Excedente operacional bruto ...', column W
    assert e.compensation is not None and e.compensation.sum() == pytest.approx(3_534_648)
    assert e.surplus is not None and e.surplus.sum() == pytest.approx(4_078_389)
    # 20_tab1_2021.xls, sheet producao, row 6 (product A), column W 'Total do produto'
    x = e.output
    assert x is not None and x[0] == pytest.approx(1_075_584)
    # total output: sheet VA row 18 'Valor da produção' column W, plus the one negative
    # supply entry (producao row 12 'G', column K 'I Alojamento e alimentação': -231)
    # that the reader moves to the use table
    assert x.sum() == pytest.approx(16_581_873 + 231)
    assert any("totalling 231 moved" in h for h in e.meta.history)
    # product O is made only by activity O, so its persons per R$ million are activity
    # O's: VA row 19 column P (4,692,057) / row 18 column P (993,216)
    o = list(e.products).index("Administração pública, defesa e seguridade social")
    assert e.labour[o] == pytest.approx(4_692_057 / 993_216, rel=1e-12)
    fd = e.final_demand_by_purpose()
    assert set(e.purposes.values()) == {"exports", "social", "personal", "investment", "stocks"}
    assert (fd["social"].sum() > 0) and (fd["exports"].sum() > 0)


def test_every_level_reads_and_conserves_persons(ibge: Callable[..., Economy]) -> None:
    sizes = {12: 12, 20: 20, 51: 107, 68: 128}  # products (51/68: more than activities)
    for level, n in sizes.items():
        e = ibge(2021, level)
        assert e.n == n, level
        published = _published_va_row(level, 2021, "Fator trabalho").sum()
        assert e.total_labour == pytest.approx(published, rel=1e-12)
        assert e.persons is not None and e.persons.sum() == pytest.approx(published, rel=1e-12)
        _check_values(e)
        assert 0.3 < e.spectral_radius() < 0.6


@pytest.mark.parametrize("year", range(2010, 2022))
def test_level_20_every_year(ibge: Callable[..., Economy], year: int) -> None:
    e = ibge(year, 20)
    assert e.n == 20 and e.year == year
    _check_values(e)
    # every product's domestic output is sold: intermediate sales + final demand = output
    x, fd = e.output, e.final_demand
    assert x is not None and fd is not None
    np.testing.assert_allclose(e.A @ x + fd.sum(axis=1).to_numpy(), x, rtol=1e-9)


def test_oldest_layout_2000(ibge: Callable[..., Economy]) -> None:
    # before 2010 exports of goods and of services are two columns, imports three
    e = ibge(2000, 12)
    assert e.n == 12 and e.year == 2000
    assert list(e.final_demand.columns).count("exports") == 1  # type: ignore[union-attr]
    published = _published_va_row(12, 2000, "Fator trabalho").sum()
    assert e.total_labour == pytest.approx(published, rel=1e-12)
    _check_values(e)


def test_other_technologies(ibge: Callable[..., Economy]) -> None:
    e = ibge(2021, 20, "sales")
    assert e.kind == "industry" and e.n == 20
    assert e.products[0].startswith("A Agricultura")
    # fixed product-sales structure keeps activities: output is 'Valor da produção'
    g = _published_va_row(20, 2021, "Valor da produção")
    bump = np.zeros(20)
    bump[8] = 231.0  # activity I, which the negative supply entry was moved to
    assert e.output is not None
    np.testing.assert_allclose(e.output, g + bump, rtol=1e-12)
    _check_values(e)
    with pytest.raises(
        ReaderError,
        match=r"product technology assumption gives \d+ negative "
        r"coefficient.*A\['Indústrias extrativas'",
    ):
        read_ibge(year=2021, level=20, technology="product")
    with pytest.raises(ValidationError, match="'technology' parameter of read_ibge"):
        read_ibge(technology="leontief")


def test_unknown_level_or_year() -> None:
    with pytest.raises(ValidationError, match=r"'level' parameter.*\(12, 20, 51, 68\).*30"):
        read_ibge(level=30)
    with pytest.raises(
        ReaderError,
        match=r"no IBGE tables for 2005 at level 20; available "
        r"years: .*2010",
    ):
        read_ibge(year=2005, level=20)


def test_cli_values_default() -> None:
    result = CliRunner().invoke(main, ["values", "default", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["economy"], data["year"], data["products"]) == ("Brazil", 2021, 128)
    assert data["unit"] == "persons employed (jobs) per BRL million"
    assert max(data["values"], key=data["values"].get) == "Serviços domésticos"


# ---------------------------------------------------------------------------- a tiny table
PRODUCTS = [("01", "Bens"), ("02", "Comércio"), ("03", "Transporte")]
ACTIVITIES = ["01 Bens", "02 Comércio", "03 Transporte"]


def _write(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    wb.save(path)


def _block(
    title: str, heads: Sequence[str], rows: Sequence[Sequence[object]], *, total: bool
) -> list[list[object]]:
    out: list[list[object]] = [
        [title],
        [],
        ["Código do produto", "Descrição do produto", "grupo"],
        ["", "", *heads, *(["Total"] if total else [])],
        [],
    ]
    for (code, name), vals in zip(PRODUCTS, rows, strict=True):
        tot = sum(float(v) for v in vals if isinstance(v, float | int))
        out.append([code, name, *vals, *([tot] if total else [])])
    out += [[], ["Total", ""]]
    return out


def make_mock(
    folder: Path,
    *,
    ci: Sequence[Sequence[object]] | None = None,
    persons: list[float] | None = None,
    drop_labour: bool = False,
) -> Path:
    """Three products and activities, with trade and transport margins, ICMS, imports.

    Worked out by hand (see test_mock_basic_prices): goods carry a trade margin
    of 10, a transport margin of 5, ICMS 5, import duty 2 and imports 20.
    """
    folder.mkdir(parents=True, exist_ok=True)
    supply = [[100.0, 0, 0], [0, 30.0, 0], [0, 0, 20.0]]
    offer_heads = [
        "Oferta total a preço de consumidor",
        "Margem de comércio",
        "Margem de transporte",
        "Imposto de importação",
        "IPI",
        "ICMS",
        "Outros impostos menos subsídios",
        "Total de impostos",
        "Oferta total a preço básico",
    ]
    offer = [
        [142.0, 10, 5, 2, 0, 5, 0, 7, 120],
        [20.0, -10, 0, 0, 0, 0, 0, 0, 30],
        [15.0, 0, -5, 0, 0, 0, 0, 0, 20],
    ]
    _write(
        folder / "12_tab1_2021.xlsx",
        {
            "oferta": _block("Tabela 1", offer_heads, offer, total=False),
            "producao": _block("Tabela 1", ACTIVITIES, supply, total=True),
            "importacao": _block(
                "Tabela 1", ["Importação de bens e serviços"], [[20.0], [0.0], [0.0]], total=False
            ),
        },
    )
    use = ci or [[28.4, 14.2, 14.2], [4.0, 0.0, 2.0], [3.0, 2.0, 0.0]]
    fd_heads = [
        "Exportação de bens e serviços",
        "Consumo do governo",
        "Consumo das ISFLSF",
        "Consumo das famílias",
        "Formação bruta de capital fixo",
        "Variação de estoque",
        "Demanda final",
        "Demanda total",
    ]
    fd = [
        [28.4, 0, 0, 56.8, 0, 0, 85.2, 142.0],
        [0, 0, 0, 14.0, 0, 0, 14.0, 20.0],
        [0, 0, 0, 10.0, 0, 0, 10.0, 15.0],
    ]
    va: list[list[object]] = [
        ["Tabela 2"],
        [],
        ["Operações", "Componentes do valor adicionado"],
        ["", *ACTIVITIES, "Total do produto"],
        [],
        ["Valor adicionado bruto ( PIB )", 50.0, 20.0, 10.0, 80.0],
        ["Remunerações", 30.0, 15.0, 8.0, 53.0],
        ["Excedente operacional bruto e rendimento misto bruto", 20.0, 5.0, 2.0, 27.0],
        ["Valor da produção", 100.0, 30.0, 20.0, 150.0],
    ]
    if not drop_labour:
        va.append(["Fator trabalho (ocupações)", *(persons or [10.0, 20.0, 5.0]), 35.0])
    va += [[], ["Fonte: IBGE"]]
    _write(
        folder / "12_tab2_2021.xlsx",
        {
            "CI": _block("Tabela 2", ACTIVITIES, use, total=True),
            "demanda": _block("Tabela 2", fd_heads, fd, total=False),
            "VA": va,
        },
    )
    return folder


def test_mock_basic_prices_by_hand(tmp_path: Path) -> None:
    e = read_ibge(year=2021, level=12, directory=make_mock(tmp_path / "ok"))
    # domestic use at basic prices, worked out by hand:
    #  goods row: 28.4 - ICMS 1 - trade 2 - transport 1 - imports&duty 5.5 = 18.9 (farms) ...
    #  trade row: 4 + trade margins re-entered 2 = 6; transport row: 3 + 1 = 4
    U = np.array([[18.9, 9.45, 9.45], [6.0, 1.0, 3.0], [4.0, 2.5, 0.5]])
    g = np.array([100.0, 30.0, 20.0])
    np.testing.assert_allclose(e.A.toarray(), U / g, atol=1e-12)
    np.testing.assert_allclose(e.labour, [0.1, 20 / 30, 0.25], rtol=1e-12)
    # imported goods used by the activities: 20 spread over uses other than exports
    assert e.imports is not None
    np.testing.assert_allclose(e.imports.toarray()[0] * g, [5.0, 2.5, 2.5], atol=1e-12)
    fd = e.final_demand
    assert fd is not None
    np.testing.assert_allclose(fd["household consumption"], [37.8, 18.0, 12.0], atol=1e-12)
    np.testing.assert_allclose(fd["exports"], [24.4, 2.0, 1.0], atol=1e-12)
    _check_values(e)


def test_truncated_workbook(tmp_path: Path) -> None:
    src = IBGE_DIR / FOLDERS[20]
    for tab in ("tab1", "tab2"):
        shutil.copy(src / f"20_{tab}_2021.xls", tmp_path / f"20_{tab}_2021.xls")
    data = (tmp_path / "20_tab2_2021.xls").read_bytes()
    (tmp_path / "20_tab2_2021.xls").write_bytes(data[: len(data) // 3])
    with pytest.raises(ReaderError, match=r"20_tab2_2021\.xls.*(truncated or corrupt)"):
        read_ibge(year=2021, level=20, directory=tmp_path)


def test_nan_cell_is_named(tmp_path: Path) -> None:
    bad: list[list[object]] = [[28.4, 14.2, 14.2], [4.0, "n/d", 2.0], [3.0, 2.0, 0.0]]
    with pytest.raises(
        ReaderError,
        match=r"sheet 'CI', row 7 \('Comércio'\), column D "
        r"\('02 Comércio'\).*found the text 'n/d'",
    ):
        read_ibge(year=2021, level=12, directory=make_mock(tmp_path / "nan", ci=bad))


def test_missing_labour_row(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"sheet 'VA'.*no row 'Fator trabalho \(ocupações\)'"):
        read_ibge(year=2021, level=12, directory=make_mock(tmp_path / "nolab", drop_labour=True))


def test_negative_persons(tmp_path: Path) -> None:
    with pytest.raises(
        ReaderError,
        match=r"persons employed of activity '02 Comércio' is "
        r"negative \(-20\)",
    ):
        read_ibge(
            year=2021, level=12, directory=make_mock(tmp_path / "neg", persons=[10.0, -20.0, 5.0])
        )


def test_table_that_does_not_add_up(tmp_path: Path) -> None:
    # 5 more goods used by the farms than the goods row's total demand allows
    bad = [[33.4, 14.2, 14.2], [4.0, 0.0, 2.0], [3.0, 2.0, 0.0]]
    with pytest.raises(
        ReaderError,
        match=r"does not add up for product 'Bens': intermediate "
        r"plus final use is 147",
    ):
        read_ibge(year=2021, level=12, directory=make_mock(tmp_path / "sum", ci=bad))
