"""The delegate's jobs in a real Chromium (Playwright), in English and in Portuguese: record
hours for a member after a confirmation page, fail to record for a non-member (the
planner, the commission), correct a week's report and see the right alert close, with no
bogus alert opened; the planner issues a directive and the economy view shows the trends.

Each test gets its own copy of the seeded demonstration store and its own server, so the
corrections of one language do not meet the other's.  Outside CI a missing Chromium (or
Playwright) skips these tests; in CI it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import make_settings, seeded_copy
from .served import serving
from .test_web_browser import sign_in, sign_out

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "confirm": "Confirm the hours to record",
        "resolved": "resolved",
        "corrected": "corrected (version 2)",
        "open": "open",
        "economy": "Fulfilment across the economy",
    },
    "pt_BR": {
        "confirm": "Confirme as horas a registrar",
        "resolved": "resolvido",
        "corrected": "corrigido (versão 2)",
        "open": "aberto",
        "economy": "Cumprimento em toda a economia",
    },
}


@pytest.fixture
def served(
    tmp_path_factory: pytest.TempPathFactory, economy_dir: Path, _drop_templates: None
) -> Iterator[str]:
    """A fresh copy of the seeded demonstration served by uvicorn in a thread."""
    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("delegate-store")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    app = create_app(make_settings(url, folder, economy_dir), migrate=False)
    with serving(app) as base:
        yield base


def _page(browser: Any, base: str, lang: str) -> Any:
    ctx = browser.new_context(base_url=base)
    ctx.set_default_timeout(15_000)
    ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
    return ctx.new_page()


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_delegate_records_hours_and_corrects_a_report(
    browser: Any, served: str, lang: str
) -> None:
    w = WORDS[lang]
    page = _page(browser, served, lang)
    try:
        sign_in(page, "carla")
        page.goto("/enterprise/textile-coop")
        assert page.get_attribute("html", "lang") == ("en" if lang == "en" else "pt-BR")
        # only the members can be picked: never the planner or the commission
        options = page.locator("#record-hours select[name=person] option")
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        assert values == ["person:ana", "person:carla"]
        page.select_option("#record-hours select[name=person]", "person:ana")
        page.fill("#record-hours input[name=hours]", "6.5")
        page.click("#record-hours button[type=submit]")
        page.wait_for_selector("#confirm-hours-form")
        assert page.inner_text("h1") == w["confirm"]
        assert page.get_attribute("#confirm-person", "data-person") == "person:ana"
        assert "Ana Souza" in page.inner_text("#confirm-person")
        before = page.context.request.get(f"{served}/enterprise/textile-coop.json").json()
        assert not [x for x in before["work"] if x["hours"].startswith("6.5")]  # not yet
        page.click("#confirm-hours-form button[type=submit]")
        page.wait_for_selector("#recorded")
        rec = page.locator("#work tbody tr").last
        assert "person:ana" in rec.inner_text() and "carla" in rec.inner_text()
        # a forged form naming a non-member is refused by name, and nothing is recorded
        token = page.get_attribute("#record-hours input[name=csrf_token]", "value")
        n_work = page.locator("#work tbody tr").count()
        for person, name in (("person:elena", "Elena Ramos"), ("person:diego", "Diego Alves")):
            r = page.context.request.post(
                f"{served}/enterprise/textile-coop/hours/confirm",
                form={"person": person, "hours": "8", "csrf_token": token or ""},
                headers={"accept": "application/json"},
            )
            assert r.status == 403 and name in r.json()["error"]
        page.reload()
        assert page.locator("#work tbody tr").count() == n_work
        # correct the short week: its shortfall alert closes, no alert blames the farm
        week = page.get_attribute("#fulfilment tr[data-state=short]", "data-period")
        shortfall = page.locator("#alerts tr", has_text="shortfall").first
        alert_id = shortfall.get_attribute("data-item")
        assert shortfall.get_attribute("data-state") == "open"
        assert shortfall.locator("td").last.inner_text() == w["open"]
        page.select_option("#report-form select[name=period]", week)
        page.fill("#report-form input[name=output]", "97")
        page.fill("#report-form input[name=hours]", "485")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("#corrected")
        assert page.get_attribute("#corrected", "data-settled") == "1"
        row = page.locator(f"#alerts tr[data-item='{alert_id}']")
        assert row.get_attribute("data-state") == "resolved"
        assert row.locator("td").last.inner_text().startswith(w["resolved"])
        alerts = page.inner_text("#alerts")
        assert "99999900" not in alerts and "mismatch" not in alerts
        week_row = page.locator(f"#fulfilment tr[data-period='{week}']")
        assert week_row.get_attribute("data-state") == "near"
        assert w["corrected"] in week_row.inner_text()
        sign_out(page)
        page.goto("/enterprise/grain-farm")  # the partner is not blamed
        assert "mismatch" not in page.inner_text("#alerts")
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_planner_issues_a_directive_and_reads_the_economy_view(
    browser: Any, served: str, lang: str
) -> None:
    w = WORDS[lang]
    page = _page(browser, served, lang)
    try:
        sign_in(page, "diego")
        page.goto("/fulfilment")
        page.click("#economy-link")
        page.wait_for_selector("#enterprise-trends")
        assert page.inner_text("h1") == w["economy"]
        codes = page.locator("#enterprise-trends tbody tr")
        assert codes.first.get_attribute("data-code") == "textile-coop"  # worst first
        assert page.locator("#enterprise-trends svg.spark").count() == 2
        label = page.get_attribute(
            "#enterprise-trends tr[data-code='textile-coop'] svg", "aria-label"
        )
        assert label is not None and label.endswith("58%")
        page.goto("/fulfilment")
        options = page.locator("#issue-directive select[name=enterprise] option")
        assert options.count() == 2
        page.select_option("#issue-directive select[name=enterprise]", "textile-coop")
        page.fill("#issue-directive textarea[name=instruction]", "Repair loom 4")
        page.fill("#issue-directive input[name=days]", "7")
        page.click("#issue-directive button[type=submit]")
        page.wait_for_selector("#issued")
        row = page.locator("#directive-list tbody tr").first
        assert "Repair loom 4" in row.inner_text() and "diego" in row.inner_text()
        assert row.get_attribute("data-state") == "open"
        assert row.locator("td.state").inner_text() == w["open"]
        assert re.search(r"Diego Alves", row.inner_text())
    finally:
        page.context.close()
