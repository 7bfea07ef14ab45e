"""The live site as each role sees it: sign in through the login form, then crawl every
same-origin link (GET only) from the home page, for the crawl, accessibility and phone tests.

The crawl goes through the browser context's own request client (its cookies, so the
signed-in session), parses the anchors of every HTML page and follows them to the end.
Pages of one route (``/log/3``, ``/log/4`` …) are all fetched, but only the first few of each
route are parsed further, so a long public log does not make the crawl slow; the
language switch (``/lang/…``) is checked last, since following it changes the language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

#: the roles of the demonstration: (username or None for the public, role); the
#: demonstration has no administrator: :func:`add_admin` makes one
ROLES: list[tuple[str | None, str]] = [
    (None, "public"),
    ("ana", "worker"),
    ("carla", "delegate"),
    ("diego", "planner"),
    ("elena", "commission"),
    ("ada", "admin"),
]
#: pages no other page links (the imported runs): the crawl starts from them too
ROOTS = ["/", "/runs"]
ROLE_IDS = [r for _, r in ROLES]

#: what a browser asks for: pages that need a signed-in person redirect such a request to
#: the login form (a bare client gets 401)
ACCEPT = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

#: pages of one route parsed for further links (all of them are still fetched)
PARSE_PER_ROUTE = 3


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def anchors(html: str) -> list[str]:
    p = _Anchors()
    p.feed(html)
    return p.hrefs


def route_of(path: str) -> str:
    """A page's route: numbers and the codes after a collection's name become ``{}``."""
    parts = path.split("/")
    out = []
    for i, seg in enumerate(parts):
        if seg.isdigit():
            out.append("{n}")
        elif i >= 2 and parts[1] in PARAM_PARENTS and i == 2 and not seg.endswith(".json"):
            out.append("{code}")
        elif i >= 3 and parts[1] == "economy" and parts[2] == "product":
            out.append("{name}")
        else:
            out.append(seg)
    return "/".join(out)


#: collections whose second segment is a code: /enterprise/x, /accounts/x …
PARAM_PARENTS = {"enterprise", "accounts", "criticism", "integrity", "runs", "lang"}


@dataclass
class Crawl:
    """What one role's crawl found."""

    status: dict[str, int] = field(default_factory=dict)  # every URL fetched: its status
    referrer: dict[str, str] = field(default_factory=dict)  # the page that linked it
    pages: dict[str, list[str]] = field(default_factory=dict)  # HTML route -> its URLs

    @property
    def broken(self) -> dict[str, tuple[int, str]]:
        return {u: (s, self.referrer.get(u, "")) for u, s in self.status.items() if s >= 400}


def add_admin(database_url: str, username: str = "ada") -> None:
    """An administrator in the served store (once), with the demonstration's password."""
    from gosplan.services import users
    from gosplan.storage.base import make_engine, session_scope
    from gosplan.storage.users import User

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            if s.query(User).filter_by(username=username).first() is None:
                users.register(s, username, "demo-password", role="admin", display_name="Ada Admin")
    finally:
        engine.dispose()


def sign_in(context: Any, base: str, username: str) -> None:
    """Sign ``username`` in through the login form's POST (with its CSRF token)."""
    page = context.request.get(f"{base}/login")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text())
    assert m, "the login page carries a CSRF token"
    r = context.request.post(
        f"{base}/login",
        form={"username": username, "password": "demo-password", "csrf_token": m.group(1)},
        max_redirects=0,
    )
    assert r.status == 303, r.text()


def become(context: Any, base: str, username: str | None, role: str) -> None:
    """Sign ``context`` in as ``username`` (the public: nobody), making the administrator
    first in the store the module's server serves."""
    if username is None:
        return
    if role == "admin":
        from .test_web_browser import SERVED

        add_admin(SERVED["settings"].database_url, username)
    sign_in(context, base, username)


def crawl(context: Any, base: str, *, pages_only: bool = False) -> Crawl:
    """Fetch every same-origin link reachable from :data:`ROOTS`, as ``context``'s user.

    ``pages_only``: only what may be an HTML page, and only the first few pages of a route
    (for the checks that need one page of each kind, not every link)."""
    origin = urlsplit(base).netloc
    out = Crawl()
    parsed: dict[str, int] = defaultdict(int)
    queued: dict[str, int] = defaultdict(int)
    queue = list(ROOTS)
    lang: list[str] = []
    seen = set(ROOTS)
    while queue:
        url = queue.pop(0)
        r = context.request.get(f"{base}{url}", headers=ACCEPT, max_redirects=5)
        out.status[url] = r.status
        ctype = r.headers.get("content-type", "")
        if r.status >= 400 or "text/html" not in ctype:
            continue
        path = urlsplit(url).path
        route = route_of(path)
        out.pages.setdefault(route, []).append(url)
        if parsed[route] >= PARSE_PER_ROUTE:
            continue
        parsed[route] += 1
        for href in anchors(r.text()):
            full = urldefrag(urljoin(f"{base}{url}", href))[0]
            parts = urlsplit(full)
            if parts.scheme not in ("http", "https") or parts.netloc != origin:
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link in seen:
                continue
            if pages_only:
                if parts.path.endswith((".json", ".csv")) or parts.path.startswith("/lang/"):
                    continue
                if queued[route_of(parts.path)] >= PARSE_PER_ROUTE:
                    continue
                queued[route_of(parts.path)] += 1
            seen.add(link)
            out.referrer[link] = url
            (lang if parts.path.startswith("/lang/") else queue).append(link)
    for link in lang:  # last: following one changes the language of the session
        r = context.request.get(f"{base}{link}", headers=ACCEPT, max_redirects=0)
        out.status[link] = r.status
    return out
