"""The planner's workbench and the plan page's plain words.

A planner drafts a change (working week, split of the social funds, targets by purpose
and by product) in a form, sees the recomputed plan beside the current one, and puts
exactly that draft to a vote in one click.  An adopted decision the plan cannot meet is
said at the top of the plan page, with what the plan does instead.

TestClient tests check the JSON twins and the refusals (4xx, store unchanged); browser
tests drive Chromium through the same jobs in English and Portuguese.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gosplan.clock import ManualClock, utcnow

from .conftest import login, logout, make_settings, seeded_copy
from .served import serving

PT = {"Accept-Language": "pt-BR"}
DRAFT = {
    "week": "60",
    "share_health": "70",
    "share_administration": "30",
    "purpose_personal": "10",
    "product_0": "Grain",
    "change_0": "20",
}


def _store(client: TestClient) -> tuple[int, int]:
    return len(client.get("/decisions.json").json()["proposals"]), client.get("/log.json").json()[
        "size"
    ]


def _adopt(client: TestClient, clock: ManualClock, tok: str, hours: float) -> int:
    """Propose a working week (typed form), two people approve it, the deadline closes it."""
    r = client.post(
        "/decisions",
        data={
            "csrf_token": tok,
            "kind": "working_week",
            "title": "A shorter week",
            "label_0": f"{hours:g} hours",
            "hours_0": str(hours),
            "label_1": "As it is",
            "hours_1": "70",
            "discussion_hours": "0",
            "voting_hours": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    for who in ("ana", "bruno"):
        tok = logout(client, tok)
        tok = login(client, who)
        r = client.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok})
        assert r.status_code in (200, 303), r.text
    clock.advance(hours=2)
    client.get("/decisions")  # reading the page closes what is due
    assert client.get(f"/decisions/{pid}.json").json()["phase"] == "closed"
    return pid


# ----------------------------------------------------------------------------- TestClient


def test_the_workbench_previews_a_draft_beside_the_plan(client: TestClient) -> None:
    now = client.get("/plan.json").json()
    w = client.get("/plan/workbench.json", params=DRAFT).json()
    assert w["ok"] and w["errors"] == {} and w["draft"] is not None
    kinds = [c["kind"] for c in w["effect"]["changes"]]
    assert kinds == ["fund_split", "purpose_target", "sector_target", "working_week"]
    assert w["effect"]["changes"][0]["effect"]["shares"] == {"health": 0.7, "administration": 0.3}
    # the current plan is the plan page's plan; the draft's is recomputed
    assert w["current"]["working_week"] == pytest.approx(now["working_week"])
    assert w["draft"]["working_week"] > w["current"]["working_week"]  # more to deliver
    rows = {r["purpose"]: r for r in w["compare"]}
    assert rows["personal"]["target_draft"] > rows["personal"]["target_now"]
    assert rows["personal"]["hours_draft"] > rows["personal"]["hours_now"]
    assert len(w["years"]) == 5 and all(y["week_draft"] is not None for y in w["years"])
    assert "personal consumption +10 %" in w["effect_words"]
    assert "a working week of at most 60 hours" in w["effect_words"]
    # nothing was proposed by previewing
    assert client.get("/plan.json").json()["working_week"] == now["working_week"]
    html = client.get("/plan/workbench", params=DRAFT)
    assert html.status_code == 200 and 'id="preview-result"' in html.text
    assert 'id="propose-form"' not in html.text  # only planners and delegates propose


def test_a_draft_that_cannot_be_met_says_so_before_the_vote(client: TestClient) -> None:
    w = client.get("/plan/workbench.json", params={"week": "20"}).json()
    unmet = w["draft"]["unmet"]
    assert len(unmet) == 1 and unmet[0]["limit"] == 20.0 and unmet[0]["needed"] > 20.0
    assert unmet[0]["instead"] in ("multi_year_uncapped", "leontief_per_year")
    html = client.get("/plan/workbench", params={"week": "20"}, headers=PT).text
    assert 'id="draft-unmet"' in html and "não pode ser cumprida por inteiro" in html


@pytest.mark.parametrize(
    "params,field",
    [
        ({"week": "abc"}, "week"),
        ({"week": "200"}, "week"),
        ({"share_health": "70", "share_education": "70"}, "share_health"),
        ({"product_0": "Gold", "change_0": "5"}, "product_0"),
        ({"purpose_personal": "-100"}, "purpose_personal"),
        ({"product_0": "Grain"}, "change_0"),
    ],
)
def test_bad_draft_fields_are_named(client: TestClient, params: dict[str, str], field: str) -> None:
    r = client.get("/plan/workbench.json", params=params)
    assert r.status_code == 422 and r.json()["ok"] is False
    assert r.json()["error"].startswith(f"{field}: ")
    html = client.get("/plan/workbench", params=params)
    assert html.status_code == 422 and f'id="error-{field}"' in html.text
    for v in params.values():
        if v == "Gold":  # not a product: the list cannot hold it; its error says why
            continue
        assert f'value="{v}"' in html.text or f"<option selected>{v}</option>" in html.text


def test_the_planner_proposes_exactly_what_was_previewed(client: TestClient) -> None:
    tok = login(client, "diego")
    w = client.get("/plan/workbench.json", params=DRAFT).json()
    page = client.get("/plan/workbench", params=DRAFT).text
    assert f'name="digest" value="{w["digest"]}"' in page
    before = _store(client)
    # a draft that differs from the one previewed is refused, and nothing is stored
    r = client.post(
        "/plan/workbench/propose",
        data={**DRAFT, "week": "59", "digest": w["digest"], "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 409 and r.json()["error"].startswith("digest: ")
    r = client.post(
        "/plan/workbench/propose",
        data={**DRAFT, "week": "59", "digest": w["digest"], "csrf_token": tok},
    )
    assert r.status_code == 422 and 'id="error-digest"' in r.text and 'value="59"' in r.text
    r = client.post(
        "/plan/workbench/propose",
        data={"digest": "0" * 16, "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("week: ")
    assert _store(client) == before
    # the one click
    r = client.post(
        "/plan/workbench/propose",
        data={**DRAFT, "digest": w["digest"], "csrf_token": tok, "discussion_hours": "0"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    p = client.get(f"/decisions/{pid}.json").json()
    assert p["kind"] == "plan_change" and p["options"][0]["effect"] == w["effect"]
    assert p["options"][1]["effect"] == {"changes": []}
    assert p["option_words"][0] == w["effect_words"]
    assert p["title"].startswith("Change to the plan: ")
    # a worker may preview but not propose
    tok = logout(client, tok)
    tok = login(client, "ana")
    r = client.post(
        "/plan/workbench/propose",
        data={**DRAFT, "digest": w["digest"], "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 403


def test_an_adopted_workbench_change_binds_the_plan(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    draft = {"purpose_personal": "10", "product_0": "Grain", "change_0": "20"}
    w = client.get("/plan/workbench.json", params=draft).json()
    r = client.post(
        "/plan/workbench/propose",
        data={**draft, "digest": w["digest"], "csrf_token": tok, "voting_hours": "1"},
        headers={"accept": "application/json"},
    )
    pid = r.json()["id"]
    for who in ("ana", "bruno"):
        tok = logout(client, tok)
        tok = login(client, who)
        client.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok})
    clock.advance(hours=2)
    client.get("/decisions")
    plan = client.get("/plan.json").json()
    assert plan["decisions"][-1]["proposal"] == pid
    rows = {r["purpose"]: r for r in plan["purposes"]}
    assert rows["personal"]["target"] == pytest.approx(w["compare"][0]["target_draft"])
    assert plan["working_week"] == pytest.approx(w["draft"]["working_week"])
    assert pid in rows["personal"]["changed_by"]


def test_an_adopted_week_that_cannot_be_met_is_said_at_the_top(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    pid = _adopt(client, clock, tok, 28)
    plan = client.get("/plan.json").json()
    assert plan["week_limit"] == 28.0
    (u,) = plan["unmet"]
    assert u["proposal"] == pid and u["limit"] == 28.0 and u["needed"] > 28.0
    assert plan["method_code"] == u["instead"] != "multi_year"
    html = client.get("/plan").text
    main = html[html.index("<main") :]
    # first thing after the title, before the figures
    assert main.index('id="unmet"') < main.index('id="working-week"')
    top = main[main.index('id="unmet"') : main.index('id="working-week"')]
    assert "cannot be met" in top and "What the plan does instead" in top
    assert "HiGHS status" not in top and "{" not in top
    # the text about the years says what ran
    method = re.search(r'id="method" data-method="([^"]+)">([^<]*)<', main)
    assert method is not None and method.group(1) == plan["method_code"]
    assert "solved without the adopted working week" in method.group(2) or (
        "could not be solved" in method.group(2)
    )
    pt = client.get("/plan", headers=PT).text
    assert "não pode ser cumprida" in pt and "O que o plano faz em vez disso" in pt


def test_investment_and_units_do_not_contradict(client: TestClient) -> None:
    plan = client.get("/plan.json").json()
    assert plan["method_code"] == "multi_year"
    inv = next(r for r in plan["purposes"] if r["purpose"] == "investment")
    assert inv["target"] > 0  # this year's one-year plan: the base year's investment
    for y in plan["years"]:
        # over the years the plan decides investment: no target (not a 0), ...
        assert y["targets"]["investment"] is None
    # ... but labour spent on building capacity
    assert max(y["hours_per_week"]["investment"] for y in plan["years"]) > 0
    html = client.get("/plan").text
    table = html[html.index('id="targets-by-year"') :]
    assert "by the plan" in table[: table.index("</table>")]
    units = re.sub(r"<[^>]+>", "", html[html.index('id="units"') :].split("</p>")[0])
    assert "labour is in hours" in units and "TL million" in units
    assert "per TL million" not in units


# ----------------------------------------------------------------------------- browser

# the session's one Chromium is the ``browser`` fixture of conftest.py (a second Playwright
# in the same session fails)


def _adopt_in_store(settings: Any, hours: float) -> int:
    """An adopted working week of ``hours``, decided three hours ago by two voters."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from gosplan.services import decisions
    from gosplan.storage.base import make_engine
    from gosplan.storage.users import User

    engine = make_engine(settings.database_url)
    t0 = utcnow() - dt.timedelta(hours=3)
    rules = decisions.Rules(min_discussion_hours=0, min_voting_hours=0)
    try:
        with Session(engine, expire_on_commit=False) as s:
            people = {u.username: u for u in s.scalars(select(User))}
            p = decisions.create_proposal(
                s,
                people["diego"],
                title="A 28-hour week",
                body="",
                kind="working_week",
                options=[
                    {"label": f"{hours:g} hours", "effect": {"hours": hours}},
                    {"label": "as it is", "effect": {"hours": 70}},
                ],
                rules=rules,
                now=t0,
                discussion_hours=0,
                voting_hours=1,
            )
            for who in ("ana", "bruno"):
                decisions.cast_vote(
                    s, p, people[who], [0], secret=b"x" * 32, now=t0 + dt.timedelta(minutes=5)
                )
            decisions.close(s, p, now=t0 + dt.timedelta(hours=2))
            s.commit()
            return int(p.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, economy_dir: Path, _drop_templates: None
) -> Iterator[tuple[str, int]]:
    """The seeded demonstration with an adopted 28-hour week, served by uvicorn."""
    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("planner-store")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    settings = make_settings(url, folder, economy_dir)
    pid = _adopt_in_store(settings, 28.0)
    app = create_app(settings, migrate=False)
    with serving(app) as base:
        yield base, pid


