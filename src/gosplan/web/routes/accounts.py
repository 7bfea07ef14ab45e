"""My account: balance, statement, the catalogue of goods priced in hours, buying.

A person sees only their own account: there is no page that shows another
person's balance or statement, and ``/accounts/{code}`` refuses anyone but
its holder.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import accounts as acc
from gosplan.storage.users import User
from gosplan.web.deps import CurrentUser, MaybeUser, State
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.security import check_csrf, client_key

router = APIRouter(tags=["accounts"])


class GoodPublic(BaseModel):
    code: str
    name: str
    unit: str
    product: str | None
    labour_value: Decimal
    ratio: Decimal
    price: Decimal
    stock: int


class CataloguePublic(BaseModel):
    period: str | None
    goods: list[GoodPublic]


class LinePublic(BaseModel):
    transaction: int
    posted_at: str
    period: str | None
    kind: str
    memo: str
    amount: Decimal
    balance: Decimal


class AccountPublic(BaseModel):
    code: str
    name: str
    balance: Decimal
    unit: str = "hours"
    period: str | None
    deduction: str | None
    statement: list[LinePublic]
    catalogue: list[GoodPublic]
    buy_key: str
    bought: str = ""


def _goods(state: State) -> list[GoodPublic]:
    return [GoodPublic(**g.__dict__) for g in state.accounts.goods()]


def _error(exc: GosplanError, field: str) -> HTTPException:
    """A ledger refusal as an HTTP error whose message names the field."""
    if isinstance(exc, acc.UnknownGood):
        code = 404
    elif isinstance(exc, acc.AccountsInputError):
        code = 422
    elif isinstance(exc, acc.UnknownAccount):
        code = 404
    else:
        code = 409
    return HTTPException(status_code=code, detail=f"{field}: {exc}")


def _own(user: User, code: str | None = None) -> str:
    if user.account is None:
        raise HTTPException(
            status_code=404,
            detail=f"{user.username} has no labour account; "
            "an enterprise opens one when it first records your hours.",
        )
    if code is not None and code != user.account:
        raise HTTPException(status_code=403, detail="a person sees only their own account.")
    return user.account


def _account_page(
    request: Request, state: State, user: User, code: str, bought: str = ""
) -> Response:
    try:
        st = state.accounts.statement(code)
    except GosplanError as exc:
        raise _error(exc, "account") from exc
    period = state.accounts.current_period()
    lines = [
        LinePublic(
            transaction=ln.transaction_id,
            posted_at=ln.posted_at,
            period=ln.period,
            kind=ln.kind,
            memo=ln.memo,
            amount=ln.amount,
            balance=ln.balance,
        )
        for ln in reversed(st.lines)
    ]
    model = AccountPublic(
        code=st.account.code,
        name=st.account.name,
        balance=st.account.balance,
        period=period.code if period else None,
        deduction=period.deduction.describe() if period else None,
        statement=lines,
        catalogue=_goods(state),
        buy_key=uuid.uuid4().hex,
        bought=bought,
    )
    return render(request, "account.html", model, user=user)


@twin(router, "/account", model=AccountPublic)
def my_account(request: Request, state: State, user: CurrentUser, bought: str = "") -> Response:
    """The signed-in person's account: balance, statement, catalogue."""
    return _account_page(request, state, user, _own(user), bought)


@twin(router, "/accounts/{code}", model=AccountPublic)
def account_by_code(code: str, request: Request, state: State, user: CurrentUser) -> Response:
    """An account by its code: only its holder may see it."""
    return _account_page(request, state, user, _own(user, code))


@router.get("/account/statement.csv", response_class=PlainTextResponse)
def statement_csv(state: State, user: CurrentUser) -> Response:
    """The signed-in person's statement as CSV (with the deduction in force on each line)."""
    code = _own(user)
    text = state.accounts.statement(code).to_csv()
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="statement-{code}.csv"'},
    )


@twin(router, "/catalogue", model=CataloguePublic)
def catalogue(request: Request, state: State, user: MaybeUser) -> Response:
    """Goods priced in hours (labour value × price/value ratio), with stock."""
    period = state.accounts.current_period()
    return render(
        request,
        "catalogue.html",
        CataloguePublic(period=period.code if period else None, goods=_goods(state)),
        user=user,
    )


class BuyResult(BaseModel):
    ok: bool = True
    transaction: int
    good: str
    quantity: int
    price: Decimal
    cost: Decimal
    balance: Decimal


@router.post(
    "/account/buy", dependencies=[Depends(check_csrf)], response_model=BuyResult, responses=REDIRECT
)
def buy(
    request: Request,
    state: State,
    user: CurrentUser,
    good: Annotated[str, Form()],
    quantity: Annotated[int, Form(ge=1, le=1_000_000)] = 1,
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Buy ``quantity`` of ``good`` with the signed-in person's hours."""
    request.app.state.limiter.hit(client_key(request), "buying", state.settings.rate_limit_buying)
    code = _own(user)
    try:
        p = state.accounts.buy(code, good, quantity, key=f"web:{user.id}:{key or uuid.uuid4().hex}")
    except GosplanError as exc:
        raise _error(
            exc, "good" if isinstance(exc, acc.UnknownGood | acc.OutOfStock) else "quantity"
        ) from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            BuyResult(
                transaction=p.transaction_id,
                good=p.good,
                quantity=p.quantity,
                price=p.price,
                cost=p.cost,
                balance=state.accounts.balance(code),
            ).model_dump_json(),
            media_type="application/json",
        )
    return RedirectResponse(f"/account?bought={p.quantity}+%C3%97+{p.good}", status_code=303)
