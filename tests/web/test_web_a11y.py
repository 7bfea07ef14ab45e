"""Every page, as every role sees it, passes axe-core's WCAG 2.0/2.1 A and AA rules in
Chromium: zero violations.

The pages are the ones the role's crawl reaches (every HTML route, its first page), checked
in both a wide window and a phone's (390 px). Each role's first page is checked whole; a
later page whose ``<main>`` is the same, to the byte (CSRF tokens aside), as one already
checked for an earlier role is not checked again: only the header differs, and that was
checked on the role's first page. Every page is also loaded in a 390 px window and must not
scroll sideways there. axe-core comes from the PyPI package
``axe-playwright-python`` (its bundled ``axe.min.js``). The page's Content-Security-Policy
forbids scripts that are not the site's own, so the axe run, and only it, uses a browser
context with ``bypass_csp=True``; every other browser test keeps the policy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import need_browser
from .livesite import ROLE_IDS, ROLES, become, crawl
from .test_web_browser import server  # noqa: F401  (the fixture: one server per module)

pytestmark = pytest.mark.browser

#: the WCAG 2 A/AA rule sets of axe-core
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: pages that are not ours: FastAPI's API documentation (served from a CDN)
NOT_OURS = ("/docs", "/redoc")
PHONE = {"width": 390, "height": 844}
#: the hashes of every ``<main>`` checked so far in this module, for any role
CHECKED: set[str] = set()


def main_hash(page: Any) -> str:
    html = page.locator("main").inner_html()
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    return hashlib.sha256(html.encode()).hexdigest()


@pytest.fixture(scope="module")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        need_browser("the axe-playwright-python package (the test extra)")
    return Axe()


#: the roles checked in Portuguese (the others in English): both languages' pages are checked
IN_PORTUGUESE = {"commission"}


@pytest.fixture
def context(browser: Any, server: str, role: str) -> Iterator[Any]:  # noqa: F811
    lang = "pt-BR" if role in IN_PORTUGUESE else "en"
    ctx = browser.new_context(
        base_url=server, bypass_csp=True, locale=lang, extra_http_headers={"accept-language": lang}
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def violations(axe: Any, page: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on ``page``, one line each (rule, impact, where)."""
    res = axe.run(
        page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    )
    out = []
    for v in res.response["violations"]:
        where = "; ".join(
            f"{' '.join(n['target'])}: {n.get('failureSummary', '')[:160]}" for n in v["nodes"][:3]
        )
        out.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}x) {where}")
    return out


@pytest.mark.parametrize(("username", "role"), ROLES, ids=ROLE_IDS)
def test_every_page_passes_axe(
    context: Any,
    server: str,  # noqa: F811
    axe: Any,
    username: str | None,
    role: str,
) -> None:
    become(context, server, username, role)
    pages = [
        urls[0]
        for route, urls in sorted(crawl(context, server, pages_only=True).pages.items())
        if not route.startswith(NOT_OURS)
    ]
    assert len(pages) >= 10, pages
    page = context.new_page()
    page.goto("/")
    assert page.get_attribute("html", "lang") == ("pt-BR" if role in IN_PORTUGUESE else "en")
    found: dict[str, list[str]] = {}
    checked = 0
    wide: dict[str, int] = {}
    for i, url in enumerate(pages):
        page.set_viewport_size(PHONE)
        page.goto(url)
        # on a phone, no page scrolls sideways (test_web_phone checks the main pages alone)
        sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if sw > iw:
            wide[url] = sw
        digest = main_hash(page)
        if i and digest in CHECKED:
            continue
        CHECKED.add(digest)
        checked += 1
        if i % 2 == 0:  # half the pages in a wide window, half in a phone's: both layouts
            page.set_viewport_size({"width": 1280, "height": 900})
        if bad := violations(axe, page):
            found[url] = bad
    assert not found, f"WCAG 2 A/AA violations for the {role}:\n" + "\n".join(
        f"{u}\n  " + "\n  ".join(v) for u, v in found.items()
    )
    assert checked >= 1
    assert not wide, f"pages wider than a 390 px window for the {role}: {wide}"


def test_the_keyboard_reaches_the_content_and_sees_where_it_is(browser: Any, server: str) -> None:  # noqa: F811
    """The first Tab shows the skip link (hidden until then), which moves focus to the
    content; every focused control has a visible outline; the current page is marked."""
    ctx = browser.new_context(base_url=server)  # the page's own CSP: nothing bypassed here
    try:
        page = ctx.new_page()
        page.goto("/plan")
        page.keyboard.press("Tab")
        skip = page.locator("a.skip")
        assert skip.evaluate("e => e === document.activeElement")
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on the screen now
        page.keyboard.press("Enter")
        assert page.locator("main").evaluate("e => e === document.activeElement")
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "[getComputedStyle(document.activeElement).outlineStyle,"
            " parseFloat(getComputedStyle(document.activeElement).outlineWidth)]"
        )
        assert outline[0] != "none" and outline[1] >= 2, outline
        assert page.get_attribute("header nav a[href='/plan']", "aria-current") == "page"
        assert page.locator("header nav[aria-label]").count() == 1
        assert page.locator("main#main").count() == 1 and page.locator("footer").count() == 1
    finally:
        ctx.close()


def test_error_pages_and_a_refused_form_pass_axe(
    browser: Any,
    server: str,  # noqa: F811
    axe: Any,
) -> None:
    """What no link leads to: a missing page, a forbidden one, a sign-in refused."""
    ctx = browser.new_context(base_url=server, bypass_csp=True)
    try:
        page = ctx.new_page()
        found: dict[str, list[str]] = {}
        r = page.goto("/no-such-page")
        assert r is not None and r.status == 404
        found["404"] = violations(axe, page)
        page.goto("/login")
        page.fill("input[name=username]", "ana")
        page.fill("input[name=password]", "not-her-password")
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state()
        assert "/login" in page.url or page.locator(".error").count()
        found["sign-in refused"] = violations(axe, page)
        become(ctx, server, "ana", "worker")
        r = page.goto("/users")
        assert r is not None and r.status == 403
        found["403"] = violations(axe, page)
        assert not any(found.values()), found
    finally:
        ctx.close()