@pytest.fixture(params=["en", "pt-BR"])
def lang_page(
    request: pytest.FixtureRequest, browser: Any, served: tuple[str, int]
) -> Iterator[Any]:
    ctx = browser.new_context(base_url=served[0], locale=request.param)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.lang = request.param  # type: ignore[attr-defined]
    yield page
    ctx.close()


def _sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def _sign_out(page: Any) -> None:
    page.click("header .who button")
    page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.browser
def test_a_planner_previews_a_change_and_a_voter_sees_her_vote(lang_page: Any) -> None:
    page, pt = lang_page, lang_page.lang == "pt-BR"
    _sign_in(page, "diego")
    page.goto("/plan")
    page.click("#to-workbench")
    page.wait_for_selector("#draft-form")
    assert page.locator("#no-draft").count() == 1
    page.fill("input[name=purpose_personal]", "10")
    page.select_option("select[name=product_0]", "Grain")
    page.fill("input[name=change_0]", "20")
    page.fill("input[name=share_health]", "70")
    page.fill("input[name=share_administration]", "30")
    page.click("#preview")
    page.wait_for_selector("#preview-result")
    # the recomputed plan beside the current one: labour by purpose and the week by year
    row = page.locator("#compare tr[data-purpose='personal'] td.num")
    now, draft = row.nth(2).inner_text(), row.nth(3).inner_text()
    assert now != draft
    assert page.locator("#years-compare tbody tr").count() == 5
    words = page.inner_text("#draft-words")
    assert ("+10 %" in words) and ("Grain +20 %" in words)
    assert ("consumo pessoal" in words) if pt else ("personal consumption" in words)
    # what was typed is still in the form
    assert page.input_value("input[name=purpose_personal]") == "10"
    # one click puts exactly this to a vote
    page.fill("#propose-form input[name=discussion_hours]", "0")
    page.fill("#propose-form input[name=voting_hours]", "1")
    page.click("#propose")
    page.wait_for_selector("#vote-form")
    pid = page.url.rsplit("/", 1)[1]
    assert (
        page.inner_text("#tally tbody tr[data-option='0'] td:nth-child(3)")
        == words.split(":", 1)[1].strip()
    )
    rules = page.inner_text("#rules")
    assert ("Quórum" in rules) if pt else ("Quorum" in rules)
    _sign_out(page)
    # a voter approves it and sees what she voted for, and where her ballot is
    _sign_in(page, "ana")
    page.goto(f"/decisions/{pid}")
    page.locator("#vote-form input[name=choice][value='0']").check()
    page.click("#vote-form button[type=submit]")
    page.wait_for_selector("#my-ballot")
    mine = page.inner_text("#my-ballot")
    label = "Adotar a mudança" if pt else "Adopt the change"
    assert (("Você votou em: " if pt else "You voted for: ") + label) in mine
    page.click("#my-ballot-entry")
    page.wait_for_selector("#proof-result[data-verified]", state="attached")
    assert page.get_attribute("#proof-result", "data-verified") == "yes"
    assert "decision.ballot" in page.inner_text("main")


