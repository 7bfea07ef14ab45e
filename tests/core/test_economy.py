from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import gosplan
from gosplan import Economy, NotProductive, ValidationError

A2 = np.array([[0.1, 0.2], [0.3, 0.1]])


def test_from_coefficients_labels_and_sparse() -> None:
    e = Economy.from_coefficients(A2, [1.0, 2.0], products=["corn", "iron"])
    assert list(e.products) == ["corn", "iron"]
    assert sp.issparse(e.A) and e.A.format == "csr"
    assert e.n == 2
    assert e.l["iron"] == 2.0


def test_from_flows_divides_by_output() -> None:
    Z = np.array([[10.0, 40.0], [30.0, 20.0]])
    x = np.array([100.0, 200.0])
    e = Economy.from_flows(Z, x, [50.0, 20.0], products=["a", "b"])
    np.testing.assert_allclose(e.A.toarray(), Z / x)
    np.testing.assert_allclose(e.labour, [0.5, 0.1])
    np.testing.assert_allclose(e.Z.toarray(), Z)
    assert e.total_labour == pytest.approx(70.0)


def test_dataframe_input_takes_labels() -> None:
    df = pd.DataFrame(A2, index=["x", "y"], columns=["x", "y"])
    e = Economy.from_coefficients(df, [1, 1])
    assert list(e.products) == ["x", "y"]


@pytest.mark.parametrize(
    ("A", "labour", "match"),
    [
        ([[0.1, np.nan], [0.2, 0.1]], [1, 1], r"NaN or infinite value at row 'a'.*column 'b'"),
        ([[0.1, -0.2], [0.2, 0.1]], [1, 1], r"negative value at row 'a'.*column 'b'"),
        ([[0.1, 0.2], [0.2, 0.1]], [1, -1], r"`labour` of Economy must not be negative.*'b'"),
        ([[0.1, 0.2], [0.2, 0.1]], [1, 1, 1], r"must have 2 entries"),
        ([[0.1, 0.2, 0.3], [0.2, 0.1, 0.0]], [1, 1], r"must be square"),
        ([[0.1, 0.2], [0.2, 0.1]], [1, np.inf], r"NaN or infinite values at 'b'"),
    ],
)
def test_bad_input_names_culprit(A: object, labour: object, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Economy.from_coefficients(A, labour, products=["a", "b"])


def test_duplicate_and_count_of_labels() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Economy.from_coefficients(A2, [1, 1], products=["a", "a"])
    with pytest.raises(ValidationError, match="3 labels but the matrix has 2"):
        Economy.from_coefficients(A2, [1, 1], products=["a", "b", "c"])


def test_not_productive_names_sectors() -> None:
    # c and d feed each other more than they make; a is fine
    A = np.array([[0.1, 0.0, 0.0], [0.0, 0.5, 0.9], [0.0, 0.9, 0.5]])
    with pytest.raises(NotProductive, match=r"spectral radius of A is 1\.4") as info:
        Economy.from_coefficients(A, [1, 1, 1], products=["a", "c", "d"])
    assert set(info.value.sectors[:2]) == {"c", "d"}
    assert info.value.spectral_radius == pytest.approx(1.4)


def test_column_sum_above_one_but_productive_is_accepted() -> None:
    # column sums 1.2 but the spectral radius is below one (triangular, diag 0.2)
    A = np.array([[0.2, 1.0], [0.0, 0.2]])
    e = Economy.from_coefficients(A, [1, 1], products=["a", "b"])
    assert e.spectral_radius() == pytest.approx(0.2)


def test_large_sparse_not_productive_uses_arpack() -> None:
    n = 800
    rng = np.random.default_rng(0)
    A = sp.random_array((n, n), density=0.01, rng=rng, format="csr") * 0.5
    A = sp.csr_array(A + sp.diags_array(np.full(n, 1.05)))
    with pytest.raises(NotProductive, match=r"spectral radius of A is \d+\.\d+ >= 1"):
        Economy.from_coefficients(A, np.ones(n))


def test_zero_output_is_an_explicit_choice() -> None:
    Z = np.array([[10.0, 20.0, 0.0], [30.0, 10.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValidationError, match=r"zero gross output.*\['c'\].*zero_output='drop'"):
        Economy.from_flows(Z, [100, 100, 0], [5, 6, 0], products=["a", "b", "c"])
    e = Economy.from_flows(
        Z, [100, 100, 0], [5, 6, 0], products=["a", "b", "c"], zero_output="drop"
    )
    assert list(e.products) == ["a", "b"]
    assert any("dropped 1 zero-output" in h for h in e.meta.history)


def test_final_demand_purposes_guessed_and_validated() -> None:
    fd = pd.DataFrame(
        {
            "Households": [1.0, 2.0],
            "General government": [0.5, 0.5],
            "Exports": [1.0, 0.0],
            "GFCF": [0.0, 1.0],
        }
    )
    e = Economy.from_coefficients(A2, [1, 1], products=["a", "b"], final_demand=fd)
    assert e.purposes == {
        "Households": "personal",
        "General government": "social",
        "Exports": "exports",
        "GFCF": "investment",
    }
    by = e.final_demand_by_purpose()
    assert by.loc["b", "investment"] == 1.0
    with pytest.raises(ValidationError, match="unknown purposes"):
        Economy.from_coefficients(
            A2, [1, 1], products=["a", "b"], final_demand=fd, purposes={"Exports": "bribes"}
        )


def test_parquet_round_trip(tmp_path: object) -> None:
    fd = pd.DataFrame({"Households": [1.0, 2.0]})
    e = Economy.from_flows(
        [[10.0, 20.0], [30.0, 10.0]],
        [100, 200],
        [5, 6],
        products=["a", "b"],
        final_demand=fd,
        name="toy",
        year=1999,
        imports=[[1.0, 2.0], [0.0, 3.0]],
        labour_unit="hours",
    )
    d = gosplan.write.parquet(e, tmp_path / "eco")  # type: ignore[operator]
    f = gosplan.read.parquet(d)
    np.testing.assert_allclose(f.A.toarray(), e.A.toarray())
    np.testing.assert_allclose(f.imports.toarray(), e.imports.toarray())  # type: ignore[union-attr]
    assert f.name == "toy" and f.year == 1999 and list(f.products) == ["a", "b"]
    pd.testing.assert_frame_equal(f.final_demand, e.final_demand)


def test_pymrio_round_trip_matches_pymrio_multipliers() -> None:
    Z = np.array([[10.0, 20.0], [30.0, 10.0]])
    e = Economy.from_flows(
        Z,
        [100.0, 100.0],
        [50.0, 60.0],
        products=["a", "b"],
        final_demand=pd.DataFrame({"hh": [70.0, 60.0]}),
        name="R",
    )
    io = gosplan.write.pymrio(e)
    io.calc_all()
    back = gosplan.read.pymrio(io)
    np.testing.assert_allclose(back.A.toarray(), e.A.toarray())
    # pymrio's labour multipliers (dense inverse) equal our labour values
    from gosplan import labour_values

    np.testing.assert_allclose(
        io.labour.M.to_numpy().ravel(), labour_values(back).values.to_numpy(), rtol=1e-12
    )
