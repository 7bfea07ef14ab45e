"""My account: balance, statement, the catalogue of goods priced in hours, buying.

A person sees only their own account: there is no page that shows another
person's balance or statement, and ``/accounts/{code}`` refuses anyone but
its holder.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import (
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from markupsafe import Markup
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import accounts as acc
from gosplan.storage import page_heads
from gosplan.storage.users import User
from gosplan.web import i18n
from gosplan.web.account_catalogue import (
    CATALOGUE_MARK,
    CATALOGUE_TABLES,
    GoodPublic,
    catalogue_of,
    filled,
    good_public,
    json_filled,
)
from gosplan.web.deps import CurrentUser, MaybeUser, State
from gosplan.web.page_cache import BUILDING, cache_of
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.security import check_csrf, client_key
from gosplan.web.units import FUND_LABELS, funds_in_words

router = APIRouter(tags=["accounts"])


class CataloguePublic(BaseModel):
    period: str | None
    goods: list[GoodPublic]


class FundPart(BaseModel):
    """A social fund's part of a deduction: hours, and its share of the deduction."""

    fund: str
    label: str
    hours: Decimal
    share: Decimal


class LinePublic(BaseModel):
    transaction: int
    posted_at: str
    period: str | None
    kind: str
    #: the transaction's memo (it speaks of the whole transaction, e.g. a whole approval)
    memo: str
    #: this line in words, for this account alone (e.g. your own hours worked)
    words: str
    amount: Decimal
    balance: Decimal
    #: work lines: your own hours worked (gross), the deduction by fund, the enterprise
    gross: Decimal | None = None
    deduction: Decimal | None = None
    deducted: list[FundPart] = []
    enterprise: str | None = None
    enterprise_name: str = ""


class Reconciliation(BaseModel):
    """The statement in five numbers: gross − deduction = net credit; net credit −
    purchases + other corrections = balance."""

    gross_hours: Decimal
    deduction_hours: Decimal
    deduction_by_fund: list[FundPart]
    net_credit: Decimal
    purchases: Decimal
    other: Decimal
    balance: Decimal


class FundShare(BaseModel):
    fund: str
    label: str
    share: Decimal
    free: bool


class BalancePoint(BaseModel):
    transaction: int
    posted_at: str
    balance: Decimal


class AccountPublic(BaseModel):
    code: str
    name: str
    balance: Decimal
    unit: str = "hours"
    period: str | None
    deduction: str | None
    deduction_rate: Decimal | None = None
    deduction_funds: list[FundShare] = []
    reconciliation: Reconciliation
    balance_over_time: list[BalancePoint]
    statement: list[LinePublic]
    catalogue: list[GoodPublic]
    buy_key: str
    bought: str = ""


def _goods(state: State, request: Request) -> list[GoodPublic]:
    return catalogue_of(state, request).goods


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


def _parts(deducted: dict[str, Decimal], request: Request) -> list[FundPart]:
    _ = i18n.translator(request)
    total = sum(deducted.values(), Decimal(0))
    return [
        FundPart(
            fund=f,
            label=_(FUND_LABELS.get(f, f)),
            hours=h,
            share=(h / total).quantize(Decimal("0.0001")) if total else Decimal(0),
        )
        for f, h in deducted.items()
    ]


