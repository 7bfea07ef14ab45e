"""Supply–use → symmetric table: hand-built tables with known answers, conservation, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy, labour_values
from gosplan.errors import ValidationError
from gosplan.readers.supply_use import make_symmetric

P = ["wheat", "steel", "cloth"]
J = ["farms", "mills", "weavers"]

# A known product technology: column j = inputs per unit of product j
A_TRUE = np.array([[0.10, 0.00, 0.30], [0.05, 0.20, 0.05], [0.00, 0.10, 0.10]])
L_TRUE = np.array([2.0, 1.0, 3.0])  # hours per unit of each product
# product mix of each industry (columns sum to 1): mills also make some cloth,
# weavers a little wheat-based product ... here: secondary products
MIX = np.array([[0.90, 0.00, 0.05], [0.00, 0.80, 0.00], [0.10, 0.20, 0.95]])
G = np.array([100.0, 200.0, 150.0])  # industry outputs
S = MIX * G  # supply, products × industries
U = A_TRUE @ S  # each industry uses the product recipes of what it makes
H = L_TRUE @ S  # hours by industry


def _final_demand(use: np.ndarray, supply: np.ndarray) -> pd.DataFrame:
    q = supply.sum(axis=1)
    return pd.DataFrame({"households": q - use.sum(axis=1)}, index=P)


def test_product_technology_reproduces_the_known_recipes() -> None:
    t = make_symmetric(S, U, products=P, industries=J, vectors={"labour": H}, technology="product")
    A = t.flows / t.output[None, :]
    np.testing.assert_allclose(A, A_TRUE, atol=1e-13)
    np.testing.assert_allclose(t.vectors["labour"] / t.output, L_TRUE, rtol=1e-13)
    assert t.kind == "product" and t.labels == P
    assert "product technology" in t.note


def test_industry_technology_by_hand() -> None:
    # industry technology: Z = U diag(g)^-1 S^T; worked out by hand for column 'wheat':
    # farms make 90 wheat of their 100, weavers 7.5 of 150 -> Z[:, wheat] =
    # U[:, farms] * 0.9 + U[:, weavers] * 0.05
    t = make_symmetric(S, U, products=P, industries=J, vectors={"labour": H})
    expect_wheat = U[:, 0] * 0.9 + U[:, 2] * (7.5 / 150.0)
    np.testing.assert_allclose(t.flows[:, 0], expect_wheat, rtol=1e-14)
    # hours of wheat: farms' hours * 0.9 + weavers' hours * 0.05
    assert t.vectors["labour"][0] == pytest.approx(H[0] * 0.9 + H[2] * 0.05, rel=1e-14)
    assert (t.flows >= 0).all()
    assert "industry technology" in t.note


def test_all_technologies_agree_when_every_industry_makes_one_product() -> None:
    Sd = np.diag(G)
    Ud = A_TRUE @ Sd
    expected = Ud / G[None, :]
    for tech in ("industry", "product", "sales"):
        t = make_symmetric(
            Sd, Ud, products=P, industries=J, vectors={"labour": L_TRUE * G}, technology=tech
        )
        np.testing.assert_allclose(t.flows / t.output[None, :], expected, atol=1e-14)
        np.testing.assert_allclose(t.vectors["labour"], L_TRUE * G, rtol=1e-14)


@pytest.mark.parametrize("tech", ["industry", "product", "sales"])
def test_totals_are_conserved(tech: str) -> None:
    fd = _final_demand(U, S)
    imp = 0.1 * U
    t = make_symmetric(
        S,
        U,
        products=P,
        industries=J,
        technology=tech,
        vectors={"labour": H, "persons": H / 1600.0},
        final_demand=fd,
        imported_use=imp,
    )
    assert t.output.sum() == pytest.approx(S.sum(), rel=1e-14)
    assert t.flows.sum() == pytest.approx(U.sum(), rel=1e-14)
    assert t.vectors["labour"].sum() == pytest.approx(H.sum(), rel=1e-14)
    assert t.vectors["persons"].sum() == pytest.approx(H.sum() / 1600.0, rel=1e-14)
    assert t.imports is not None and t.imports.sum() == pytest.approx(imp.sum(), rel=1e-13)
    assert t.final_demand is not None
    # every row balances: intermediate sales + final demand = output
    np.testing.assert_allclose(
        t.flows.sum(axis=1) + t.final_demand.sum(axis=1), t.output, rtol=1e-12
    )


def test_non_square_industry_technology_gives_a_working_economy() -> None:
    # 3 products, 2 industries: the second industry makes steel and cloth
    S2 = np.array([[80.0, 0.0], [0.0, 120.0], [5.0, 60.0]])
    U2 = np.array([[8.0, 10.0], [4.0, 30.0], [1.0, 20.0]])
    h2 = np.array([400.0, 900.0])
    t = make_symmetric(S2, U2, products=P, industries=J[:2], vectors={"labour": h2})
    assert t.flows.shape == (3, 3) and t.kind == "product"
    # cloth: 5/85 of industry 1 and 60/180 of industry 2
    np.testing.assert_allclose(t.flows[:, 2], U2[:, 0] * 5 / 85 + U2[:, 1] * 60 / 180)
    assert t.vectors["labour"].sum() == pytest.approx(1300.0)
    e = Economy.from_flows(t.flows, t.output, t.vectors["labour"], products=t.labels)
    v = labour_values(e)
    assert (v.values > 0).all() and v.residual < 1e-12


def test_sales_structure_is_industry_by_industry() -> None:
    t = make_symmetric(
        S,
        U,
        products=P,
        industries=J,
        vectors={"labour": H},
        technology="sales",
        final_demand=_final_demand(U, S),
    )
    assert t.kind == "industry" and t.labels == J
    np.testing.assert_allclose(t.output, G)
    np.testing.assert_allclose(t.vectors["labour"], H)
    D = S.T / S.sum(axis=1)[None, :]
    np.testing.assert_allclose(t.flows, D @ U, rtol=1e-14)


def test_product_technology_refuses_negative_coefficients_and_names_them() -> None:
    # mills make some cloth but use no cotton-like input 'wheat' at all, while
    # cloth's recipe (from the weavers) needs much wheat -> negative coefficient
    S3 = np.array([[100.0, 0.0, 0.0], [0.0, 150.0, 0.0], [0.0, 50.0, 100.0]])
    U3 = np.array([[10.0, 0.0, 40.0], [5.0, 30.0, 5.0], [0.0, 5.0, 10.0]])
    with pytest.raises(ValidationError, match=r"negative coefficient.*A\['wheat', 'steel'\]"):
        make_symmetric(S3, U3, products=P, industries=J, technology="product")
    # the industry technology takes the same table without complaint
    t = make_symmetric(S3, U3, products=P, industries=J)
    assert (t.flows >= 0).all()


def test_product_technology_needs_a_square_invertible_table() -> None:
    with pytest.raises(ValidationError, match=r"square supply table.*3 products × 2 industries"):
        make_symmetric(S[:, :2], U[:, :2], products=P, industries=J[:2], technology="product")
    singular = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValidationError, match="singular"):
        make_symmetric(singular, U, products=P, industries=J, technology="product")


def test_negative_supply_is_refused_or_moved_to_use() -> None:
    S4 = S.copy()
    S4[1, 0] = -3.0  # farms 'make' minus 3 of steel
    with pytest.raises(ValidationError, match=r"supply.*negative \(-3\).*'steel'.*'farms'"):
        make_symmetric(S4, U, products=P, industries=J)
    t = make_symmetric(
        S4, U, products=P, industries=J, vectors={"labour": H}, negative_supply="move"
    )
    assert "1 negative supply entr" in t.note and "moved to the use table" in t.note
    # output grows by the amount moved; inputs likewise; hours unchanged
    assert t.output.sum() == pytest.approx(S4.sum() + 3.0)
    assert t.flows.sum() == pytest.approx(U.sum() + 3.0)
    assert t.vectors["labour"].sum() == pytest.approx(H.sum())


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValidationError, match=r"'technology' parameter.*'magic'"):
        make_symmetric(S, U, products=P, industries=J, technology="magic")
    bad = U.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValidationError, match=r"`use`.*NaN.*row 2, column 1"):
        make_symmetric(S, bad, products=P, industries=J)
    neg = U.copy()
    neg[0, 2] = -1.0
    with pytest.raises(ValidationError, match=r"`use`.*negative.*'wheat'.*'weavers'"):
        make_symmetric(S, neg, products=P, industries=J)
    with pytest.raises(ValidationError, match="vector 'labour' must have one entry per industry"):
        make_symmetric(S, U, products=P, industries=J, vectors={"labour": [1.0, 2.0]})
    idle = S.copy()
    idle[:, 2] = 0.0
    with pytest.raises(ValidationError, match="industry 'weavers' makes nothing"):
        make_symmetric(idle, U, products=P, industries=J, vectors={"labour": H})
