"""Run gosplan's benchmarks and print one table.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.run                 # everything, full sizes
    .venv/bin/python -m benchmarks.run --quick         # small sizes, a minute or two
    .venv/bin/python -m benchmarks.run --only values   # modules whose name contains "values"
    python benchmarks/run.py --quick --json out.json   # also write the rows as JSON

Convention for benchmark modules
--------------------------------
Every module ``benchmarks/bench_<name>.py`` is discovered automatically.  It
exposes one function::

    def run(quick: bool) -> list[dict]: ...

returning one row per measured figure.  A row is a plain dict with these keys
(all but ``work`` and ``figure`` optional; missing ones print as blank):

``work``         what was measured, e.g. ``"labour values (auto)"``
``size``         problem size, e.g. ``1_000_000`` or ``"10^6 products"``
``figure``       the measured number (seconds, bytes, ratio ...)
``unit``         its unit: ``"s"``, ``"GiB"``, ``"x CSR"``, ...
``peer``         what it is compared with, measured in the same run
``peer_figure``  the peer's number in the same unit (or a string such as
                 ``"did not finish in 120 s"``)
``ratio``        ``peer_figure / figure`` for times (how many times faster),
                 or whatever the module documents; None when not comparable
``goal``         the goal in words, e.g. ``"<= 2 s"`` or ``">= 100x"``
``met``          True / False / None (no goal)
``note``         free text: residual reached, memory, iterations ...

Each figure stands beside its comparison measured in the same run, so ratios
stay meaningful on a busy machine.  A module that raises is reported as a
failed row and the others still run.  Speed is only ever *measured* here;
tests never assert it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # allow ``python benchmarks/run.py``
    sys.path.insert(0, str(HERE.parent))

COLUMNS = ("work", "size", "figure", "unit", "peer", "peer_figure", "ratio", "goal", "met", "note")


def discover(only: Sequence[str] = ()) -> list[str]:
    """Names of the ``bench_*.py`` modules, filtered by substrings in ``only``."""
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return names


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, int):
        k = round(math.log10(v)) if v > 0 else 0
        if v >= 10_000 and v == 10**k:
            return f"10^{k}"
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.3g}"
    return str(v)


def table(rows: Sequence[dict[str, Any]], *, markdown: bool = True) -> str:
    """Render rows as a Markdown table (the format BENCHMARKS.md uses)."""
    cols = [c for c in COLUMNS if any(r.get(c) is not None for r in rows)]
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    if markdown:
        head = "| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |"
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        body = [
            "| " + " | ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) + " |"
            for row in cells
        ]
        return "\n".join([head, rule, *body])
    return "\n".join(
        "  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True))
        for row in [list(cols), *cells]
    )


def machine() -> dict[str, Any]:
    """A short description of the machine the benchmarks ran on."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    try:
        import os

        info["cpus"] = os.cpu_count()
        import psutil

        info["memory_GiB"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except (ImportError, OSError):
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    for mod in ("numpy", "scipy", "numba", "dask", "distributed", "pymrio", "highspy"):
        try:
            info[mod] = importlib.import_module(mod).__version__
        except Exception:  # an absent or broken package is simply not listed
            pass
    return info


def run_module(name: str, quick: bool) -> list[dict[str, Any]]:
    """Import ``benchmarks.<name>`` and call its ``run(quick)``; failures become a row."""
    t0 = time.perf_counter()
    try:
        mod = importlib.import_module(f"benchmarks.{name}")
        fn: Callable[[bool], list[dict[str, Any]]] = mod.run
        rows = list(fn(quick))
    except Exception as exc:  # one broken module must not hide the others
        traceback.print_exc()
        return [
            {
                "work": name,
                "figure": None,
                "note": f"FAILED: {type(exc).__name__}: {exc}",
                "met": False,
            }
        ]
    for r in rows:
        r.setdefault("module", name)
    print(f"# {name}: {len(rows)} row(s) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        help="run modules whose name contains this (repeatable)",
    )
    ap.add_argument("--json", type=Path, help="also write rows and machine info as JSON here")
    ap.add_argument("--list", action="store_true", help="list the modules and exit")
    args = ap.parse_args(argv)
    names = discover(args.only)
    if args.list:
        print("\n".join(names))
        return 0
    if not names:
        print(f"no benchmark modules match {args.only}", file=sys.stderr)
        return 1
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    rows: list[dict[str, Any]] = []
    for name in names:
        got = run_module(name, args.quick)
        rows.extend(got)
        print(f"\n## {name}\n\n{table(got)}\n", flush=True)
    print("\n## all\n\n" + table(rows))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "quick": args.quick, "rows": rows}, indent=2, default=str)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