def _words(ln: acc.StatementLine, request: Request, goods: dict[str, str]) -> str:
    """One statement line in words, for this account alone."""
    _ = i18n.translator(request)
    loc = i18n.locale_of(request)

    def h(x: Decimal) -> str:
        return i18n.format_number(loc, float(x), 2)

    if ln.gross is not None:
        deducted = sum(ln.deducted.values(), Decimal(0))
        text = _(
            "You worked %(gross)s h in %(enterprise)s (period %(period)s); the deduction for "
            "the social funds took %(deducted)s h; %(net)s h were credited to you.",
            gross=h(abs(ln.gross)),
            enterprise=ln.enterprise_name or ln.enterprise or "",
            period=ln.period or "—",
            deducted=h(abs(deducted)),
            net=h(abs(ln.amount)),
        )
        if ln.gross < 0:
            return _("Correction: an approval was reversed. %(what)s", what=text)
        return text
    if ln.kind == "purchase":
        m = re.match(r"bought (\d+) × (\S+) at ", ln.memo)
        if m:
            return _(
                "You bought %(n)s × %(good)s for %(cost)s h.",
                n=m[1],
                good=goods.get(m[2], m[2]),
                cost=h(abs(ln.amount)),
            )
        m = re.match(r"bought a basket of (\d+) good\(s\), (\d+) unit\(s\)", ln.memo)
        if m:
            return _(
                "You bought a basket of %(goods)s goods (%(units)s units) for %(cost)s h.",
                goods=m[1],
                units=m[2],
                cost=h(abs(ln.amount)),
            )
        return _("Purchase: %(cost)s h.", cost=h(abs(ln.amount)))
    if ln.kind == "reversal":
        return _("Correction: %(memo)s", memo=ln.memo)
    return ln.memo


def _reconcile(
    lines: list[acc.StatementLine], balance: Decimal, request: Request
) -> Reconciliation:
    gross = deducted = net = bought = Decimal(0)
    funds: dict[str, Decimal] = {}
    for ln in lines:
        if ln.gross is not None:
            gross += ln.gross
            net += ln.amount
            for f, x in ln.deducted.items():
                funds[f] = funds.get(f, Decimal(0)) + x
                deducted += x
        elif ln.kind == "purchase":
            bought -= ln.amount
    return Reconciliation(
        gross_hours=gross,
        deduction_hours=deducted,
        deduction_by_fund=_parts(dict(sorted(funds.items(), key=lambda kv: -kv[1])), request),
        net_credit=net,
        purchases=bought,
        other=balance - net + bought,
        balance=balance,
    )


class _Statements:
    """Each person's statement, with the open period, kept while their account's head
    (:func:`page_heads.account_head`: its balance, its newest posting, the open and the newest
    period) is unchanged: a view of one's account costs one small query, not six. Kept by
    account code, and only ever given to a request whose signed-in person holds that account
    (``_own``): nobody sees another's statement from here. A purchase, credited hours or a
    reversal posts to the account and so shows at once, from any process."""

    MAX = 4096
    #: account pages kept, of all persons (least recently used go first)
    MAX_PAGES = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, tuple[tuple[Any, ...], Any, Any]] = OrderedDict()
        self._pages: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, state: Any, code: str) -> tuple[Any, Any, _Pages]:
        """The statement, the open period, and where the account pages rendered from them
        are kept (under the account's head: a page of an older head is never answered)."""
        head = page_heads.account_head(state.engine, code)
        pages = _Pages(self, None if head is None else (code, head))
        if head is not None:
            with self._lock:
                got = self._kept.get(code)
                if got is not None and got[0] == head:
                    self._kept.move_to_end(code)
                    return got[1], got[2], pages
        # read after the head: at least as new as it (a newer one is kept under the older
        # head, and the next view, seeing the newer head, reads again)
        st, period = state.accounts.statement_and_period(code)
        if head is not None:
            with self._lock:
                self._kept[code] = (head, st, period)
                while len(self._kept) > self.MAX:
                    self._kept.popitem(last=False)
        return st, period, pages

    def page(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            got = self._pages.get(key)
            if got is not None:
                self._pages.move_to_end(key)
            return got

    def keep_page(self, key: tuple[Any, ...], page: Any) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)


class _Pages:
    """The account pages kept for one statement (by language, address, the person's words
    and the catalogue's static part): nothing is kept where the account has no head."""

    def __init__(self, kept: _Statements, prefix: tuple[Any, ...] | None) -> None:
        self.kept = kept
        self.prefix = prefix

    def get(self, key: tuple[Any, ...]) -> Any:
        return None if self.prefix is None else self.kept.page((self.prefix, key))

    def put(self, key: tuple[Any, ...], page: Any) -> None:
        if self.prefix is not None:
            self.kept.keep_page((self.prefix, key), page)


