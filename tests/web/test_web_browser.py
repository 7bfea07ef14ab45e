"""End-to-end in a real headless browser: Playwright drives the distribution's Chromium
against the application served by uvicorn on loopback.

Outside CI a missing ``/usr/bin/chromium`` (or Playwright) skips these tests; in CI it
fails, so they can never pass by being skipped there.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gosplan.core import note
from gosplan.services import publiclog

from .conftest import make_settings, seeded_copy
from .served import free_port, serving

# the session's one Chromium is the ``browser`` fixture of conftest.py (one Playwright per
# session: a second ``sync_playwright`` in the same thread fails)

pytestmark = pytest.mark.browser

#: the settings of the module's server (store, roster, shares), set by the ``server`` fixture
SERVED: dict[str, Any] = {}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, economy_dir: Path, _drop_templates: None
) -> Iterator[str]:
    """The seeded demonstration served by uvicorn in a thread; yields its base URL."""
    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("browser-store")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    settings = make_settings(url, folder, economy_dir)
    SERVED["settings"] = settings  # what the store and key files are, for tests that need them
    app = create_app(settings, migrate=False)
    with serving(app) as base:
        yield base


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    ctx = browser.new_context(base_url=server, accept_downloads=True)
    ctx.set_default_timeout(15_000)
    p = ctx.new_page()
    yield p
    ctx.close()


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    assert page.locator("header .who").inner_text().startswith(username.capitalize())


def sign_out(page: Any) -> None:
    page.click("header .who button")
    page.wait_for_url(re.compile(r".*/$"))


def test_file_a_criticism_and_verify_its_receipt(page: Any, tmp_path: Path) -> None:
    page.goto("/criticism")
    page.select_option("#target", "grain-farm")
    assert page.input_value("#target-kind") == "enterprise"  # the page's script follows
    page.fill("textarea[name=content]", "The farm's tractor has been idle for a month.")
    page.click("#file-criticism button[type=submit]")
    ref = page.inner_text("#ref")
    assert re.fullmatch(r"C-[0-9A-F]{10}", ref)
    with page.expect_download() as dl:
        page.click("#download-receipt")
    saved = tmp_path / "receipt.json"
    dl.value.save_as(saved)
    receipt = json.loads(saved.read_text())
    assert receipt["criticism"] == ref and receipt["entry"]["kind"] == "criticism.filed"
    page.goto("/receipts/verify")
    page.set_input_files("input[name=file]", str(saved))
    page.click("#verify-receipt button[type=submit]")
    verdict = page.locator("#verdict")
    assert "ok" in (verdict.get_attribute("class") or "")
    assert f"receipt for criticism {ref}" in verdict.inner_text()
    assert "verifies" in verdict.inner_text()
    # an altered receipt, pasted, does not verify
    receipt["entry"]["payload"]["content"] = "All is well."
    page.fill("textarea[name=receipt]", json.dumps(receipt))
    page.click("#verify-receipt button[type=submit]")
    assert "does NOT verify" in page.inner_text("#verdict")
    # and the criticism is public, received, with no identity shown
    page.goto(f"/criticism/{ref}")
    assert page.inner_text("#status") == "received"


def test_the_commission_publishes_an_opening_made_offline(page: Any) -> None:
    """A critic files with an identity; two members open it offline with their shares; a
    commission member publishes the signed record in the browser and the page lists it."""
    from gosplan.services import commission, criticism
    from gosplan.storage.base import make_engine, session_scope

    page.goto("/criticism")
    page.select_option("#target", "grain-farm")
    page.fill("textarea[name=content]", "The storekeeper sells seed grain off the books.")
    page.fill("input[name=identity]", "Fitter Petrova, shop 3")
    page.click("#file-criticism button[type=submit]")
    ref = page.inner_text("#ref")
    settings = SERVED["settings"]
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as s:
            box = criticism.export_sealed(s, ref)
    finally:
        engine.dispose()
    folder = Path(settings.commission_key_path).parent
    shares = [commission.read_share(p) for p in sorted((folder / "shares").glob("share-*"))]
    identity, record = commission.open_sealed(box, shares[:2], reason="a witness is needed")
    assert identity["identity"] == "Fitter Petrova, shop 3"
    sign_in(page, "elena")
    page.goto(f"/criticism/{ref}")
    assert "Never opened." in page.inner_text("#accesses")
    page.fill("#record-opening textarea[name=record]", json.dumps(record))
    page.click("#record-opening button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"/criticism/{ref}")
    accesses = page.inner_text("#accesses")
    assert "a witness is needed" in accesses and "Fitter Petrova" not in accesses
    assert all(m in accesses for m in record["members"])


def test_buy_a_good_and_see_the_balance_fall(page: Any) -> None:
    sign_in(page, "ana")
    page.goto("/account")
    before = Decimal(page.get_attribute("#balance", "data-hours") or "0")
    row = page.locator("#catalogue tbody tr", has=page.locator("button:not([disabled])")).first
    price = Decimal(row.locator(".price").inner_text().replace(",", ""))
    stock = int(row.locator(".stock").inner_text())
    good = row.get_attribute("data-good")
    row.locator("button").click()
    page.wait_for_selector("#bought")
    after = Decimal(page.get_attribute("#balance", "data-hours") or "0")
    assert after < before
    assert abs((before - after) - price) < Decimal("0.001")  # the price shown is rounded
    row = page.locator(f"#catalogue tr[data-good='{good}']")
    assert int(row.locator(".stock").inner_text()) == stock - 1
    assert "purchase" in page.locator("#statement tbody tr").first.inner_text()


def test_submit_a_report_that_triggers_an_alert(page: Any) -> None:
    # the commission member works at neither enterprise, so she may resolve alerts about both
    sign_in(page, "elena")
    page.goto("/fulfilment")
    while page.locator("#open-items input[name=resolution]").count():
        page.locator("#open-items input[name=resolution]").first.fill("put right")
        page.locator("#open-items button").first.click()
        page.wait_for_load_state()
    assert "No open alerts" in page.inner_text("#open-items")
    sign_out(page)
    sign_in(page, "carla")
    page.goto("/enterprise/textile-coop")
    period = page.locator("#report-form select[name=period] option").first.inner_text()
    page.fill("#report-form input[name=output]", "15")
    page.fill("#report-form input[name=hours]", "75")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#reported")
    assert "15%" in page.locator(f"#fulfilment tr[data-period='{period}']").inner_text()
    assert "shortfall: output 15 % of plan" in page.inner_text("#alerts")
    page.goto("/fulfilment")
    text = page.inner_text("#open-items")
    assert "enterprise textile-coop" in text and "shortfall" in text
    assert page.locator("#ladder li").count() == 4


def test_vote_and_see_the_tally_change_the_plan(page: Any) -> None:
    page.goto("/plan")
    week_before = page.inner_text("#working-week")
    sign_in(page, "diego")
    page.goto("/decisions?kind=sector_target")  # a typed form per kind: no JSON to write
    form = page.locator("#new-proposal")
    form.locator("input[name=title]").fill("More textiles")
    form.locator("input[name=label_0]").fill("Textiles +50 %")
    form.locator("select[name=product_0]").select_option("Textiles")
    form.locator("input[name=change_0]").fill("50")
    form.locator("input[name=label_1]").fill("Textiles as planned")
    form.locator("select[name=product_1]").select_option("Textiles")
    form.locator("input[name=change_1]").fill("0")
    form.locator("input[name=discussion_hours]").fill("0")
    form.locator("input[name=voting_hours]").fill("0.005")  # 18 s: two people vote in it
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#vote-form")
    pid = page.url.rsplit("/", 1)[1]
    page.locator("#vote-form input[name=choice][value='0']").check()
    page.click("#vote-form button[type=submit]")
    page.wait_for_selector("#my-ballot")
    assert page.inner_text("#ballots") == "1"
    assert page.locator("#tally tbody tr").first.locator("td.num").inner_text() == "1"
    # one person alone adopts nothing: a second voter approves too
    sign_out(page)
    sign_in(page, "ana")
    page.goto(f"/decisions/{pid}")
    page.locator("#vote-form input[name=choice][value='0']").check()
    page.click("#vote-form button[type=submit]")
    page.wait_for_selector("#my-ballot")
    deadline = time.monotonic() + 30
    while (
        page.get_attribute("#phase", "data-phase") != "closed"
    ):  # the deadline closes it, nobody's hand
        assert time.monotonic() < deadline, "voting did not end"
        time.sleep(0.5)
        page.reload()
    assert page.inner_text("#adopted") == "Textiles +50 %"
    page.goto("/plan")
    assert f"#{pid} More textiles" in page.inner_text("#binding")
    assert page.inner_text("#working-week") != week_before
    row = page.locator("#purposes tr[data-purpose='personal']")
    assert f"#{pid}" in row.inner_text()
    # the chart of the new plan is served
    src = page.get_attribute(".charts img", "src")
    assert page.request.get(src).headers["content-type"] == "image/png"


def test_the_log_page_verifies_a_proof_in_the_browser(page: Any) -> None:
    page.goto("/log")
    page.locator("#log tbody tr a").nth(3).click()
    # a selector, not wait_for_function: the page's CSP forbids the eval a string predicate needs
    page.wait_for_selector("#proof-result[data-verified]", state="attached")
    assert page.get_attribute("#proof-result", "data-verified") == "yes"
    assert "Verified in your browser" in page.inner_text("#proof-result")


# --------------------------------------------------------------------------- witnesses
# A receipt's page shows the witness cosignatures of its tree head.  The witness runs as
# its own process with its own key and state; the application is configured with it
# (k = 1 of 1).  Filing a criticism gets the new head cosigned.

RUN = [sys.executable, "-c", "from gosplan.cli import main; main()"]


@pytest.fixture(scope="module")
def witnessed_server(
    tmp_path_factory: pytest.TempPathFactory, economy_dir: Path, _drop_templates: None
) -> Iterator[str]:
    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("witnessed-store")
    home = tmp_path_factory.mktemp("witness-machine")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    vkey = subprocess.run(
        [*RUN, "witness", "keygen", "--name", "witness.test/browser", "--key", str(home / "w.key")],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    ).stdout.strip()
    wport = free_port()
    settings = make_settings(
        url, folder, economy_dir, witnesses=[f"{vkey} http://127.0.0.1:{wport}"], witness_quorum=1
    )
    origin = publiclog.log_origin(settings)
    subprocess.run(
        [
            *RUN,
            "witness",
            "add-log",
            "--state",
            str(home / "state.json"),
            "--origin",
            origin,
            "--vkey",
            str(note.Verifier.of(origin, publiclog.public_key(settings))),
        ],
        check=True,
        env=os.environ.copy(),
        capture_output=True,
    )
    wproc = subprocess.Popen(
        [
            *RUN,
            "witness",
            "serve",
            "--key",
            str(home / "w.key"),
            "--state",
            str(home / "state.json"),
            "--port",
            str(wport),
        ],
        env=os.environ.copy(),
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):  # until the witness listens
        try:
            socket.create_connection(("127.0.0.1", wport), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    app = create_app(settings, migrate=False)
    try:
        with serving(app) as base:
            yield base
    finally:
        wproc.terminate()
        wproc.wait(timeout=10)


def test_a_receipt_page_shows_its_witness_cosignatures(browser: Any, witnessed_server: str) -> None:
    ctx = browser.new_context(base_url=witnessed_server)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        page.goto("/criticism")
        page.fill("textarea[name=content]", "The mill's scales are set to short-weigh.")
        page.click("#file-criticism button[type=submit]")
        page.wait_for_url(re.compile(r".*/criticism$"))
        size = page.request.get("/log.json").json()["size"]
        page.goto(f"/log/{size - 1}")
        items = page.locator("#cosignatures li.cosignature")
        assert items.count() == 1
        text = items.first.inner_text()
        assert "witness.test/browser" in text and "verified" in text
        assert "Accepted" in page.inner_text("#witness-rule")
        note_text = page.locator("#signed-note").text_content() or ""
        assert "— witness.test/browser " in note_text
        page.wait_for_selector("#proof-result[data-verified]", state="attached")
        assert page.get_attribute("#proof-result", "data-verified") == "yes"
    finally:
        ctx.close()
