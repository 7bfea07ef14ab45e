"""Every link a role can reach works: a crawl of the live site (uvicorn, Chromium's request
client with the role's session) from the home page, following every same-origin anchor
with GET, the ``.json`` twins and downloads included, finds no status of 400 or more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .livesite import ROLE_IDS, ROLES, become, crawl
from .test_web_browser import server  # noqa: F401  (the fixture: one server per module)

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser: Any, server: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(base_url=server)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.mark.parametrize(("username", "role"), ROLES, ids=ROLE_IDS)
def test_no_link_is_broken(context: Any, server: str, username: str | None, role: str) -> None:  # noqa: F811
    become(context, server, username, role)
    found = crawl(context, server)
    assert not found.broken, f"broken links for the {role}: {found.broken}"
    # the crawl reached the pages of the navigation, their twins and the home page's twin
    for route in ("/", "/economy", "/plan", "/enterprises", "/log", "/log/{n}", "/decisions"):
        assert route in found.pages, (role, sorted(found.pages))
    assert any(u.endswith(".json") and s == 200 for u, s in found.status.items())
    assert found.status.get("/index.json") == 200  # the home page's twin
    # the sign-in form's twin (what the form takes) is linked and answers
    assert found.status.get("/login.json", 200) == 200
    if username:  # signed in: the person's own page
        assert "/me" in found.pages
    # the language switch answers with a redirect back to the page
    assert any(u.startswith("/lang/") and s == 303 for u, s in found.status.items())
