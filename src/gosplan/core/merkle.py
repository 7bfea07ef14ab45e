"""RFC 9162 Merkle-tree maths: hashing, tree heads, proofs and their verification.

Pure functions over bytes; no storage.  The tree over leaves ``d[0..n)`` is

* ``MTH({}) = SHA-256("")``,
* ``MTH({d0}) = SHA-256(0x00 || d0)``  (the *leaf hash*),
* ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` with ``k`` the
  largest power of two smaller than ``n``  (the *node hash*).

Proof generation reads the hashes of *complete* subtrees through a callable
``subtree(level, index)`` giving the hash over leaves
``[index * 2**level, (index + 1) * 2**level)``; a store that keeps those
(``gosplan.services.publiclog``) answers any proof with ``O(log² n)`` lookups and
no rehashing, and :class:`MerkleTree` answers them from a list of leaf hashes.

Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency)
step by step and returns ``True``/``False``; it never raises on bad proofs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: ``subtree(level, index)`` -> hash of the complete subtree at that position
SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(subtree: SubtreeHash, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` following the RFC split, from complete-subtree hashes."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return subtree(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(range_hash(subtree, start, start + k), range_hash(subtree, start + k, end))


def inclusion_proof(subtree: SubtreeHash, index: int, size: int) -> list[bytes]:
    """RFC 9162 ``PATH(index, D[size])``: the audit path of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(subtree, start + k, end))
            end = start + k
        else:
            path.append(range_hash(subtree, start, start + k))
            start = start + k
    path.reverse()  # PATH lists the deepest sibling first
    return path


def consistency_proof(subtree: SubtreeHash, first: int, second: int) -> list[bytes]:
    """RFC 9162 ``PROOF(first, D[second])``: shows ``D[0:first]`` is a prefix of ``D[0:second]``."""
    if not 0 <= first <= second:
        raise ValueError(
            f"a consistency proof needs 0 <= first <= second; got first={first}, second={second}"
        )
    if first == 0 or first == second:
        return []
    out: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                out.append(range_hash(subtree, start, end))
            break
        k = _split(n)
        if m <= k:
            out.append(range_hash(subtree, start + k, end))
            end = start + k
        else:
            out.append(range_hash(subtree, start, start + k))
            start, m, whole = start + k, m - k, False
    out.reverse()  # SUBPROOF appends on the way back up: deepest first
    return out


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf`` at ``index`` of the tree ``root``?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``first_root`` of ``first`` a prefix of ``second_root``?"""
    if not 0 <= first <= second:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def complete_subtrees(
    index: int, leaf: bytes, left_sibling: SubtreeHash
) -> list[tuple[int, int, bytes]]:
    """The complete subtrees that appending ``leaf`` at ``index`` closes.

    Returns ``[(level, position, hash), ...]`` starting with the leaf itself at
    level 0; ``left_sibling(level, position)`` must give the already-complete
    left neighbour at each level.
    """
    out = [(0, index, leaf)]
    level, pos, h = 0, index, leaf
    while pos & 1:
        h = node_hash(left_sibling(level, pos - 1), h)
        level, pos = level + 1, pos >> 1
        out.append((level, pos, h))
    return out


class MerkleTree:
    """An in-memory tree over leaf hashes, for verifiers and tests.

    Complete-subtree hashes are memoised, so every proof after the first costs
    ``O(log² n)`` lookups.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.leaves: list[bytes] = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    @classmethod
    def from_data(cls, items: Iterable[bytes]) -> MerkleTree:
        return cls(leaf_hash(d) for d in items)

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; returns its index."""
        self.leaves.append(leaf)
        return len(self.leaves) - 1

    def __len__(self) -> int:
        return len(self.leaves)

    def subtree(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree at ``(level, index)``."""
        if level == 0:
            return self.leaves[index]
        h = self._memo.get((level, index))
        if h is None:
            if (index + 1) << level > len(self.leaves):
                raise ValueError(f"subtree ({level}, {index}) is not complete yet")
            left = self.subtree(level - 1, 2 * index)
            h = node_hash(left, self.subtree(level - 1, 2 * index + 1))
            self._memo[(level, index)] = h
        return h

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])`` (default: the whole tree)."""
        n = len(self.leaves) if size is None else size
        if not 0 <= n <= len(self.leaves):
            raise ValueError(f"tree size {n} is outside 0..{len(self.leaves)}")
        return range_hash(self.subtree, 0, n)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        n = len(self.leaves) if size is None else size
        if n > len(self.leaves):
            raise ValueError(f"tree size {n} is larger than the tree ({len(self.leaves)})")
        return inclusion_proof(self.subtree, index, n)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        n = len(self.leaves) if second is None else second
        if n > len(self.leaves):
            raise ValueError(f"tree size {n} is larger than the tree ({len(self.leaves)})")
        return consistency_proof(self.subtree, first, n)


class Frontier:
    """The compact range ``[0, n)``: one hash per set bit of ``n``.

    Enough to compute the root after each append in ``O(log n)``, which is how
    a verifier streams through an exported log without holding it.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), biggest first

    def append(self, leaf: bytes) -> None:
        level, h = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            h = node_hash(left, h)
            level += 1
        self._stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h
