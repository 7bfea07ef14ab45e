"""The catalogue as the account page and ``/catalogue`` show it, built cheaply (issue 16).

Every purchase anywhere moves the stock, and so the catalogue, but not what the catalogue
says of each good besides its stock. So the catalogue is kept in two parts:

* its **static part** in one language (:class:`_Static`: each good in words, its JSON, and the
  account page's table with its buy forms rendered ONCE, with marks where each good's stock,
  its ``max=`` and its ``disabled`` go), kept while goods, prices, units and the year are
  unchanged (compared by value, not by which tables moved);
* the **stock numbers** (:class:`Catalogue`), read with the goods whenever the page cache's
  heads of the catalogue's tables moved (as before: within ``page_cache_seconds`` for
  purchases by others, at once for the buyer's own).

The table's marks are filled for each answer from the stock and the viewer's balance; the
result is byte for byte the direct rendering of ``_account_catalogue.html``
(tests/web/test_web_account_catalogue.py). The account page itself is kept with the
person's statement (routes/accounts.py) with a mark where this table goes, filled here
(:func:`filled`, :func:`json_filled` for its ``.json`` twin) for each answer.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from pydantic import BaseModel

from gosplan.labourtime.records import GoodInfo
from gosplan.storage import page_heads
from gosplan.web import i18n
from gosplan.web.page_cache import CSRF_MARK, FRESH_MARK, cache_of
from gosplan.web.render import _scrolling_tables
from gosplan.web.security import csrf_token
from gosplan.web.units import funds_in_words, unit_in_words


class GoodPublic(BaseModel):
    code: str
    name: str
    #: the unit as stored (e.g. "0.0001 BRL million"), and in words for the reader's locale
    unit: str
    unit_words: str
    product: str | None
    labour_value: Decimal
    ratio: Decimal
    price: Decimal
    stock: int
    #: provided free for all from these social funds: never sold (no price to pay)
    free: bool = False
    funds: list[str] = []
    funds_words: str = ""


def good_public(g: GoodInfo, year: int | None, request: Request) -> GoodPublic:
    return GoodPublic(
        code=g.code,
        name=g.name,
        unit=g.unit,
        unit_words=unit_in_words(g.unit, year, request),
        product=g.product,
        labour_value=g.labour_value,
        ratio=g.ratio,
        price=g.price,
        stock=g.stock,
        free=bool(g.funds),
        funds=g.funds,
        funds_words=funds_in_words(g.funds, request) if g.funds else "",
    )


#: what the catalogue shows: goods, prices, stock (every change of stock is a move), the
#: open period
CATALOGUE_TABLES = (
    "acct_good",
    "acct_price",
    "acct_stock_move",
    "acct_period",
    page_heads.OPEN_PERIODS,
)

#: the marks of the kept table: a good's stock, and its buy button's ``disabled``
_MARK = uuid.uuid4().hex[:12]
_STOCK = f"stock-{_MARK}-"
_DISABLED = f"disabled-{_MARK}-"
_SLOT = re.compile(f"({_STOCK}|{_DISABLED})(\\d+)-")
#: the buy button as the template renders it for a good that may be bought
_BUTTON = '<button type="submit" >'


class _StockMark:
    """Where a good's stock goes in the kept table: its mark when written (never escaped:
    ASCII letters, digits and dashes), and never below 1 (the button is never disabled in
    the kept table; the marks put it there)."""

    def __init__(self, i: int) -> None:
        self.mark = f"{_STOCK}{i}-"

    def __str__(self) -> str:
        return self.mark

    def __html__(self) -> str:
        return self.mark

    def __lt__(self, other: Any) -> bool:
        return False


class _Static:
    """The catalogue's static part in one language: each good in words (its stock as read
    when it was built), their JSON less the stock, and the account page's table as fixed
    text between marks (None where the template's output could not be cut at its marks:
    then it is rendered for each answer)."""

    def __init__(self, goods: list[GoodPublic], request: Request) -> None:
        self.goods = goods
        #: each good in words by its code (the statement's lines name them so)
        self.names = {g.code: f"{g.name} ({g.unit_words})" for g in goods}
        self.json = [g.model_dump(mode="json") for g in goods]
        self.parts, self.slots = _cut(goods, request)


def _render_table(
    request: Request, goods: list[Any], affordable: frozenset[str], csrf: str, buy_key: str
) -> str:
    from gosplan.web.render import TEMPLATES

    return TEMPLATES.env.get_template("_account_catalogue.html").render(
        request=request, catalogue=goods, affordable=affordable, csrf=csrf, buy_key=buy_key
    )


def _cut(
    goods: list[GoodPublic], request: Request
) -> tuple[list[str] | None, list[tuple[bool, int]]]:
    """The table rendered with marks, cut at them: the fixed text between, and for each
    mark whether it is a button's ``disabled`` and the good's index."""
    marked = [g.model_copy(update={"stock": _StockMark(i)}) for i, g in enumerate(goods)]
    text = _render_table(request, marked, frozenset(g.code for g in goods), CSRF_MARK, FRESH_MARK)
    on_sale = [i for i, g in enumerate(goods) if not g.free]
    pieces = text.split(_BUTTON)
    if len(pieces) != len(on_sale) + 1 or _MARK in "".join(g.model_dump_json() for g in goods):
        return None, []
    text = pieces[0] + "".join(
        f'<button type="submit" {_DISABLED}{i}->' + p
        for i, p in zip(on_sale, pieces[1:], strict=True)
    )
    cut = _SLOT.split(text)  # text, kind, index, text, kind, index, …, text
    parts = cut[::3]
    slots = [(k == _DISABLED, int(i)) for k, i in zip(cut[1::3], cut[2::3], strict=True)]
    return parts, slots


class Catalogue:
    """The catalogue in one language with its current stock (see the module's docstring)."""

    def __init__(self, static: _Static, stocks: list[int]) -> None:
        self.static = static
        self.stocks = stocks
        self._goods: list[GoodPublic] | None = None
        self._json: list[Any] | None = None

    @property
    def goods(self) -> list[GoodPublic]:
        if self._goods is None:
            self._goods = [
                g if g.stock == s else g.model_copy(update={"stock": s})
                for g, s in zip(self.static.goods, self.stocks, strict=True)
            ]
        return self._goods

    @property
    def json(self) -> list[Any]:
        """The goods' JSON (``GoodPublic.model_dump(mode="json")`` of each)."""
        if self._json is None:
            self._json = [
                {**d, "stock": s} for d, s in zip(self.static.json, self.stocks, strict=True)
            ]
        return self._json

    def table(self, request: Request, balance: Decimal, csrf: str, buy_key: str) -> Markup:
        """The account page's catalogue with its buy forms for a person with ``balance``:
        a good is bought with a button, disabled where it is out of stock or costs more
        than the balance."""
        static = self.static
        if static.parts is None:
            affordable = frozenset(g.code for g in static.goods if not g.price > balance)
            text = _render_table(request, self.goods, affordable, CSRF_MARK, FRESH_MARK)
        else:
            stocks, goods = self.stocks, static.goods
            fill = [
                ("disabled" if stocks[i] < 1 or goods[i].price > balance else "")
                if disabled
                else str(stocks[i])
                for disabled, i in static.slots
            ]
            parts = static.parts
            out = [parts[0]]
            for f, p in zip(fill, parts[1:], strict=True):
                out.append(f)
                out.append(p)
            text = "".join(out)
        return Markup(text.replace(CSRF_MARK, csrf).replace(FRESH_MARK, buy_key))


class _Statics:
    """The static parts by what they show (goods in words, the year, the language): a
    purchase, which moves only the stock, finds its static part here."""

    MAX = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Any, ...], _Static] = OrderedDict()

    def get(self, infos: list[GoodInfo], year: int | None, request: Request) -> _Static:
        key = (
            i18n.locale_of(request),
            year,
            tuple(
                (g.code, g.name, g.unit, g.product, g.free_fund, *map(str, _numbers(g)))
                for g in infos
            ),
        )
        with self._lock:
            got = self._kept.get(key)
            if got is not None:
                self._kept.move_to_end(key)
                return got
        got = _Static([good_public(g, year, request) for g in infos], request)
        with self._lock:
            self._kept[key] = got
            while len(self._kept) > self.MAX:
                self._kept.popitem(last=False)
        return got