def _statements(request: Request) -> _Statements:
    kept: _Statements | None = getattr(request.app.state, "account_statements", None)
    if kept is None:
        kept = request.app.state.account_statements = _Statements()
    return kept


def _account_model(
    request: Request, st: Any, period: Any, names: dict[str, str], bought: str, good: str
) -> AccountPublic:
    """The account page's model from the statement and the open period (its catalogue
    empty: the page and its twin take the kept catalogue's own)."""
    _ = i18n.translator(request)
    lines = [
        LinePublic(
            transaction=ln.transaction_id,
            posted_at=ln.posted_at,
            period=ln.period,
            kind=ln.kind,
            memo=ln.memo,
            words=_words(ln, request, names),
            amount=ln.amount,
            balance=ln.balance,
            gross=ln.gross,
            deduction=None if ln.gross is None else sum(ln.deducted.values(), Decimal(0)),
            deducted=_parts(ln.deducted, request),
            enterprise=ln.enterprise,
            enterprise_name=ln.enterprise_name,
        )
        for ln in reversed(st.lines)
    ]
    # only a whole number and a good of the catalogue are echoed: a link cannot make the
    # page claim a purchase of something else
    bought = (
        _("%(n)s × %(good)s", n=bought, good=names[good])
        if bought.isdigit() and good in names
        else ""
    )
    ded = period.deduction if period else None
    model = AccountPublic(
        code=st.account.code,
        name=st.account.name,
        balance=st.account.balance,
        period=period.code if period else None,
        deduction=ded.describe() if ded else None,
        deduction_rate=ded.rate if ded else None,
        deduction_funds=[
            FundShare(
                fund=f,
                label=_(FUND_LABELS.get(f, f)),
                share=s,
                free=f in acc.FREE_PURPOSES,
            )
            for f, s in sorted((ded.shares if ded else {}).items(), key=lambda kv: -kv[1])
        ],
        reconciliation=_reconcile(st.lines, st.account.balance, request),
        balance_over_time=[
            BalancePoint(transaction=ln.transaction_id, posted_at=ln.posted_at, balance=ln.balance)
            for ln in st.lines
        ],
        statement=lines,
        catalogue=[],  # the page shows the catalogue's own table; the JSON its own JSON
        buy_key=uuid.uuid4().hex,
        bought=bought,
    )
    return model


def _account_page(
    request: Request, state: State, user: User, code: str, bought: str = "", good: str = ""
) -> Response:
    try:
        st, period, pages = _statements(request).get(state, code)
    except GosplanError as exc:
        raise _error(exc, "account") from exc
    kept = catalogue_of(state, request)
    as_json = wants_json(request)
    # the page as rendered from this statement for this language, address and person, with
    # marks where the session's token and the catalogue (stock, balance) go
    url = request.url
    page_key: tuple[Any, ...] = (
        *(kept.static, i18n.locale_of(request), url.path, url.query, bought, good),
        *(user.id, user.username, user.display_name, user.role, user.account, user.enterprise),
    )
    page = pages.get(page_key)
    if page is not None:
        return (
            json_filled(page, kept) if as_json else filled(request, page, kept, st.account.balance)
        )
    model = _account_model(request, st, period, kept.static.names, bought, good)
    if as_json:  # kept less the catalogue (kept with the catalogue) and the form key
        data = model.model_dump(mode="json")
        pages.put(page_key, data)
        return json_filled(data, kept)
    setattr(request.state, BUILDING, True)  # the session's token as a mark
    try:
        resp = render(
            request,
            "account.html",
            model,
            user=user,
            chart=balance_chart(model),
            catalogue_html=Markup(CATALOGUE_MARK),
        )
    finally:
        setattr(request.state, BUILDING, False)
    page = (bytes(resp.body).decode(), resp.headers.get("link"))
    pages.put(page_key, page)
    return filled(request, page, kept, st.account.balance)


