"""Two server processes sharing one store keep every session and every limit right (issue 16):
real uvicorn subprocesses on loopback ports over one PostgreSQL database. Also: the body
limit cuts a streamed upload off at a real socket, and `gosplan serve --workers 2` serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gosplan.config import Settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.parametrize("web_store", ["postgres"], indirect=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(settings: Settings, **extra: object) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GOSPLAN_DATABASE_URL": settings.database_url,
            "GOSPLAN_ECONOMY": settings.economy,
            "GOSPLAN_SECRET_KEY_PATH": settings.secret_key_path,
            "GOSPLAN_LOG_KEY_PATH": settings.log_key_path,
            "GOSPLAN_COMMISSION_KEY_PATH": settings.commission_key_path,
            "PYTHONPATH": str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", ""),
        }
    )
    env.update({f"GOSPLAN_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def _wait(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + log.read_text()[-3000:])
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start: " + log.read_text()[-3000:])


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        env=env,
        cwd=str(ROOT),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _start(argv: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = _spawn(argv, env, log)
    try:
        _wait(proc, port, log)
    except BaseException:
        _stop(proc)
        raise
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def uvicorn_processes(env: dict[str, str], n: int, logs: Path) -> Iterator[list[str]]:
    """``n`` uvicorn processes of the application configured by ``env``, each on its own
    loopback port (logs in ``logs/server<i>.log``); yields their base URLs, stops them all."""
    procs: list[subprocess.Popen[bytes]] = []
    ports = [_free_port() for _ in range(n)]
    try:
        for i, port in enumerate(ports):  # all started before any is waited for
            code = (
                "import uvicorn; from gosplan.web.app import create_app_from_env; "
                f"uvicorn.run(create_app_from_env(), host='127.0.0.1', port={port}, "
                "log_level='warning', proxy_headers=False)"
            )
            procs.append(_spawn([sys.executable, "-c", code], env, logs / f"server{i}.log"))
        for i, (proc, port) in enumerate(zip(procs, ports, strict=True)):
            _wait(proc, port, logs / f"server{i}.log")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for p in procs:
            _stop(p)


@pytest.fixture
def two_servers(web_settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes on one PostgreSQL store: filing limited to 4 a minute, sign-in
    to 3 failures an account."""
    env = _env(web_settings, rate_limit_filing=4, login_attempts_per_account=3)
    with uvicorn_processes(env, 2, tmp_path) as urls:
        yield urls


def _csrf(c: httpx.Client) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert m
    return m.group(1)


def _login(c: httpx.Client, user: str, password: str = "demo-password") -> int:
    return c.post(
        "/login", data={"username": user, "password": password, "csrf_token": _csrf(c)}
    ).status_code


def _twin(c: httpx.Client, base: str) -> httpx.Client:
    """A client on ``base`` that carries ``c``'s cookies (the same browser, another server)."""
    return httpx.Client(base_url=base, cookies=dict(c.cookies), timeout=30)


def test_logout_on_one_process_ends_the_session_on_the_other(two_servers: list[str]) -> None:
    a_url, b_url = two_servers
    with httpx.Client(base_url=a_url, timeout=30) as a:
        assert _login(a, "ana") == 303
        saved = dict(a.cookies)
        with _twin(a, b_url) as b:
            assert b.get("/me.json").json()["username"] == "ana"  # one session, both servers
            tok = _csrf(b)
            assert b.post("/logout", data={"csrf_token": tok}).status_code == 303
        assert a.get("/me.json").status_code == 401
        with httpx.Client(base_url=a_url, cookies=saved, timeout=30) as replay:
            assert replay.get("/me.json").status_code == 401


def test_a_password_change_on_one_process_ends_sessions_on_the_other(
    two_servers: list[str],
) -> None:
    a_url, b_url = two_servers
    with (
        httpx.Client(base_url=a_url, timeout=30) as a,
        httpx.Client(base_url=b_url, timeout=30) as b,
    ):
        assert _login(a, "bruno") == 303 and _login(b, "bruno") == 303
        r = a.post(
            "/me/password",
            data={
                "current_password": "demo-password",
                "new_password": "another-password",
                "csrf_token": _csrf(a),
            },
            headers={"accept": "application/json"},
        )
        assert r.status_code == 200, r.text
        assert b.get("/me.json").status_code == 401
        assert _login(b, "bruno", "another-password") == 303


def test_a_limit_of_n_is_n_across_both_processes(two_servers: list[str]) -> None:
    clients = [httpx.Client(base_url=u, timeout=60) for u in two_servers]
    try:
        toks = [_csrf(c) for c in clients]
        targets = clients[0].get("/criticism.json").json()["targets"]
        kind = next(k for k, v in targets.items() if v)
        codes: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(10)

        def file(i: int) -> None:
            c, tok = clients[i % 2], toks[i % 2]
            barrier.wait()
            r = c.post(
                "/criticism",
                data={
                    "target_kind": kind,
                    "csrf_token": tok,
                    "target": targets[kind][0]["id"],
                    "content": f"criticism number {i}",
                },
                headers={"accept": "application/json"},
            )
            with lock:
                codes.append(r.status_code)

        threads = [threading.Thread(target=file, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [201] * 4 + [429] * 6, codes  # 4 a minute, not 4 per process
    finally:
        for c in clients:
            c.close()


def test_sign_in_throttle_is_shared_by_both_processes(two_servers: list[str]) -> None:
    with (
        httpx.Client(base_url=two_servers[0], timeout=30) as a,
        httpx.Client(base_url=two_servers[1], timeout=30) as b,
    ):
        codes = [_login(c, "carla", "wrong-password") for c in (a, b, a, b, a)]
        assert codes == [401, 401, 401, 429, 429], codes
        assert _login(b, "carla") == 429  # even the right password, until the window passes


def test_the_body_limit_cuts_a_streamed_upload_at_the_socket(
    web_settings: Settings, tmp_path: Path
) -> None:
    port = _free_port()
    code = (
        "import uvicorn; from gosplan.web.app import create_app_from_env; "
        f"uvicorn.run(create_app_from_env(), host='127.0.0.1', port={port}, "
        "log_level='warning')"
    )
    proc = _start(
        [sys.executable, "-c", code],
        _env(web_settings, max_body_bytes=256 * 1024),
        port,
        tmp_path / "s.log",
    )
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            b"POST /criticism HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=zzz\r\n\r\n"
        )
        head = (
            b'--zzz\r\nContent-Disposition: form-data; name="attachment"; '
            b'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        sock.sendall(b"%x\r\n" % len(head) + head + b"\r\n")
        sent, chunk = 0, b"y" * 65536
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed the connection
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                part = sock.recv(65536)
                if not part:
                    break
                answer += part
        except OSError:
            pass
        sock.close()
        assert sent < 64 * 1024 * 1024, "the server read 64 MiB without refusing"
        if answer:
            assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200  # still up
    finally:
        _stop(proc)


def test_gosplan_serve_workers_runs_several_processes(
    web_settings: Settings, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    proc = _start(
        [
            sys.executable,
            "-c",
            "from gosplan.cli import main; main()",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        _env(web_settings),
        port,
        log,
    )
    try:
        pids = set()
        for _ in range(40):
            r = httpx.get(f"http://127.0.0.1:{port}/me.json", timeout=10)
            assert r.status_code == 401
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            assert _login(c, "elena") == 303
            for _ in range(10):
                assert c.get("/me.json").json()["username"] == "elena"
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        pids.update(children)
        assert len(pids) >= 2, (pids, log.read_text()[-2000:])
    finally:
        _stop(proc)
