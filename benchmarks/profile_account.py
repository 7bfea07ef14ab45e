"""The account page's own cost, in process, as the load run meets it (issue 16).

``python -m benchmarks.profile_account``: one person (``load000``) views ``/account`` and
``/account.json``, in three cases, each ``GOSPLAN_PROFILE_REPEAT`` times (default 30)
(``GOSPLAN_PROFILE_CASE="/account own purchase"``: that case alone, with cProfile's report):

* ``same``: nothing changed since the last view;
* ``other bought``: another person (``load001``) bought a good just before, longer ago than
  the page cache's bound (the stock moved, so the catalogue changed; the viewer's own
  statement did not);
* ``own purchase``: the viewer bought a good just before (their statement and the stock
  moved).

Median wall and thread CPU time of the view alone (the purchases are not timed), on
PostgreSQL when ``GOSPLAN_BENCH_POSTGRES_URL`` or ``GOSPLAN_TEST_POSTGRES_URL`` is set (a
fresh database, dropped after), else a SQLite file.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_web import _fresh_postgres, _postgres_base, app_on, prepare
from benchmarks.profile_web import _Client, _inline_threadpool


def _login(c: _Client, user: str) -> str:
    page = c.get("/login")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert tok
    r = c.post("/login", data={"username": user, "password": "load-password", "csrf_token": tok[1]})
    assert r.status_code == 303, r.text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account").text)
    assert tok
    return tok[1]


def profile(repeat: int = 30) -> dict[str, Any]:

    folder = Path(tempfile.mkdtemp(prefix="gosplan-profile-account-"))
    postgres = _postgres_base() is not None
    dbname = f"gosplan_profile_{time.time_ns():x}"
    db_url = _fresh_postgres(True, dbname) if postgres else None
    try:
        prepare(folder, 2, db_url)
        app = app_on(folder, db_url)
        _inline_threadpool()
        out: dict[str, Any] = {"store": "PostgreSQL" if postgres else "SQLite", "cases": {}}
        with _Client(app) as me, _Client(app) as other:
            mine = _login(me, "load000")
            theirs = _login(other, "load001")
            goods = [g["code"] for g in me.get("/catalogue.json").json()["goods"] if not g["free"]]
            k = [0]

            def buy(c: _Client, tok: str) -> None:
                k[0] += 1
                r = c.post(
                    "/account/buy",
                    data={"good": goods[k[0] % len(goods)], "quantity": 1, "key": f"p{k[0]}"}
                    | {"csrf_token": tok},
                    headers={"accept": "application/json"},
                )
                assert r.status_code == 200, r.text

            before = {
                "same": lambda: None,
                # the page cache's bound passed since (the viewer reads the heads again)
                "other bought": lambda: (buy(other, theirs), app.state.page_cache.touch()),
                "own purchase": lambda: buy(me, mine),
            }
            only = os.environ.get("GOSPLAN_PROFILE_CASE")  # e.g. "/account own purchase"
            prof = None
            if only:
                import cProfile

                prof = cProfile.Profile()
            for path in ("/account", "/account.json"):
                for case, act in before.items():
                    if only and f"{path} {case}" != only:
                        continue
                    me.get(path)  # warm-up
                    times, cpus = [], []
                    for _ in range(repeat):
                        act()
                        c0 = time.thread_time()
                        t0 = time.perf_counter()
                        if prof is not None:
                            prof.enable()
                        r = me.get(path)
                        if prof is not None:
                            prof.disable()
                        times.append(time.perf_counter() - t0)
                        cpus.append(time.thread_time() - c0)
                        assert r.status_code == 200, r.text[:200]
                    out["cases"][f"{path} {case}"] = {
                        "median_ms": statistics.median(times) * 1000,
                        "cpu_ms": statistics.median(cpus) * 1000,
                    }
        out["load"] = os.getloadavg()
        if prof is not None:
            import io
            import pstats

            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
            out["profile"] = buf.getvalue()
        app.state.gosplan.engine.dispose()
        return out
    finally:
        if postgres:
            _fresh_postgres(False, dbname)


if __name__ == "__main__":
    res = profile(int(os.environ.get("GOSPLAN_PROFILE_REPEAT", "30")))
    print(f"store: {res['store']}; load average {res['load']}")
    print(f"{'view':34} {'ms':>7} {'CPU ms':>7}")
    for name, v in res["cases"].items():
        print(f"{name:34} {v['median_ms']:7.2f} {v['cpu_ms']:7.2f}")
    if "profile" in res:
        print(res["profile"])
