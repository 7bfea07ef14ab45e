"""Economy and labour values: search a product, see what it is made of."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.planning.targets import hours_per_labour_unit
from gosplan.web import i18n
from gosplan.web.deps import MaybeUser, State
from gosplan.web.page_cache import cache_of
from gosplan.web.render import render, twin
from gosplan.web.units import funds_in_words, money_of, money_words, unit_in_words

router = APIRouter(tags=["economy"])


class ProductRow(BaseModel):
    product: str
    labour_value: float
    direct_labour: float
    output: float | None
    #: hours of labour behind ``money_unit`` of this product (None where labour is wages)
    hours: float | None = None


class EconomyPublic(BaseModel):
    name: str
    year: int | None
    products: int
    labour_unit: str
    value_unit: str
    #: the same unit for people ("persons employed (jobs) per R$ 1,000,000 of output")
    value_unit_words: str
    #: the amount of output the ``hours`` column speaks of ("R$ 100 of output at 2021 prices")
    money_unit: str
    hours_per_labour_unit: float | None
    #: labour is counted in jobs (persons employed), each counted as hours a year
    labour_in_jobs: bool = False
    method: str
    residual: float
    query: str
    rows: list[ProductRow]
    history: list[str]


class InputRow(BaseModel):
    input: str
    per_unit: float
    labour_behind: float
    share: float


class ProductPublic(BaseModel):
    product: str
    labour_value: float
    direct_labour: float
    value_unit: str
    value_unit_words: str
    money_unit: str
    #: hours of labour behind ``money_unit`` of this product
    hours: float | None
    #: the plan provides it free for all from these funds (it is never sold)
    free_funds: list[str] = []
    free_words: str = ""
    inputs: list[InputRow]


#: the amount of money the ``hours`` columns speak of (in the economy's currency)
PER_MONEY = 100.0


class _Units:
    """The economy's units in the reader's words, and hours per ``PER_MONEY`` of output."""

    def __init__(self, state: Any, request: Request) -> None:
        eco = state.economy
        _ = i18n.translator(request)
        loc = i18n.locale_of(request)
        try:
            self.hpu: float | None = hours_per_labour_unit(eco)
        except GosplanError:  # labour measured as wages: no hours
            self.hpu = None
        self.factor: float | None = None
        money = money_of(eco.output_unit or "")
        if money is None:  # physical units: per 100 of them
            self.words = f"{eco.labour_unit} / {eco.output_unit or 'unit'}"
            self.money = _("%(n)s units of output", n=i18n.format_number(loc, PER_MONEY))
            if self.hpu is not None:
                self.factor = self.hpu * PER_MONEY
            return
        per_unit, cur = money
        self.words = _(
            "%(labour)s per %(money)s of output",
            labour=_(eco.labour_unit),
            money=money_words(per_unit, cur, request),
        )
        self.money = unit_in_words(f"{PER_MONEY!r} {cur}", eco.year, request)
        if self.hpu is not None:
            self.factor = self.hpu * PER_MONEY / per_unit

    def hours(self, value: float) -> float | None:
        return None if self.factor is None else value * self.factor


@twin(router, "/economy", model=EconomyPublic)
def economy_page(request: Request, state: State, user: MaybeUser, q: str = "") -> Response:
    return cache_of(request).serve(
        request, (), lambda who: _economy_page(request, state, who, q), user=user
    )


def _economy_page(request: Request, state: State, user: Any, q: str) -> Response:
    eco, res = state.economy, state.values
    units = _Units(state, request)
    rows = []
    for i, name in enumerate(eco.products):
        if q and q.lower() not in str(name).lower():
            continue
        rows.append(
            ProductRow(
                product=str(name),
                labour_value=float(res.values.iloc[i]),
                direct_labour=float(eco.labour[i]),
                output=None if eco.output is None else float(eco.output[i]),
                hours=units.hours(float(res.values.iloc[i])),
            )
        )
    model = EconomyPublic(
        name=eco.name,
        year=eco.year,
        products=eco.n,
        labour_unit=eco.labour_unit,
        value_unit=res.unit,
        value_unit_words=units.words,
        money_unit=units.money,
        hours_per_labour_unit=units.hpu,
        labour_in_jobs=getattr(eco, "labour_kind", "hours") == "persons",
        method=res.method,
        residual=res.residual,
        query=q,
        rows=rows,
        history=list(eco.meta.history),
    )
    return render(request, "economy.html", model, user=user)


@twin(router, "/economy/product/{name:path}", model=ProductPublic)
def product_page(name: str, request: Request, state: State, user: MaybeUser) -> Response:
    eco, res = state.economy, state.values
    if name.endswith(".json"):
        name = name[: -len(".json")]
    if name not in eco.products:
        raise HTTPException(status_code=404, detail=f"no product {name!r} in this economy")
    j = list(eco.products).index(name)
    col = eco.A[:, [j]].toarray().ravel()
    v = res.values.to_numpy()
    total = float(v[j])
    inputs = [
        InputRow(
            input=str(eco.products[i]),
            per_unit=float(col[i]),
            labour_behind=float(col[i] * v[i]),
            share=float(col[i] * v[i] / total) if total else 0.0,
        )
        for i in col.nonzero()[0]
    ]
    inputs.sort(key=lambda r: -r.labour_behind)
    units = _Units(state, request)
    free = next((g.funds for g in state.accounts.goods() if g.product == name and g.funds), [])
    model = ProductPublic(
        product=name,
        labour_value=total,
        direct_labour=float(eco.labour[j]),
        value_unit=res.unit,
        value_unit_words=units.words,
        money_unit=units.money,
        hours=units.hours(total),
        free_funds=free,
        free_words=funds_in_words(free, request) if free else "",
        inputs=inputs,
    )
    return render(request, "product.html", model, user=user)
