"""On a phone (a 390 px wide window) no page scrolls sideways: for every role, every HTML
route its crawl reaches has ``document.documentElement.scrollWidth <= window.innerWidth``
(wide tables scroll inside their own box), and the navigation stays reachable.

The screenshots in docs/screenshots/ are made by scripts/screenshots.py, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .livesite import ROLE_IDS, ROLES, crawl, sign_in
from .test_web_browser import browser, server  # noqa: F401  (fixtures: one server here)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NOT_OURS = ("/docs", "/redoc")


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(
        base_url=server, viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def widths(page: Any) -> tuple[int, int]:
    """(the document's scroll width, the window's inner width) in CSS pixels."""
    sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(sw), int(iw)


@pytest.mark.parametrize(("username", "role"), ROLES, ids=ROLE_IDS)
def test_no_page_scrolls_sideways_on_a_phone(
    phone: Any,
    server: str,  # noqa: F811
    username: str | None,
    role: str,
) -> None:
    if username:
        sign_in(phone, server, username)
    pages = [
        urls[0]
        for route, urls in sorted(crawl(phone, server, pages_only=True).pages.items())
        if not route.startswith(NOT_OURS)
    ]
    assert len(pages) >= 10, pages
    page = phone.new_page()
    wide: dict[str, tuple[int, int]] = {}
    for url in pages:
        page.goto(url)
        sw, iw = widths(page)
        assert iw == PHONE["width"], (url, iw)
        if sw > iw:
            wide[url] = (sw, iw)
    assert not wide, f"pages wider than a phone for the {role} (scrollWidth, innerWidth): {wide}"


def test_the_navigation_fits_and_works_on_a_phone(phone: Any) -> None:
    """Every link of the header lies inside the screen, and one of them leads on."""
    page = phone.new_page()
    page.goto("/")
    links = page.locator("header a")
    assert links.count() >= 10
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        if box is None:  # inside a closed menu: open it first
            page.locator("header summary").first.click()
            box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.locator("header nav a[href='/plan']").click()
    page.wait_for_url("**/plan")
