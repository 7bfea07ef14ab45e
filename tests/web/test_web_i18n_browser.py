"""The public pages in a real browser whose language is Brazilian Portuguese, then English
through the switch in the header: words, the ``lang`` of the page, dates and numbers.

Chromium's context has ``locale="pt-BR"``: it sends ``Accept-Language: pt-BR`` and its
``navigator.language`` is Portuguese, as for a reader in Brazil.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# the module's browser and seeded server (fixtures), shared with the other browser tests
from .test_web_browser import server  # noqa: F401

pytestmark = pytest.mark.browser

#: a day as Portuguese writes it ("6 de dez. de 2026"), and as English does ("Dec 6, 2026")
PT_DAY = re.compile(r"\b\d{1,2} de [a-zç]{3,4}\.? de \d{4}\b")
EN_DAY = re.compile(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b")


@pytest.fixture
def pt_page(browser: Any, server: str) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(base_url=server, locale="pt-BR", accept_downloads=True)
    ctx.set_default_timeout(15_000)
    p = ctx.new_page()
    yield p
    ctx.close()


def _lang(page: Any) -> str:
    return str(page.get_attribute("html", "lang"))


def test_a_reader_in_brazil_browses_the_public_pages_then_switches_to_english(
    pt_page: Any, tmp_path: Path
) -> None:
    page = pt_page
    page.goto("/")
    assert _lang(page) == "pt-BR"
    assert page.inner_text("h1") == "Uma economia planejada, às claras"
    assert page.locator("#lang-switch [aria-current]").inner_text() == "Português (Brasil)"

    # the public log, reached through the header: Portuguese words and days
    page.click("header nav a[href='/log']")
    page.wait_for_url(re.compile(r".*/log$"))
    assert page.inner_text("h1") == "O registro público"
    assert page.inner_text("#log thead").split() == ["#", "hora", "(UTC)", "tipo", "conteúdo"]
    first_time = page.locator("#log tbody tr td").nth(1).inner_text()
    assert PT_DAY.search(first_time), first_time

    # an entry's proof, checked by the page's script, reported in Portuguese
    page.locator("#log tbody tr a").nth(2).click()
    page.wait_for_selector("#proof-result[data-verified]", state="attached")
    assert page.get_attribute("#proof-result", "data-verified") == "yes"
    result = page.inner_text("#proof-result")
    assert result.startswith("Verificado no seu navegador: ✔ os bytes da entrada"), result
    assert "caminho de auditoria" in result and PT_DAY.search(result), result
    assert "Prova de inclusão" in page.inner_text("main")

    # a criticism filed in Portuguese, its receipt checked, its status in words
    page.goto("/criticism")
    assert page.inner_text("h1") == "Crítica de baixo para cima"
    page.select_option("#target", "grain-farm")
    page.fill("textarea[name=content]", "O trator da fazenda está parado há um mês.")
    page.click("#file-criticism button[type=submit]")
    ref = page.inner_text("#ref")
    assert page.inner_text("h1") == f"A crítica {ref} está registrada"
    assert "Guarde seu recibo." in page.inner_text("main")
    receipt = json.loads(page.inner_text("#receipt"))
    page.click("text=acompanhar a situação")
    assert page.inner_text("#status") == "recebida"
    assert PT_DAY.search(page.inner_text("main"))
    page.goto("/receipts/verify")
    page.fill("textarea[name=receipt]", json.dumps(receipt))
    page.click("#verify-receipt button[type=submit]")
    verdict = page.inner_text("#verdict")
    assert verdict.startswith(f"o recibo da crítica {ref}") and " confere: " in verdict

    # integrity: numbers with a decimal comma and a thousands dot
    page.goto("/integrity")
    assert page.inner_text("h1") == "Registros de integridade"
    cells = page.locator("#integrity tbody tr").first.locator("td.num")
    worker_years = cells.nth(1).inner_text()
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d", worker_years), worker_years

    page.goto("/runs")
    assert page.inner_text("h1") == "O plano vivo: rodadas"

    # the switch in the header: English from here on, back on the same page
    page.click("#lang-switch a[hreflang='en']")
    page.wait_for_url(re.compile(r".*/runs$"))
    assert _lang(page) == "en"
    assert page.inner_text("h1") == "The living plan: runs"
    assert page.locator("#lang-switch [aria-current]").inner_text() == "English"
    page.click("header nav a[href='/log']")
    page.wait_for_url(re.compile(r".*/log$"))
    assert _lang(page) == "en" and page.inner_text("h1") == "The public log"
    assert EN_DAY.search(page.locator("#log tbody tr td").nth(1).inner_text())
    page.goto("/integrity")
    worker_years = page.locator("#integrity tbody tr").first.locator("td.num").nth(1).inner_text()
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d", worker_years), worker_years
    page.goto(f"/criticism/{ref}")
    assert page.inner_text("#status") == "received"

    # and back to Portuguese, though the browser asks for it anyway: the choice is kept
    page.click("#lang-switch a[hreflang='pt-BR']")
    page.wait_for_url(re.compile(rf".*/criticism/{ref}$"))
    assert _lang(page) == "pt-BR" and page.inner_text("#status") == "recebida"
