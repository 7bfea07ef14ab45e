"""Re-export of :mod:`gosplan.core.merkle` (the RFC 9162 maths moved below the services)."""

from gosplan.core.merkle import *  # noqa: F403
from gosplan.core.merkle import (  # noqa: F401
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    MerkleTree,
    SubtreeHash,
    complete_subtrees,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    verify_consistency,
    verify_inclusion,
)
