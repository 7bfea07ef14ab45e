"""On a phone (390 px wide, a mobile browser that honours the page's viewport) the main
pages of every role do not scroll sideways: ``scrollWidth <= innerWidth == 390``, in
Portuguese (the longer words) and English; wide tables scroll inside their own box, and
every link of the header lies on the screen. (Every other page is held to the same in
test_web_a11y, which loads each page a role can reach in a 390 px window.)

The screenshots in docs/screenshots/phone/ are made by scripts/screenshots.py, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .livesite import become
from .test_web_browser import server  # noqa: F401  (the fixture: one server per module)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

#: who (None: the public) and the main pages of their jobs
MAIN_PAGES: list[tuple[str | None, list[str]]] = [
    (
        None,
        [
            "/",
            "/economy",
            "/plan",
            "/enterprises",
            "/fulfilment",
            "/criticism",
            "/decisions",
            "/integrity",
            "/log",
            "/log/1",
            "/login",
            "/register",
            "/receipts/verify",
        ],
    ),
    ("ana", ["/account", "/me", "/decisions/1"]),
    ("carla", ["/enterprise/textile-coop", "/fulfilment"]),
    ("diego", ["/plan", "/decisions", "/decisions/1"]),
    ("elena", ["/fulfilment", "/integrity", "/criticism"]),
    ("ada", ["/users", "/runs", "/me"]),
]


def phone_context(browser: Any, server: str, lang: str) -> Any:  # noqa: F811
    ctx = browser.new_context(
        base_url=server,
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=lang,
        extra_http_headers={"accept-language": lang},
    )
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture(params=["pt-BR", "en"])
def phone(request: pytest.FixtureRequest, browser: Any, server: str) -> Iterator[Any]:  # noqa: F811
    ctx = phone_context(browser, server, request.param)
    yield ctx
    ctx.close()


def widths(page: Any) -> tuple[int, int]:
    """(the document's scroll width, the window's inner width) in CSS pixels."""
    sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return int(sw), int(iw)


def test_no_main_page_scrolls_sideways_on_a_phone(phone: Any, server: str) -> None:  # noqa: F811
    wide: dict[str, tuple[int, int]] = {}
    page = phone.new_page()
    for who, urls in MAIN_PAGES:
        become(phone, server, who, "admin" if who == "ada" else "")
        for url in urls:
            r = page.goto(url)
            assert r is not None and r.status == 200, (who, url, r and r.status)
            sw, iw = widths(page)
            # a page too wide for a phone's screen widens a mobile browser's window itself
            if sw > iw or iw != PHONE["width"]:
                wide[f"{url} ({who or 'public'})"] = (sw, iw)
    assert not wide, f"pages wider than a phone (scrollWidth, innerWidth): {wide}"


def test_the_navigation_fits_and_works_on_a_phone(phone: Any) -> None:
    """Every link of the header lies inside the screen, and one of them leads on."""
    page = phone.new_page()
    page.goto("/")
    links = page.locator("header a")
    assert links.count() >= 12
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.locator("header nav a[href='/plan']").click()
    page.wait_for_url("**/plan")
    assert page.get_attribute("header nav a[href='/plan']", "aria-current") == "page"