def balance_chart(model: AccountPublic, width: int = 640, height: int = 200) -> dict[str, Any]:
    """The balance over time as an inline SVG's geometry (the page CSP allows no scripts):
    one step per posting, the y axis from 0 to the highest balance."""
    pts = model.balance_over_time
    if not pts:
        return {}
    left, right, top, bottom = 56, 8, 10, 24
    top_value = max(float(max(p.balance for p in pts)), 1.0)
    n = len(pts)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / max(n - 1, 1))

    def y(v: Decimal) -> float:
        return top + (height - top - bottom) * (1 - float(v) / top_value)

    # a step line: the balance holds until the next posting moves it
    line = [(x(0), y(Decimal(0)))]
    dots = []
    for i, p in enumerate(pts):
        if i:
            line.append((x(i), line[-1][1]))
        line.append((x(i), y(p.balance)))
        dots.append((x(i), y(p.balance), p))
    ticks = [(y(Decimal(repr(top_value * k / 4))), top_value * k / 4) for k in range(5)]
    return {
        "width": width,
        "height": height,
        "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in line),
        "dots": dots,
        "first": pts[0].posted_at,
        "last": pts[-1].posted_at,
        "ticks": ticks,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
    }


@twin(router, "/account", model=AccountPublic)
def my_account(
    request: Request, state: State, user: CurrentUser, bought: str = "", good: str = ""
) -> Response:
    """The signed-in person's account: what they worked, what the deduction took, what was
    credited and spent, the balance over time, the catalogue."""
    return _account_page(request, state, user, _own(user), bought[:20], good[:64])


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
    return cache_of(request).serve(
        request, CATALOGUE_TABLES, lambda who: _catalogue(request, state, who), user=user
    )


def _catalogue(request: Request, state: State, user: Any) -> Response:
    period = state.accounts.current_period()
    return render(
        request,
        "catalogue.html",
        CataloguePublic(period=period.code if period else None, goods=_goods(state, request)),
        user=user,
    )


class BuyResult(BaseModel):
    ok: bool = True
    transaction: int
    good: str
    #: the good in words: its name and its unit
    name: str
    unit_words: str
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
    _ = i18n.translator(request)
    try:
        p = state.accounts.buy(code, good, quantity, key=f"web:{user.id}:{key or uuid.uuid4().hex}")
    except acc.ProvidedFree as exc:
        info = state.accounts.good(good)
        raise HTTPException(
            status_code=409,
            detail="good: "
            + _(
                "%(name)s is provided free for all from %(funds)s: it is never sold, so "
                "nothing was bought and nothing was charged.",
                name=info.name,
                funds=funds_in_words(info.funds, request),
            ),
        ) from exc
    except GosplanError as exc:
        raise _error(
            exc, "good" if isinstance(exc, acc.UnknownGood | acc.OutOfStock) else "quantity"
        ) from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        bought = good_public(state.accounts.good(p.good), state.economy.year, request)
        # the balance from the account's row, which the ledger holds equal to its postings
        # (check_integrity): one query, not the postings summed
        head = page_heads.account_head(state.engine, code)
        balance = (
            acc.to_hours(head[1])
            if head is not None and head[1] is not None
            else state.accounts.balance(code)
        )
        return Response(
            BuyResult(
                transaction=p.transaction_id,
                good=p.good,
                name=bought.name,
                unit_words=bought.unit_words,
                quantity=p.quantity,
                price=p.price,
                cost=p.cost,
                balance=balance,
            ).model_dump_json(),
            media_type="application/json",
        )
    return RedirectResponse(
        f"/account?bought={p.quantity}&good={quote(p.good, safe='')}", status_code=303
    )
