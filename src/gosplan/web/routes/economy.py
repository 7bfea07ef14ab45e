"""Economy and labour values: search a product, see what it is made of."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from gosplan.web.deps import MaybeUser, State
from gosplan.web.render import render, twin

router = APIRouter(tags=["economy"])


class ProductRow(BaseModel):
    product: str
    labour_value: float
    direct_labour: float
    output: float | None


class EconomyPublic(BaseModel):
    name: str
    year: int | None
    products: int
    labour_unit: str
    value_unit: str
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
    inputs: list[InputRow]


@twin(router, "/economy", model=EconomyPublic)
def economy_page(request: Request, state: State, user: MaybeUser, q: str = "") -> Response:
    eco, res = state.economy, state.values
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
            )
        )
    model = EconomyPublic(
        name=eco.name,
        year=eco.year,
        products=eco.n,
        labour_unit=eco.labour_unit,
        value_unit=res.unit,
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
    model = ProductPublic(
        product=name,
        labour_value=total,
        direct_labour=float(eco.labour[j]),
        value_unit=res.unit,
        inputs=inputs,
    )
    return render(request, "product.html", model, user=user)
