"""The account page's catalogue table, kept with marks and filled per answer
(web/account_catalogue.py), is byte for byte the direct rendering of its template."""

from __future__ import annotations

from decimal import Decimal

import pytest
from starlette.requests import Request

from gosplan.labourtime.records import GoodInfo
from gosplan.web.account_catalogue import (
    Catalogue,
    GoodPublic,
    _render_table,
    _Static,
    good_public,
)
from gosplan.web.page_cache import CSRF_MARK, FRESH_MARK


def _request(lang: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/account",
            "query_string": b"",
            "headers": [(b"cookie", f"lang={lang}".encode())],
        }
    )


def _goods() -> list[GoodPublic]:
    def good(code: str, name: str, price: str, stock: int, funds: list[str] = ()) -> GoodPublic:  # type: ignore[assignment]
        return GoodPublic(
            code=code,
            name=name,
            unit="kg",
            unit_words="kg <&> \"'",
            product=None,
            labour_value=Decimal("1.234"),
            ratio=Decimal("1.1"),
            price=Decimal(price),
            stock=stock,
            free=bool(funds),
            funds=list(funds),
            funds_words="health & <education>" if funds else "",
        )

    return [
        good("bread", "Bread <b>&</b> \"rolls\" 'fresh'", "2.5", 10),
        good("care", "Health care", "0", 0, ["health"]),
        good("coat", "Coat", "40.125", 3),
        good("milk", "Milk", "1", 0),
        good("salt-1", "Salt 1", "0.5", 1),
    ]


def _direct(request: Request, goods: list[GoodPublic], balance: Decimal, key: str) -> str:
    """What the account page rendered before the table was kept: the template for these
    goods and the goods the balance affords, the token and the form key filled in."""
    affordable = frozenset(g.code for g in goods if not g.price > balance)
    text = _render_table(request, goods, affordable, CSRF_MARK, FRESH_MARK)
    return text.replace(CSRF_MARK, "tok-123").replace(FRESH_MARK, key)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_filled_table_is_the_templates_own_rendering(lang: str) -> None:
    goods = _goods()
    static = _Static(goods, _request(lang))
    assert static.parts is not None  # the table is kept, not rendered for each answer
    stocks_cases = [
        [g.stock for g in goods],
        [0, 0, 0, 0, 0],
        [7, 0, 1, 12345, 0],
        [1, 0, 999, 2, 3],
    ]
    balances = ["0", "0.5", "2.4999", "2.5", "40.124", "40.125", "1000", "-3"]
    for stocks in stocks_cases:
        kept = Catalogue(static, stocks)
        assert [g.stock for g in kept.goods] == stocks
        assert [d["stock"] for d in kept.json] == stocks
        assert kept.json == [g.model_dump(mode="json") for g in kept.goods]
        now = [g.model_copy(update={"stock": s}) for g, s in zip(goods, stocks, strict=True)]
        for b in balances:
            request = _request(lang)
            got = str(kept.table(request, Decimal(b), "tok-123", "k9"))
            want = _direct(request, now, Decimal(b), "k9")
            assert got == want, (stocks, b)
            # a good out of stock or dearer than the balance has its button disabled
            disabled = got.count("disabled>")
            assert disabled == sum(
                1
                for g, s in zip(goods, stocks, strict=True)
                if not g.free and (s < 1 or g.price > Decimal(b))
            )
    # the name is escaped where it is written
    assert "Bread &lt;b&gt;&amp;&lt;/b&gt;" in got
    assert "<b>" not in got


def test_an_empty_catalogue_is_the_templates_own_rendering() -> None:
    request = _request("en")
    kept = Catalogue(_Static([], request), [])
    assert str(kept.table(request, Decimal(5), "tok-123", "k")) == _direct(
        request, [], Decimal(5), "k"
    )


def test_the_catalogue_of_the_ledger_reads_each_goods_stock() -> None:
    info = GoodInfo("x", "X", "kg", None, Decimal(1), Decimal(1), Decimal(2), 4)
    request = _request("en")
    static = _Static([good_public(info, None, request)], request)
    kept = Catalogue(static, [0])
    html = str(kept.table(request, Decimal(10), "t", "k"))
    assert '<td class="num stock">0</td>' in html and 'max="0"' in html
    assert '<button type="submit" disabled>' in html
