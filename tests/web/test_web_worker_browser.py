"""The worker's jobs in a real Chromium, in English and in Portuguese: she signs in,
reconciles her statement (her own hours − the deduction = the net credit; the net − what
she spent = her balance) and cannot buy health care (no button; a forged POST is refused
and her balance does not move)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from gosplan.web.demo import DEMO_HOURS

from .test_web_browser import server, sign_in  # noqa: F401 (the module's server)

pytestmark = pytest.mark.browser

#: the words each language shows (the numbers are the same in both)
WORDS = {
    "en": {
        "title": "How your balance adds up",
        "health": "health care",
        "fund": "health care fund",
    },
    "pt_BR": {
        "title": "Como se chega ao seu saldo",
        "health": "saúde",
        "fund": "fundo de saúde",
    },
}
HEALTH = "health-care"  # the code of Testland's "Health care"


@pytest.fixture(params=["en", "pt_BR"])
def lang_page(
    request: pytest.FixtureRequest,
    browser: Any,
    server: str,  # noqa: F811
) -> Iterator[tuple[Any, str]]:
    """A page and its language: English, or Portuguese chosen by the browser's
    Accept-Language."""
    locale = "pt-BR" if request.param == "pt_BR" else "en-US"
    ctx = browser.new_context(base_url=server, locale=locale)
    ctx.set_default_timeout(15_000)
    yield ctx.new_page(), str(request.param)
    ctx.close()


def _hours(page: Any, selector: str) -> Decimal:
    return Decimal(page.get_attribute(selector, "data-hours") or "nan")


def test_a_worker_reconciles_her_statement(lang_page: tuple[Any, str]) -> None:
    page, lang = lang_page
    words = WORDS[lang]
    sign_in(page, "ana")
    page.goto("/account")
    assert page.locator("#reconcile-title").inner_text() == words["title"]
    gross, ded, net = (_hours(page, s) for s in ("#gross", "#deduction", "#net"))
    assert gross == DEMO_HOURS["textile-coop"]["ana"]  # her own hours, not the cooperative's
    assert ded > 0 and gross - ded == net
    other = _hours(page, "#other") if page.locator("#other").count() else Decimal(0)
    spent = _hours(page, "#purchases")
    assert net - spent + other == _hours(page, "#balance") == _hours(page, "#balance-check")
    # the deduction by fund: health care named, the parts add up to the deduction
    funds = page.locator("#funds tbody tr[data-fund]")
    parts = [
        Decimal(funds.nth(i).locator(".hours").get_attribute("data-hours") or "0")
        for i in range(funds.count())
    ]
    assert sum(parts) == ded
    assert words["health"] in page.locator("#funds tr[data-fund=health]").inner_text()
    # the work line in words speaks of her 152 h, never of the 312 h the approval covered
    work = page.locator("#statement tr[data-kind=work]")
    assert work.count() == 1
    assert Decimal(work.locator(".gross").get_attribute("data-hours") or "0") == gross
    text = work.locator(".words").inner_text()
    assert "152" in text and "312" not in text
    # the balance over time, drawn without scripts
    assert page.locator("svg#balance-chart polyline").count() == 1
    lines = page.locator("#statement tbody tr[data-transaction]").count()
    assert page.locator("svg#balance-chart circle").count() == lines  # one dot a posting
    if lang == "en":  # the switch (a cookie) turns the same page into Portuguese
        page.goto("/lang/pt_BR?next=/account")
        assert page.locator("#reconcile-title").inner_text() == WORDS["pt_BR"]["title"]
        assert _hours(page, "#gross") == gross


def test_a_worker_cannot_buy_health_care(lang_page: tuple[Any, str]) -> None:
    page, lang = lang_page
    words = WORDS[lang]
    sign_in(page, "bruno")
    page.goto("/account")
    before = _hours(page, "#balance")
    free = page.locator(f"#free-goods li[data-good={HEALTH}]")
    assert words["fund"] in free.inner_text()
    assert page.locator(f"#catalogue tr[data-good={HEALTH}]").count() == 0
    assert page.locator(f"form.buy input[name=good][value={HEALTH}]").count() == 0
    page.goto("/catalogue")
    row = page.locator(f"#catalogue tr.free[data-good={HEALTH}]")
    assert row.locator("button").count() == 0 and words["fund"] in row.inner_text()
    # a forged purchase, with her session and a valid CSRF token, is refused
    page.goto("/account")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    r = page.request.post(
        "/account/buy",
        form={"good": HEALTH, "quantity": "1", "key": f"forged-{lang}", "csrf_token": token},
        headers={"accept": "application/json"},
    )
    assert r.status == 409
    assert r.json()["ok"] is False and "Health care" in r.json()["error"]
    page.reload()
    assert _hours(page, "#balance") == before
