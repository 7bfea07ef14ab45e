"""Screenshots of the main pages on a phone (390 px wide) into docs/screenshots/phone/.

The seeded demonstration on the default economy (or ``--economy SOURCE``), served by
uvicorn on loopback in a fresh temporary store, driven by Playwright with the
distribution's Chromium as each role. Every page is checked for sideways scrolling as it is
taken (``scrollWidth <= innerWidth``); the script exits non-zero if one overflows.

    PYTHONPATH=src .venv/bin/python scripts/screenshots.py [--economy SOURCE] [--width 390]
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "phone"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]

#: (file name, who is signed in or None, the page)
SHOTS: list[tuple[str, str | None, str]] = [
    ("home", None, "/"),
    ("economy", None, "/economy"),
    ("plan", None, "/plan"),
    ("decisions", None, "/decisions"),
    ("log", None, "/log"),
    ("criticism", None, "/criticism"),
    ("account", "ana", "/account"),
    ("me", "ana", "/me"),
    ("enterprise", "carla", "/enterprise/textile-coop"),
    ("enterprises", "carla", "/enterprises"),
    ("fulfilment", "elena", "/fulfilment"),
    ("decision", "diego", "/decisions/1"),
    ("integrity", "elena", "/integrity"),
]


def serve(economy: str) -> tuple[str, Any]:
    """The seeded demonstration in a fresh temporary store; (its base URL, the server)."""
    import uvicorn

    from gosplan.config import Settings
    from gosplan.services import commission
    from gosplan.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="gosplan-shots-"))
    commission.keygen(
        folder / "shares",
        ["Ivanova", "Petrov", "Sidorova"],
        threshold=2,
        public_path=folder / "commission.pub",
    )
    settings = Settings(
        database_url=f"sqlite:///{folder / 'gosplan.db'}",
        economy=economy,
        secret_key_path=str(folder / "session.key"),
        log_key_path=str(folder / "log.key"),
        watch_key_path=str(folder / "watch.key"),
        commission_key_path=str(folder / "commission.pub"),
        seed_demo=True,
    )  # type: ignore[call-arg]
    app = create_app(settings)
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


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--economy", default="default")
    ap.add_argument("--width", type=int, default=390)
    ap.add_argument("--max-height", type=int, default=2400)
    ap.add_argument("--scale", type=float, default=1.0, help="device pixels per CSS pixel")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    base, srv = serve(args.economy)
    wide = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts: dict[str | None, Any] = {}
        for name, who, url in SHOTS:
            if who not in contexts:
                ctx = browser.new_context(
                    base_url=base,
                    viewport={"width": args.width, "height": 844},
                    device_scale_factor=args.scale,
                    is_mobile=True,
                    has_touch=True,
                )
                ctx.set_default_timeout(120_000)
                contexts[who] = ctx.new_page()
                if who:
                    sign_in(contexts[who], who)
            page = contexts[who]
            page.goto(url)
            page.wait_for_load_state("networkidle")
            sw, iw, sh = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth,"
                " document.documentElement.scrollHeight]"
            )
            if sw > iw or iw > args.width:
                wide.append(f"{url} as {who or 'the public'}: {sw} px wide in {iw}")
            height = min(int(sh), args.max_height)
            page.screenshot(
                path=str(OUT / f"{name}.png"),
                full_page=True,
                clip={"x": 0, "y": 0, "width": args.width, "height": height},
            )
            print(f"{OUT / name}.png ({args.width}x{height}, {who or 'public'})")
        browser.close()
    srv.should_exit = True
    for line in wide:
        print("too wide:", line, file=sys.stderr)
    return 1 if wide else 0


if __name__ == "__main__":
    raise SystemExit(main())
