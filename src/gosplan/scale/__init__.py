"""Scale: synthetic product-level economies, fast large solves, and a Dask engine.

* :mod:`gosplan.scale.synthetic_economies` — deterministic synthetic economies of any size.
* :mod:`gosplan.scale.kernels`, :mod:`gosplan.scale.gpu` — re-exports of
  :mod:`gosplan.core.kernels` and :mod:`gosplan.core.gpu`, the multi-threaded
  kernels and the large-n solver behind ``gosplan.labour_values(method="auto")``
  (they live in the core, which imports nothing above it).
* :mod:`gosplan.scale.distributed` — the same solver on Dask distributed.
"""

from gosplan.scale.synthetic_economies import (
    SyntheticSpec,
    read_synthetic,
    read_synthetic_matrix,
    synthetic_economy,
    synthetic_matrix,
    write_synthetic,
)

__all__ = [
    "SyntheticSpec",
    "read_synthetic",
    "read_synthetic_matrix",
    "synthetic_economy",
    "synthetic_matrix",
    "write_synthetic",
]
