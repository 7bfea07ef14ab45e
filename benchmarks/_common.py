"""Shared helpers of gosplan's own benchmark modules: timing, peak memory, capped subprocesses."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"  # git-ignored


@dataclass
class Measured:
    value: Any
    seconds: float
    rss_before: int  # bytes
    rss_peak: int  # bytes, sampled every few ms during the call

    @property
    def rss_added(self) -> int:
        return max(0, self.rss_peak - self.rss_before)


def measure(fn: Callable[[], Any], *, interval: float = 0.002) -> Measured:
    """Run ``fn()``; wall seconds and the process's peak RSS while it ran (sampled)."""
    proc = psutil.Process()
    before = proc.memory_info().rss
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        value = fn()
    finally:
        seconds = time.perf_counter() - t0
        stop.set()
        th.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return Measured(value, seconds, before, peak[0])


def gib(b: float) -> float:
    return b / 2**30


def csr_bytes(M: Any) -> int:
    return int(M.data.nbytes + M.indices.nbytes + M.indptr.nbytes)


def run_capped(code: str, *, timeout: float, mem_gib: float) -> tuple[str, float | None]:
    """Run Python ``code`` in a child with a wall-clock and address-space cap.

    Returns ``(outcome, seconds)``: ``("ok", s)`` with the child's own timing
    (it must print ``SECONDS <s>`` last), ``("did not finish in N s", None)``,
    or ``("out of its M GiB memory cap", None)`` / ``("failed: ...", None)``.
    """
    cap = int(mem_gib * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = dict(os.environ)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limit,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout:.0f} s", None
    if out.returncode != 0:
        err = (out.stderr or "").strip().splitlines()
        last = err[-1] if err else f"exit {out.returncode}"
        if "MemoryError" in last or "memory" in last.lower() or out.returncode in (-9, 137):
            return f"out of its {mem_gib:g} GiB memory cap", None
        return f"failed: {last[:120]}", None
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("SECONDS "):
            return "ok", float(line.split()[1])
    return "failed: no timing printed", None


def plain_jacobi(M: Any, b: Any, rtol: float, maxiter: int = 100_000) -> tuple[Any, int]:
    """The textbook Neumann/Jacobi loop in scipy: ``x <- b + M x`` until ``||r|| <= rtol ||b||``."""
    import numpy as np

    bn = float(np.linalg.norm(b))
    x = b.copy()
    for it in range(maxiter):
        r = b + M @ x - x
        if float(np.linalg.norm(r)) <= rtol * bn:
            return x, it
        x = x + r
    return x, maxiter


def relres(M: Any, x: Any, b: Any) -> float:
    import numpy as np

    return float(np.linalg.norm(b - x + M @ x) / np.linalg.norm(b))
