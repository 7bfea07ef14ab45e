"""RFC 9162 Merkle maths against the Certificate Transparency test vectors.

The leaves, roots, inclusion and consistency proofs below are the published
vectors of the RFC 6962/9162 reference implementation, as carried in
``transparency-dev/merkle`` ``proof/verify_test.go`` (commit 02194e9a; the same
values are in Google's ``certificate-transparency`` C++ ``merkle_tree_test.cc``).
Indices there are 1-based; here they are 0-based.
"""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from gosplan.services import merkle
from gosplan.services.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (0-based leaf index, tree size, proof)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

TREE = MerkleTree.from_data(LEAVES)


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").hexdigest() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert MerkleTree().root() == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == ROOTS[0]
    assert leaf_hash(b"ab") != hashlib.sha256(b"ab").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_roots_match_published_vectors_for_every_size() -> None:
    frontier = Frontier()
    for n in range(1, 9):
        assert TREE.root(n) == ROOTS[n - 1], f"size {n}"
        frontier.append(leaf_hash(LEAVES[n - 1]))
        assert frontier.root() == ROOTS[n - 1], f"frontier size {n}"


def test_inclusion_proofs_match_published_vectors() -> None:
    for index, size, proof in INCLUSION:
        assert TREE.inclusion_proof(index, size) == proof, (index, size)
        assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, ROOTS[size - 1])


def test_consistency_proofs_match_published_vectors() -> None:
    for first, second, proof in CONSISTENCY:
        assert TREE.consistency_proof(first, second) == proof, (first, second)
        assert verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


def test_corrupted_inclusion_proofs_fail() -> None:
    index, size, proof = INCLUSION[2]
    leaf, root = leaf_hash(LEAVES[index]), ROOTS[size - 1]
    bad = [
        (index - 1, size, leaf, proof, root),
        (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, leaf_hash(b"WrongLeaf"), proof, root),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [root, *proof], root),
        (index, size, leaf, proof[:-1], root),
        (index, size, leaf, [*proof, b""], root),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        bad.append((index, size, leaf, flipped, root))
    for args in bad:
        assert not verify_inclusion(*args), args[:2]


def test_corrupted_consistency_proofs_fail() -> None:
    first, second, proof = CONSISTENCY[2]
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    bad = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof),
        (first, second, ROOTS[0], r2, proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*proof, r1]),
        (first, second, r1, r2, [r2, *proof]),
        (first, second, r1, r2, proof[:-1]),
        (2, 1, r1, r2, []),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        bad.append((first, second, r1, r2, flipped))
    for args in bad:
        assert not verify_consistency(*args), args[:2]


def _reference_mth(leaves: list[bytes]) -> bytes:
    """The RFC definition, literally (recursive, for checking)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_reference_mth(leaves[:k]), _reference_mth(leaves[k:]))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 70), data=st.data())
def test_every_proof_in_random_trees_verifies(n: int, data: st.DataObject) -> None:
    tree = MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(n))
    size = data.draw(st.integers(1, n), label="size")
    first = data.draw(st.integers(0, size), label="first")
    index = data.draw(st.integers(0, size - 1), label="index")
    assert tree.root(size) == _reference_mth(tree.leaves[:size])
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(index, size, tree.leaves[index], proof, tree.root(size))
    assert not verify_inclusion(index, size, leaf_hash(b"other"), proof, tree.root(size))
    cproof = tree.consistency_proof(first, size)
    assert verify_consistency(first, size, tree.root(first), tree.root(size), cproof)
    if 0 < first < size:
        assert not verify_consistency(first, size, tree.root(first), leaf_hash(b"x"), cproof)


def test_complete_subtrees_on_append_match_tree() -> None:
    tree = MerkleTree.from_data(LEAVES)
    stored: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(tree.leaves):
        for level, pos, h in merkle.complete_subtrees(i, leaf, lambda lv, p: stored[(lv, p)]):
            stored[(level, pos)] = h
    assert stored[(3, 0)] == ROOTS[7]
    assert stored[(2, 1)] == tree.subtree(2, 1)
    assert merkle.range_hash(lambda lv, p: stored[(lv, p)], 0, 7) == ROOTS[6]
