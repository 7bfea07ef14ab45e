"""The page cache in a real Chromium (issue 16): two people of the same kind in two
browsers get the same cached pages, each with their own name, and each can act on them
(the forms carry their own session's token): Ana files a criticism from the cached
criticism page and sees it listed at once; Bruno, in the other browser, sees it within
the page cache's bound; each buys from the account page's cached catalogue."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .test_web_browser import server, sign_in  # noqa: F401 (the module's server)

pytestmark = pytest.mark.browser


@pytest.fixture
def two_pages(browser: Any, server: str) -> Iterator[tuple[Any, Any]]:  # noqa: F811
    ctxs = [browser.new_context(base_url=server) for _ in range(2)]
    for c in ctxs:
        c.set_default_timeout(15_000)
    yield ctxs[0].new_page(), ctxs[1].new_page()
    for c in ctxs:
        c.close()


def test_two_people_share_cached_pages_each_with_their_own_name_and_forms(
    two_pages: tuple[Any, Any],
) -> None:
    ana, bruno = two_pages
    sign_in(ana, "ana")
    sign_in(bruno, "bruno")
    for _ in range(2):  # the second visit of each is answered from the cache
        for page, name in ((ana, "Ana Souza"), (bruno, "Bruno Lima")):
            page.goto("/criticism")
            assert page.locator("header .who a[href='/me']").inner_text() == name
    # Ana files from the cached page: its form carries her session's token
    text = f"cached page, filed at {time.time_ns()}"
    ana.select_option("#target", "grain-farm")
    ana.fill("textarea[name=content]", text)
    ana.click("#file-criticism button[type=submit]")
    ref = ana.inner_text("#ref")
    assert re.fullmatch(r"C-[0-9A-F]{10}", ref)
    ana.goto("/criticism")  # at once, for whoever filed it
    assert ana.locator(f"text={text}").count() >= 1
    deadline = time.monotonic() + 3.0  # the bound (1 s) and a margin
    while True:
        bruno.goto("/criticism")
        if bruno.locator(f"text={text}").count():
            break
        assert time.monotonic() < deadline, "Bruno never saw Ana's criticism"
        time.sleep(0.2)
    # each buys from the account page's cached catalogue (a token and form key of their own)
    for page in (ana, bruno):
        page.goto("/account")
        before = page.get_attribute("#balance", "data-hours")
        row = page.locator("#catalogue tbody tr").filter(has=page.locator("button:not([disabled])"))
        row.first.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/account\?bought=.*"))
        assert page.locator("#bought").count() == 1
        assert page.get_attribute("#balance", "data-hours") != before