@pytest.mark.browser
def test_an_adopted_week_that_cannot_be_met_is_at_the_top_of_the_plan(
    lang_page: Any, served: tuple[str, int]
) -> None:
    page, pt = lang_page, lang_page.lang == "pt-BR"
    page.goto("/plan")
    banner = page.locator("main h1 + #unmet")
    assert banner.count() == 1 and banner.get_attribute("data-proposal") == str(served[1])
    text = banner.inner_text()
    assert ("não pode ser cumprida" in text) if pt else ("cannot be met" in text)
    assert ("em vez disso" in text) if pt else ("instead" in text)
    assert "HiGHS" not in text and "{" not in text
    # it is above the figures, and the years say how they were planned
    assert (
        banner.bounding_box()["y"] < page.locator("#working-week").bounding_box()["y"]  # type: ignore[index]
    )
    assert page.get_attribute("#method", "data-method") != "multi_year"
    page.click("#unmet a")
    page.wait_for_selector("#adopted")
    assert page.inner_text("#adopted") == "28 hours"


def test_every_word_of_these_pages_has_its_portuguese() -> None:
    """Each message marked in the plan, workbench and decisions pages (and their words for
    codes) is in the Portuguese catalog."""
    from babel.messages.extract import extract_from_file

    from gosplan.web import i18n

    web = Path(__file__).parents[2] / "src" / "gosplan" / "web"
    files = [
        *(("jinja2", web / "templates" / f"{t}.html") for t in ("plan", "workbench")),
        *(("jinja2", web / "templates" / f"{t}.html") for t in ("decisions", "proposal")),
        ("python", web / "plan_words.py"),
        ("python", web / "routes" / "plan.py"),
        ("python", web / "routes" / "decisions.py"),
    ]
    keywords = {"_": None, "_N": None}
    found: list[str] = []
    for method, path in files:
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, msg, _c, _x in extract_from_file(method, path, keywords, options=options):
            found.append(msg[0] if isinstance(msg, tuple) else msg)
    assert len(found) > 150
    catalog = i18n.catalog("pt_BR")
    missing = sorted({m for m in found if m and m not in catalog})
    assert not missing, missing


