"""``gosplan synth`` and ``gosplan synth-values``: synthetic product-level economies at scale."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gosplan.cli._common import console, domain_errors


@click.command("synth")
@click.argument("n", type=int)
@click.option("--seed", default=0, show_default=True, help="Same seed, same economy.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    required=True,
    help="The .npz file to write (streamed in chunks).",
)
@click.option(
    "--spectral-radius",
    default=0.7,
    show_default=True,
    help="Every column of A sums to this (so it is the spectral radius).",
)
@click.option(
    "--spread",
    default=0.0,
    show_default=True,
    help="Column sums drawn in [rho(1 - spread), rho] instead.",
)
@click.option("--inputs", type=int, default=None, help="Inputs per product [log2 n + 5].")
@click.option("--chunk", default=1_000_000, show_default=True, help="Products per chunk.")
@domain_errors
def synth(
    n: int,
    seed: int,
    out: str,
    spectral_radius: float,
    spread: float,
    inputs: int | None,
    chunk: int,
) -> None:
    """Write a synthetic economy of N products to a .npz file."""
    from gosplan.scale.synthetic_economies import SyntheticSpec, write_synthetic

    t0 = time.perf_counter()
    path = write_synthetic(
        out,
        n,
        seed=seed,
        chunk=chunk,
        spectral_radius=spectral_radius,
        spread=spread,
        inputs=inputs,
    )
    k = SyntheticSpec(n=n, inputs=inputs).k
    size = Path(path).stat().st_size / 2**30
    console.print(
        f"wrote {path}: {n:,} products, {k} inputs each ({n * k:,} nonzeros), "
        f"spectral radius {spectral_radius}; {size:.2f} GiB in "
        f"{time.perf_counter() - t0:.1f} s"
    )


@click.command("synth-values")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--method",
    default="auto",
    show_default=True,
    type=click.Choice(
        [
            "auto",
            "bicgstab-parallel",
            "mixed",
            "jacobi-parallel",
            "cuda",
            "gmres",
            "bicgstab",
            "jacobi",
        ]
    ),
)
@click.option("--tol", default=1e-10, show_default=True, help="Relative residual to reach.")
@click.option(
    "--scheduler",
    default=None,
    help="Solve on the Dask cluster at this scheduler address (tcp://host:8786).",
)
@click.option(
    "--local-workers",
    type=int,
    default=None,
    help="Solve on a Dask LocalCluster with this many worker processes.",
)
@domain_errors
def synth_values(
    path: str, method: str, tol: float, scheduler: str | None, local_workers: int | None
) -> None:
    """Labour values of the synthetic economy in PATH, on this machine or on Dask."""
    from gosplan.core.values import labour_values
    from gosplan.scale.synthetic_economies import read_synthetic

    t0 = time.perf_counter()
    e = read_synthetic(path)
    console.print(f"read {e!r} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    if scheduler or local_workers:
        from gosplan.scale.distributed import labour_values_distributed

        if scheduler:
            res = labour_values_distributed(e, address=scheduler, tol=tol)
        else:
            from distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=local_workers, threads_per_worker=1, dashboard_address=None
                ) as cl,
                Client(cl) as c,
            ):
                res = labour_values_distributed(e, client=c, tol=tol)
    else:
        res = labour_values(e, tol=tol, method=method)
    console.print(f"{res!r} in {time.perf_counter() - t0:.1f} s")
    v = res.values
    console.print(
        f"labour values ({res.unit}): min {v.min():.4g}, median {v.median():.4g}, max {v.max():.4g}"
    )


COMMANDS = [synth, synth_values]
