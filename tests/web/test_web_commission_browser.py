"""In headless Chromium: the control commission sees a retaliation warning and an
appointment check with its path of ties (English and Portuguese); a refused sign-in or
registration keeps what was typed with the error by its field; an error page shows who is
signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import make_settings, seeded_copy
from .served import serving
from .test_web_commission import seed_control

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, economy_dir: Path, _drop_templates: None
) -> Iterator[str]:
    """The seeded demonstration with the control register of ``seed_control``, served by
    uvicorn in a thread."""
    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("commission-browser")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    app = create_app(make_settings(url, folder, economy_dir), migrate=False)
    seed_control(app.state.gosplan)
    with serving(app) as base:
        yield base


def _page(browser: Any, server: str, locale: str) -> Any:
    ctx = browser.new_context(base_url=server, locale=locale)
    ctx.set_default_timeout(15_000)
    return ctx, ctx.new_page()


@pytest.fixture(params=["en-GB", "pt-BR"])
def page(request: pytest.FixtureRequest, browser: Any, server: str) -> Iterator[Any]:
    ctx, p = _page(browser, server, request.param)
    p.set_extra_http_headers({"Accept-Language": request.param})
    yield p
    ctx.close()


def _pt(page: Any) -> bool:
    return str(page.locator("html").get_attribute("lang")) == "pt-BR"


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo-password")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_commission_sees_a_retaliation_warning(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "elena")
    page.goto("/me")
    page.click("a[href='/commission']")
    page.wait_for_url(re.compile(r".*/commission$"))
    pt = _pt(page)
    warning = page.locator("article.warning").first
    expect(warning).to_contain_text(
        "Possível retaliação: rebaixamento de Ana Souza"
        if pt
        else "Possible retaliation: demotion of Ana Souza"
    )
    expect(warning).to_contain_text(
        "a quem o crítico criticou" if pt else "whom the critic criticised"
    )
    expect(warning.locator("a[href^='/criticism/C-']")).to_have_count(1)
    # the flagged appointment, with its path of ties in words
    lucia = page.locator("article.appointment").filter(
        has=page.locator("h3", has_text="Lúcia Costa")
    )
    steps = lucia.locator(".path-of-ties li")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_contain_text("parentesco (declarado)" if pt else "family (declared)")
    expect(steps.nth(2)).to_contain_text(
        "ex-colegas (encontrado em registros)" if pt else "former colleagues (found in records)"
    )
    # the one in which she sat on the panel concerns her: withheld
    joao = page.locator("article.appointment").filter(
        has=page.locator("h3", has_text="João Pereira")
    )
    expect(joao.locator(".notice")).to_contain_text("diz respeito a você" if pt else "concerns you")
    expect(joao.locator(".path-of-ties")).to_have_count(0)
    assert "person:" not in page.content()


def test_commission_checks_a_proposed_appointment(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "elena")
    page.goto("/commission")
    pt = _pt(page)
    page.select_option("#f-appointee", "lucia")
    page.select_option("#f-appointer", "paulo")
    page.check("input[name=panel][value=dir-textile]")
    page.click("#check-form button[type=submit]")
    result = page.locator("#check-result")
    expect(result).to_contain_text("Sinalizada" if pt else "Flagged")
    expect(result.locator(".finding")).to_contain_text("membro da banca" if pt else "panel member")
    expect(result.locator(".path-of-ties li")).to_have_count(3)
    # what was chosen stays chosen
    expect(page.locator("#f-appointee")).to_have_value("lucia")
    expect(page.locator("input[name=panel][value=dir-textile]")).to_be_checked()
    # a number out of range: the form comes back with the error by the field
    page.fill("#f-k", "25")
    page.click("#check-form button[type=submit]")
    expect(page.locator("#f-k-error")).to_have_text(
        "deve ser no máximo 10" if pt else "must be at most 10"
    )
    expect(page.locator("#f-k")).to_have_value("25")
    expect(page.locator("#f-appointer")).to_have_value("paulo")
    expect(page.locator("header .who")).to_contain_text("Elena Ramos")


def test_a_refused_sign_in_keeps_what_was_typed(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    pt = _pt(page)
    page.fill("#f-username", "ana")
    page.fill("#f-password", "not-her-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#f-password-error")).to_have_text(
        "nome de usuário ou senha incorretos" if pt else "wrong username or password"
    )
    expect(page.locator("#f-username")).to_have_value("ana")
    expect(page.locator("#f-password")).to_have_value("")
    expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
    # an empty username: FastAPI's validation, in words, by the field
    page.fill("#f-username", "")
    page.fill("#f-password", "x")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#f-username-error")).to_have_text(
        "este campo é obrigatório" if pt else "this field is required"
    )
    assert "Expecting value" not in page.content() and '{"ok"' not in page.content()


def test_a_refused_registration_keeps_what_was_typed(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/register")
    page.fill("#f-username", "zoe-h4")
    page.fill("#f-display_name", "Zoé Martins")
    page.fill("#f-password", "short")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#f-password-error")).to_contain_text("8")
    expect(page.locator("#f-username")).to_have_value("zoe-h4")
    expect(page.locator("#f-display_name")).to_have_value("Zoé Martins")
    page.fill("#f-username", "x" * 70)
    page.fill("#f-password", "long-enough-1")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#f-username-error")).to_contain_text("63")
    expect(page.locator("#f-display_name")).to_have_value("Zoé Martins")


def test_an_error_page_shows_who_is_signed_in(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "ana")
    r = page.goto("/commission")
    assert r is not None and r.status == 403
    pt = _pt(page)
    expect(page.locator("#error-heading")).to_have_text("Não permitido" if pt else "Not allowed")
    expect(page.locator("header .who")).to_contain_text("Ana Souza")
    expect(page.locator("header .who button")).to_be_visible()  # sign out, not "sign in"
    r = page.goto("/economy/product/Gold")
    assert r is not None and r.status == 404
    expect(page.locator("header .who")).to_contain_text("Ana Souza")
    # a receipt that is not JSON: words, never the parser's text or raw JSON
    page.goto("/receipts/verify")
    page.fill("textarea[name=receipt]", "not json at all")
    page.click("#verify-receipt button[type=submit]")
    body = page.locator("main").inner_text()
    assert "Expecting value" not in body and '{"ok"' not in body
    expect(page.locator("header .who")).to_contain_text("Ana Souza")


def test_the_favicon_and_json_twins_answer(page: Any) -> None:
    page.goto("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href == "/static/favicon.svg"
    r = page.request.get(href)
    assert r.status == 200 and "svg" in r.headers["content-type"]
    for path in ("/.json", "/login.json", "/register.json", "/receipts/verify.json"):
        r = page.request.get(path)
        assert r.status == 200 and r.json()["ok"] is True, path


def test_the_pages_pass_an_accessibility_check(page: Any) -> None:
    """axe-core, WCAG 2 A and AA: the commission's pages, a refused form and an error page."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page.goto("/login")
    page.fill("#f-username", "ana")
    page.fill("#f-password", "wrong-wrong")
    page.click("#login-form button[type=submit]")
    page.locator("#f-password-error").wait_for()
    found = {"/login (refused)": axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa"]})}
    sign_in(page, "elena")
    for path in (
        "/commission",
        "/commission/check?appointee=lucia&appointer=paulo&panel=dir-textile",
        "/commission/check?appointee=lucia&appointer=paulo&k=50",
        "/users",
    ):
        page.goto(path)
        found[path] = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa"]})
    bad = {
        path: [
            (v["id"], [n["html"][:100] for n in v["nodes"][:2]]) for v in r.response["violations"]
        ]
        for path, r in found.items()
        if r.response["violations"]
    }
    assert not bad, bad


def test_the_commission_page_fits_a_phone(page: Any) -> None:
    sign_in(page, "elena")
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/commission", "/commission/check?appointee=lucia&appointer=paulo&k=50"):
        page.goto(path)
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, (path, width, inner)