def test_a_target_beyond_capacity_is_named_before_and_after_the_vote(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = client.get("/plan/workbench.json", params={"purpose_health": "50"}).json()
    assert w["draft"]["method_code"] == "leontief_per_year"
    (short,) = w["draft"]["shortfalls"]
    assert short["product"] == "Health care" and short["need"] > 1.0
    html = client.get("/plan/workbench", params={"purpose_health": "50"}).text
    box = html[html.index('id="draft-not-solved"') :]
    assert "Health care: 134 % of its capacity" in box[: box.index("</div>")]
    # adopted, it is said at the top of the plan page, with what the plan does instead
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    r = client.post(
        "/decisions",
        data={
            "csrf_token": tok,
            "kind": "purpose_target",
            "title": "More health care",
            "purpose_0": "health",
            "change_0": "50",
            "purpose_1": "health",
            "change_1": "0",
            "discussion_hours": "0",
            "voting_hours": "1",
        },
        follow_redirects=False,
    )
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    for who in ("ana", "bruno"):
        tok = logout(client, tok)
        tok = login(client, who)
        client.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok})
    clock.advance(hours=2)
    client.get("/decisions")
    plan = client.get("/plan.json").json()
    assert plan["method_code"] == "leontief_per_year" and plan["shortfalls"][0]["need"] > 1
    main = client.get("/plan", headers=PT).text
    main = main[main.index("<main") :]
    assert main.index('id="not-solved"') < main.index('id="working-week"')
    top = main[main.index('id="not-solved"') : main.index('id="working-week"')]
    assert "Health care: 134 % da sua capacidade" in top and "em vez disso" in top
    assert "HiGHS" not in top
