"""The Dask engine on a LocalCluster: same answers as the single-machine solver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from gosplan import Economy, NotConverged, ValidationError, labour_values
from gosplan.scale import synthetic_economy
from gosplan.scale.distributed import (
    DistributedMatrix,
    labour_values_distributed,
    solve_leontief_distributed,
)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def economy() -> Economy:
    return synthetic_economy(2000, seed=31, spectral_radius=0.8, spread=0.2)


@pytest.mark.parametrize("method", ["bicgstab", "jacobi"])
def test_equals_single_machine(client: Any, economy: Economy, method: str) -> None:
    single = labour_values(economy, method="bicgstab-parallel")
    dist = labour_values_distributed(economy, client=client, method=method)  # type: ignore[arg-type]
    assert dist.residual <= 1e-10
    np.testing.assert_allclose(dist.values.to_numpy(), single.values.to_numpy(), rtol=1e-8)
    assert list(dist.values.index) == list(economy.products)
    assert "dask" in dist.conventions["engine"]


def test_row_blocks_matvec_and_rmatvec(client: Any, economy: Economy) -> None:
    x = np.random.default_rng(0).random(economy.n)
    with DistributedMatrix(economy.A, client, blocks=3) as D:
        assert len(D.futures) == 3
        assert D.nbytes >= economy.A.data.nbytes
        np.testing.assert_allclose(D.matvec(x), economy.A @ x, rtol=1e-13)
        np.testing.assert_allclose(D.rmatvec(x), economy.A.T @ x, rtol=1e-12)


@pytest.mark.shared_data
@pytest.mark.parametrize("spec", ["default", "uk-1984/UK-1984.csv"])
def test_real_tables(client: Any, spec: str, data_dir: Path) -> None:
    from gosplan.readers.registry import open_source

    e = open_source(spec if spec == "default" else str(data_dir / spec))
    ref = labour_values(e, method="direct", tol=1e-13).values.to_numpy()
    got = labour_values_distributed(e, client=client).values.to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_by_scheduler_address(client: Any, economy: Economy) -> None:
    # the in-process cluster also listens on an address, as a real one would
    address = client.scheduler.address
    res = solve_leontief_distributed(
        sp.csr_array(economy.A.T), economy.labour, address=address, blocks=2
    )
    assert res.success and res.extra["blocks"] == 2


def test_not_productive_is_an_error(client: Any) -> None:
    A = synthetic_economy(800, seed=3, spectral_radius=0.5).A * 2.2
    e = Economy(A, np.ones(800), check_productive=False)
    with pytest.raises(NotConverged):
        labour_values_distributed(e, client=client, maxiter=200)


def test_needs_a_cluster() -> None:
    e = synthetic_economy(50, seed=1)
    with pytest.raises(ValidationError, match="Pass either `client` or `address`"):
        labour_values_distributed(e, client=object(), address="tcp://127.0.0.1:1")
