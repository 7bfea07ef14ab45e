"""In a real browser: a receipt's page shows the witness cosignatures of its tree head.

The witness runs as its own process with its own key and state; the application is
configured with it (k = 1 of 1).  Filing a criticism gets the new head cosigned; the
entry's page lists the cosignature, verified against the configured witness key.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gosplan.core import note
from gosplan.services import publiclog

from .conftest import make_settings, seeded_copy
from .test_web_browser import _free_port, browser  # noqa: F401 (the shared Chromium)

pytestmark = pytest.mark.browser
RUN = [sys.executable, "-c", "from gosplan.cli import main; main()"]


@pytest.fixture(scope="module")
def witnessed_server(tmp_path_factory: pytest.TempPathFactory, economy_dir: Path,
                     _drop_templates: None) -> Iterator[str]:
    import uvicorn

    from gosplan.web.app import create_app

    folder = tmp_path_factory.mktemp("witnessed-store")
    home = tmp_path_factory.mktemp("witness-machine")
    url = f"sqlite:///{folder / 'gosplan.db'}"
    seeded_copy(url, folder, economy_dir, tmp_path_factory)
    vkey = subprocess.run([*RUN, "witness", "keygen", "--name", "witness.test/browser",
                           "--key", str(home / "w.key")], capture_output=True, text=True,
                          check=True, env=os.environ.copy()).stdout.strip()
    wport = _free_port()
    settings = make_settings(url, folder, economy_dir,
                             witnesses=[f"{vkey} http://127.0.0.1:{wport}"], witness_quorum=1)
    origin = publiclog.log_origin(settings)
    subprocess.run([*RUN, "witness", "add-log", "--state", str(home / "state.json"),
                    "--origin", origin, "--vkey",
                    str(note.Verifier.of(origin, publiclog.public_key(settings)))],
                   check=True, env=os.environ.copy(), capture_output=True)
    wproc = subprocess.Popen([*RUN, "witness", "serve", "--key", str(home / "w.key"),
                              "--state", str(home / "state.json"), "--port", str(wport)],
                             env=os.environ.copy(), stderr=subprocess.DEVNULL)
    for _ in range(200):  # until the witness listens
        try:
            socket.create_connection(("127.0.0.1", wport), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    app = create_app(settings, migrate=False)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        app.state.gosplan.engine.dispose()
        wproc.terminate()
        wproc.wait(timeout=10)


def test_a_receipt_page_shows_its_witness_cosignatures(
        browser: Any, witnessed_server: str) -> None:  # noqa: F811
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
        page.wait_for_function(
            "document.getElementById('proof-result').dataset.verified !== undefined")
        assert page.get_attribute("#proof-result", "data-verified") == "yes"
    finally:
        ctx.close()
