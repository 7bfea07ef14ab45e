"""The account page's catalogue table, kept with marks and filled per answer
(web/account_catalogue.py), is byte for byte the direct rendering of its template."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
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

from .conftest import login


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


def _direct_page(client: TestClient, path: str, lang: str, page: str) -> str:
    """The account page as rendering its template directly would write it (from its JSON
    twin, the person in the store, the catalogue's template rendered in place), with this
    page's token and form key."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from gosplan.storage.users import User
    from gosplan.web.render import TEMPLATES
    from gosplan.web.routes.accounts import AccountPublic, balance_chart

    data = client.get(path.replace("?", ".json?") if "?" in path else f"{path}.json").json()
    model = AccountPublic(**data)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page)
    key = re.search(r'name="key" value="([0-9a-f]{32})-', page)
    assert tok and key
    url = path.split("?")[0]
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": url,
            "query_string": path.partition("?")[2].encode(),
            "headers": [(b"cookie", f"lang={lang}".encode()), (b"host", b"testserver")],
            "scheme": "http",
            "server": ("testserver", 80),
        }
    )
    with Session(client.app.state.gosplan.engine) as s:  # type: ignore[attr-defined]
        user = s.scalar(select(User).where(User.account == model.code))
    balance = model.balance
    affordable = frozenset(g.code for g in model.catalogue if not g.price > balance)
    table = _render_table(request, model.catalogue, affordable, tok[1], key[1])
    query = path.partition("?")[2]
    return TEMPLATES.env.get_template("account.html").render(
        request=request,
        m=model,
        user=user,
        csrf=tok[1],
        json_url=f"{url}.json" + (f"?{query}" if query else ""),
        chart=balance_chart(model),
        catalogue_html=Markup(table),
    )


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_kept_account_page_is_the_templates_own_rendering(
    client: TestClient, lang: str
) -> None:
    tok = login(client, "bruno")
    client.cookies.set("lang", lang)
    cheap = min(
        (g for g in client.get("/catalogue.json").json()["goods"] if not g["free"]),
        key=lambda g: Decimal(g["price"]),
    )
    for step in range(3):
        if step:  # a purchase of one's own: the statement, the balance and the stock move
            r = client.post(
                "/account/buy",
                data={"good": cheap["code"], "key": f"k{step}", "csrf_token": tok},
                headers={"accept": "application/json"},
            )
            assert r.status_code == 200, r.text
        for path in (
            "/account",
            "/accounts/person:bruno",
            f"/account?bought=1&good={cheap['code']}",
        ):
            for _ in range(2):  # built, then kept
                page = client.get(path).text
                assert page == _direct_page(client, path, lang, page), (step, path)
                # every data table scrolls in its own box, the catalogue's too
                assert page.count('<table class="data"') == page.count('tabindex="0"') > 2
        # the .json twin, kept likewise: a new form key each time, the current catalogue
        built, kept = (client.get("/account.json").json() for _ in range(2))
        assert built["buy_key"] != kept["buy_key"]
        assert {**built, "buy_key": ""} == {**kept, "buy_key": ""}
        assert kept["catalogue"] == client.get("/catalogue.json").json()["goods"]
        assert kept["statement"][0]["balance"] == kept["balance"]
        assert len(kept["statement"]) == len(built["statement"])