def _numbers(g: GoodInfo) -> tuple[Decimal, Decimal, Decimal]:
    return (g.labour_value, g.ratio, g.price)


def _statics(request: Request) -> _Statics:
    kept: _Statics | None = getattr(request.app.state, "account_catalogue_statics", None)
    if kept is None:
        kept = request.app.state.account_catalogue_statics = _Statics()
    return kept


def catalogue_of(state: Any, request: Request) -> Catalogue:
    """The catalogue in the request's language, kept while goods, prices and stock are
    unchanged; its static part kept while goods and prices are."""

    def compute() -> Catalogue:
        infos = state.accounts.goods()
        static = _statics(request).get(infos, state.economy.year, request)
        return Catalogue(static, [g.stock for g in infos])

    kept: Catalogue = cache_of(request).memo(
        "goods", CATALOGUE_TABLES, i18n.locale_of(request), compute, request
    )
    return kept


def json_filled(data: dict[str, Any], kept: Catalogue) -> Response:
    """A kept ``.json`` account page with the current catalogue and a new form key."""
    out = {"ok": True, **data}
    out["catalogue"] = kept.json
    out["buy_key"] = uuid.uuid4().hex
    return JSONResponse(out)


#: where the catalogue's table goes in a kept account page
CATALOGUE_MARK = "catalogue-4d8a1e6c2b9f3a7e5c0d"


def filled(
    request: Request, page: tuple[str, str | None], kept: Catalogue, balance: Decimal
) -> Response:
    """A kept account page filled for this answer: the session's token, and the catalogue
    with the current stock and the buy forms the balance allows (a new form key)."""
    token = csrf_token(request)
    # the page's filter, as the table would have met it inside the page
    table = _scrolling_tables(kept.table(request, balance, token, uuid.uuid4().hex))
    text, link = page
    out = HTMLResponse(text.replace(CSRF_MARK, token).replace(CATALOGUE_MARK, table))
    if link:
        out.headers["Link"] = link
    return out
