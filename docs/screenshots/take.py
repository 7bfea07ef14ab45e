"""Take the screenshots in this folder: the seeded demonstration on the default economy,
served on loopback and driven by Playwright with the distribution's Chromium.

    .venv/bin/python docs/screenshots/take.py [--economy SOURCE]
"""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve(economy: str) -> tuple[str, Any]:
    import uvicorn

    from gosplan.config import Settings
    from gosplan.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="gosplan-shots-"))
    app = create_app(
        Settings(
            database_url=f"sqlite:///{folder / 'gosplan.db'}",
            economy=economy,
            secret_key_path=str(folder / "session.key"),
            log_key_path=str(folder / "log.key"),
            commission_key_path=str(folder / "commission.key"),
            seed_demo=True,
        )
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", srv


def shot(page: Any, name: str, *, max_height: int = 1800) -> None:
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), max_height)
    page.screenshot(
        path=str(HERE / f"{name}.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": height},
    )
    print(f"{name}.png ({height} px)")


def sign_in(page: Any, user: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "demo-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def sign_out(page: Any) -> None:
    page.click("header .who button")
    page.wait_for_url(re.compile(r".*/$"))


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--economy", default="default")
    args = ap.parse_args()
    base, srv = serve(args.economy)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.goto("/")
        shot(page, "home")
        page.goto("/economy")
        shot(page, "economy", max_height=1400)
        page.locator("table.data tbody tr a").nth(2).click()
        shot(page, "product")
        page.goto("/plan")
        page.wait_for_load_state("networkidle")  # the charts (the CSP forbids a string predicate)
        shot(page, "plan", max_height=2400)
        sign_in(page, "ana")
        page.goto("/account")
        shot(page, "account")
        sign_out(page)
        sign_in(page, "carla")
        page.goto("/enterprise/textile-coop")
        shot(page, "enterprise")
        page.goto("/fulfilment")
        shot(page, "fulfilment")
        sign_out(page)
        page.goto("/criticism")
        page.select_option("#target", "dir-grain")
        page.fill(
            "textarea[name=content]",
            "Seed grain leaves the farm without any record; "
            "the delivery reports do not match what the textile cooperative receives.",
        )
        shot(page, "criticism")
        page.click("#file-criticism button[type=submit]")
        shot(page, "criticism-receipt", max_height=1200)
        receipt = page.inner_text("#receipt")
        page.goto("/receipts/verify")
        page.fill("textarea[name=receipt]", receipt)
        page.click("#verify-receipt button[type=submit]")
        shot(page, "receipt-verified")
        sign_in(page, "bruno")
        page.goto("/decisions/1")
        shot(page, "decision")
        sign_out(page)
        page.goto("/log")
        shot(page, "log", max_height=1400)
        page.locator("#log tbody tr a").nth(4).click()
        page.wait_for_selector("#proof-result[data-verified]", state="attached")
        shot(page, "log-entry")
        browser.close()
    srv.should_exit = True


if __name__ == "__main__":
    main()
