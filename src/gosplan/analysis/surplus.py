"""Rate of surplus value and value rate of profit of a capitalist economy's table.

Pure functions over an :class:`~gosplan.core.economy.Economy` and its labour values.

Rate of surplus value
---------------------
Workers spend their wages on consumer goods; the labour it takes to make those goods
is the *necessary* labour ``V``; the rest of the labour they perform, ``S = L − V``,
is *surplus* labour, and ``e = S / V``.

* ``L = l · x`` is all the labour the table records (hours for WIOD and SCB,
  person-years for IBGE, money wages for the UK 1984/1995 and ONS tables).
* The wage basket ``b`` is not in any table.  It is approximated by the household
  consumption column(s) of final demand (purpose ``"personal"``), scaled so that
  its price equals total compensation of employees: ``b = c · W / (p · c)``.
  Workers are assumed to spend their pay like the average household, and the
  table's consumption of domestic products stands for all of it: imported
  consumer goods are assumed to embody as much labour per money unit as
  domestic ones.
* ``V = v · b``, in the labour unit of the table.

When labour is measured by wages (the convention of Cockshott, Cottrell &
Michaelson 1995 for the UK 1984 table, which has no hours), ``L`` equals the
wage bill ``W`` counted as labour, and the same formula gives
``e = (L − V) / V``: value added in value terms (all living labour, ``L``) less
the value of the wage goods, over the latter.  Since ``V / L`` is close to the
ratio of wages to value added whenever consumer goods sell near their values,
``e`` is then close to the rate in price terms, (value added − wages)/wages,
which is reported beside it (``price_rate``: gross operating surplus over
compensation, from the table) for comparison.

Surplus value here is *gross*: labour values do not include the wear of fixed
capital (unless computed with ``depreciation=True``), so ``S`` includes the
labour that replaces worn-out means of production.

Value rate of profit
--------------------
``r = S / (C + V)``: surplus labour per year over the labour value of the capital
advanced.  ``V`` is one year's necessary labour (wages turn over once a year);
``C`` is the fixed capital stock valued in labour:

* with a capital-coefficient matrix (``economy.capital``): each capital good at its
  own labour value, ``C = v · (K x)``;
* with only each sector's money stock (``economy.capital_stock``, e.g. WIOD SEA
  ``K``): the money stock times the labour value of one money unit of investment
  goods, ``C = ΣK · (v · g)/(p · g)`` with ``g`` the gross fixed capital formation
  column of final demand (purpose ``"investment"``).  This assumes the stock has
  the composition of this year's domestic investment and is valued at current
  (replacement) prices, as WIOD's nominal stock is.

Circulating constant capital (materials in stock) is not included: the tables give
no inventories by sector, so ``r`` is an upper bound in that respect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gosplan.core.economy import Economy
from gosplan.core.values import ImportsMode, LabourValues, labour_values
from gosplan.errors import ValidationError


@dataclass(frozen=True)
class SurplusValueResult:
    """The rate of surplus value ``rate = surplus_labour / necessary_labour``.

    Labour totals are in ``labour_unit`` per year; ``wages`` in ``money_unit``.
    ``price_rate`` is gross operating surplus over compensation (money terms), when
    the table has both.
    """

    name: str
    year: int | None
    rate: float
    total_labour: float
    necessary_labour: float
    surplus_labour: float
    wages: float
    labour_per_money_of_wages: float
    price_rate: float | None
    labour_kind: str
    labour_unit: str
    money_unit: str
    conventions: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        what = f"{self.name} {self.year}" if self.year else (self.name or "economy")
        unit = self.labour_unit
        lines = [
            f"Rate of surplus value, {what}: e = {self.rate:.3f} ({self.rate:.1%})",
            f"  all labour {self.total_labour:,.6g} {unit}; necessary (embodied in the wage "
            f"basket) {self.necessary_labour:,.6g}; surplus {self.surplus_labour:,.6g}",
            f"  of every working day, {self.necessary_labour / self.total_labour:.1%} "
            f"reproduces the workers' consumption, {self.surplus_labour / self.total_labour:.1%}"
            f" goes to the owners",
        ]
        if self.price_rate is not None:
            lines.append(
                f"  in price terms (operating surplus / compensation): {self.price_rate:.3f}"
            )
        lines.append(
            "  conventions: " + "; ".join(f"{k}: {v}" for k, v in self.conventions.items())
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # the fields in order; ``conventions`` a copy


@dataclass(frozen=True)
class ProfitRateResult:
    """The value rate of profit ``rate = surplus / (constant + variable)`` (per year).

    ``constant`` and ``variable`` capital and ``surplus`` are in ``labour_unit``;
    ``capital_stock`` is the money stock it was valued from.  ``price_rate`` is gross
    operating surplus over the money capital stock, when both are known.
    """

    name: str
    year: int | None
    rate: float
    surplus: float
    constant: float
    variable: float
    capital_stock: float
    organic_composition: float
    price_rate: float | None
    rate_of_surplus_value: float
    labour_unit: str
    money_unit: str
    conventions: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        what = f"{self.name} {self.year}" if self.year else (self.name or "economy")
        lines = [
            f"Value rate of profit, {what}: r = s/(C+V) = {self.rate:.4f} ({self.rate:.2%})",
            f"  s = {self.surplus:,.6g}, C = {self.constant:,.6g}, V = {self.variable:,.6g} "
            f"{self.labour_unit}; organic composition C/V = {self.organic_composition:.2f}; "
            f"e = {self.rate_of_surplus_value:.3f}",
        ]
        if self.price_rate is not None:
            lines.append(
                f"  in price terms (operating surplus / capital stock): {self.price_rate:.4f}"
            )
        lines.append(
            "  conventions: " + "; ".join(f"{k}: {v}" for k, v in self.conventions.items())
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # the fields in order; ``conventions`` a copy


def _purpose_vector(economy: Economy, purpose: str, caller: str, why: str) -> np.ndarray:
    fd = economy.final_demand
    cols = [] if fd is None else [c for c in fd.columns if economy.purposes.get(c) == purpose]
    if fd is None or not cols:
        have = {} if fd is None else {c: economy.purposes.get(c) for c in fd.columns}
        raise ValidationError(
            f"{caller} needs a final-demand column with purpose {purpose!r} ({why}); "
            f"{economy!r} has final demand {have or 'none'}. Map a column to {purpose!r} "
            f"with the `purposes` argument of Economy."
        )
    vec = fd[cols].sum(axis=1).to_numpy(dtype=float)
    return np.clip(vec, 0.0, None)  # negative entries (re-exports, sales of used goods) out


def _values(
    economy: Economy,
    values: LabourValues | None,
    tol: float,
    imports: ImportsMode,
    depreciation: bool,
    caller: str,
) -> LabourValues:
    if values is None:
        return labour_values(economy, tol=tol, imports=imports, depreciation=depreciation)
    idx = values.values.index
    if len(idx) != economy.n or not idx.equals(economy.products):
        raise ValidationError(
            f"`values` of {caller} must be the labour values of the economy's {economy.n} "
            f"products; got {len(idx)} starting {list(idx[:3])}."
        )
    return values


def rate_of_surplus_value(
    economy: Economy,
    values: LabourValues | None = None,
    *,
    wage_basket: Any = None,
    tol: float = 1e-10,
    imports: ImportsMode = "ignore",
    depreciation: bool = False,
) -> SurplusValueResult:
    """Rate of surplus value ``e = (L − V) / V`` (see the module docstring).

    ``wage_basket`` (a vector over products, in money at market prices) replaces the
    household-consumption column as the composition of what wages buy; it is scaled
    to total compensation either way.

    Raises
    ------
    ValidationError
        If the economy lacks gross output, compensation of employees or (without
        ``wage_basket``) a household-consumption column, or if the wage basket
        embodies no labour.
    """
    caller = "rate_of_surplus_value"
    if economy.output is None:
        raise ValidationError(f"{caller} needs gross output (`output`); {economy!r} has none.")
    if economy.compensation is None:
        raise ValidationError(
            f"{caller} needs compensation of employees (`compensation`) to size the wage "
            f"basket; {economy!r} has none."
        )
    vals = _values(economy, values, tol, imports, depreciation, caller)
    v = vals.values.to_numpy(dtype=float)
    if wage_basket is None:
        c = _purpose_vector(
            economy, "personal", caller, "household consumption, the composition of the wage basket"
        )
        basket_src = "household consumption column(s) of final demand"
    else:
        c = np.asarray(wage_basket, dtype=float)
        if c.shape != (economy.n,) or not np.isfinite(c).all() or (c < 0).any():
            raise ValidationError(
                f"`wage_basket` of {caller} must be {economy.n} non-negative finite amounts; "
                f"got shape {c.shape}."
            )
        basket_src = "the wage basket given"
    pc = float(economy.prices @ c)
    if pc <= 0:
        raise ValidationError(f"{caller}: the wage basket is empty (its price is {pc:g}).")
    W = float(np.sum(economy.compensation))
    if W <= 0:
        raise ValidationError(
            f"{caller}: total compensation of employees is {W:g}; there are no wages to spend."
        )
    b = c * (W / pc)
    V = float(v @ b)
    if V <= 0:
        raise ValidationError(f"{caller}: the wage basket embodies no labour (v·b = {V:g}).")
    L = economy.total_labour
    S = L - V
    price_rate = None
    if economy.surplus is not None:
        price_rate = float(np.sum(economy.surplus)) / W
    conventions = {
        "labour": f"{economy.labour_kind} ({economy.labour_unit})",
        "wage basket": f"{basket_src}, scaled to total compensation "
        f"({W:,.0f} {economy.money_unit})",
        **{k: v_ for k, v_ in vals.conventions.items() if k != "labour"},
        "surplus": "gross (includes the labour that replaces worn-out fixed capital)"
        if "excluded" in vals.conventions.get("depreciation", "excluded")
        else "net of the wear of fixed capital (values include depreciation)",
    }
    if economy.labour_kind == "wages":
        conventions["wages as labour"] = (
            "L is the wage bill counted as labour; e = (value added in value terms − value "
            "of wages) / value of wages"
        )
    return SurplusValueResult(
        name=economy.name,
        year=economy.year,
        rate=S / V,
        total_labour=L,
        necessary_labour=V,
        surplus_labour=S,
        wages=W,
        labour_per_money_of_wages=V / W,
        price_rate=price_rate,
        labour_kind=economy.labour_kind,
        labour_unit=economy.labour_unit,
        money_unit=economy.money_unit,
        conventions=conventions,
    )


def value_rate_of_profit(
    economy: Economy,
    values: LabourValues | None = None,
    *,
    surplus_value: SurplusValueResult | None = None,
    tol: float = 1e-10,
    imports: ImportsMode = "ignore",
    depreciation: bool = False,
) -> ProfitRateResult:
    """Value rate of profit ``r = S / (C + V)`` (see the module docstring).

    ``surplus_value`` reuses a :func:`rate_of_surplus_value` result for the same
    economy and values.

    Raises
    ------
    ValidationError
        If the economy has neither a capital matrix nor sector capital stocks, or
        (with stocks only) no investment column to value them by.
    """
    caller = "value_rate_of_profit"
    if economy.capital is None and economy.capital_stock is None:
        raise ValidationError(
            f"{caller} needs capital stock data: `capital` (coefficients by good) or "
            f"`capital_stock` (money stock per sector, e.g. WIOD SEA K); {economy!r} has "
            f"neither."
        )
    vals = _values(economy, values, tol, imports, depreciation, caller)
    sv = surplus_value or rate_of_surplus_value(economy, vals)
    v = vals.values.to_numpy(dtype=float)
    x = economy.output
    assert x is not None  # rate_of_surplus_value checked it
    if economy.capital is not None:
        stock = np.asarray(economy.capital @ x, dtype=float)
        K = float(economy.prices @ stock)
        C = float(v @ stock)
        how = "each capital good at its own labour value, C = v·(K x)"
    else:
        assert economy.capital_stock is not None
        g = _purpose_vector(
            economy,
            "investment",
            caller,
            "gross fixed capital formation, to value the capital stock",
        )
        pg = float(economy.prices @ g)
        if pg <= 0:
            raise ValidationError(
                f"{caller}: investment (gross fixed capital formation) is "
                f"zero, so the capital stock cannot be valued."
            )
        per_money = float(v @ g) / pg
        K = float(np.sum(economy.capital_stock))
        C = K * per_money
        how = (
            f"money stock (sum of sectors' capital_stock, {K:,.0f} {economy.money_unit}) × "
            f"labour value of one money unit of domestic gross fixed capital formation "
            f"({per_money:.4g} {economy.labour_unit} per {economy.money_unit or 'unit'})"
        )
    V = sv.necessary_labour
    S = sv.surplus_labour
    price_rate = None
    if economy.surplus is not None and K > 0:
        price_rate = float(np.sum(economy.surplus)) / K
    conventions = {
        **sv.conventions,
        "constant capital": how + "; circulating constant capital not included",
        "variable capital": "one year's necessary labour (annual turnover)",
    }
    return ProfitRateResult(
        name=economy.name,
        year=economy.year,
        rate=S / (C + V),
        surplus=S,
        constant=C,
        variable=V,
        capital_stock=K,
        organic_composition=C / V,
        price_rate=price_rate,
        rate_of_surplus_value=sv.rate,
        labour_unit=economy.labour_unit,
        money_unit=economy.money_unit,
        conventions=conventions,
    )
