"""Receipts: an entry, its inclusion proof and a signed tree head, checkable by anyone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.core import merkle
from gosplan.errors import ValidationError
from gosplan.services.publiclog.heads import SignedTreeHead
from gosplan.services.publiclog.store import WithHead, entry, inclusion_proof, leaf_data
from gosplan.services.publiclog.verify import Verification
from gosplan.storage.publiclog import LogEntry

if TYPE_CHECKING:
    from gosplan.services.publiclog.witnessing import WitnessPolicy


def check_heads(heads: Sequence[SignedTreeHead], pol: WitnessPolicy | None) -> list[str]:
    from gosplan.services.publiclog.witnessing import check_heads as check

    return check(heads, pol)


# --------------------------------------------------------------------------- receipts

RECEIPT_FORMAT = "gosplan-receipt/1"


def receipt(
    session: Session, index: int, settings: Settings | None = None, **extra: Any
) -> dict[str, Any]:
    """A receipt for entry ``index``: the entry, its inclusion proof and a signed head.

    The holder can verify it alone (:func:`verify_receipt`) and, later, against a
    newer head with a consistency proof.  Call on committed data.  The head is the
    latest signed one when it covers the whole log (no new head per request).
    """
    row = entry(session, index)
    from gosplan.services.publiclog.witnessing import publish_head

    sth = publish_head(session, settings)
    proof = inclusion_proof(session, index, sth.tree_size)
    return _document(row, proof, sth, extra)


def _document(
    row: Any, proof: Sequence[bytes], sth: SignedTreeHead, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """A receipt: the entry, its leaf hash, its inclusion proof and the signed head."""
    return {
        "format": RECEIPT_FORMAT,
        **extra,
        "entry": row.to_public(),
        "leaf_hash": bytes(row.leaf_hash).hex(),
        "inclusion_proof": [p.hex() for p in proof],
        "tree_head": sth.to_json(),
    }


def receipt_at_head(
    session: Session, index: int, settings: Settings | None = None, **extra: Any
) -> dict[str, Any]:
    """:func:`receipt` in fewer round trips, for an entry just appended and committed (the
    filing of a criticism): the log's size read once, the latest head's size alone, the
    subtree hashes of the new head's root and of the inclusion proof fetched together.
    The receipt is the same; where witnesses are configured (cosignatures to ask for) it
    is :func:`receipt` itself."""
    from gosplan.services.publiclog import heads
    from gosplan.services.publiclog.store import TreeHead, _stored, size
    from gosplan.services.publiclog.witnessing import policy

    made = session.info.get(_MADE, {}).pop(index, None)
    if made is not None:  # signed with the append (head_with_append): nothing to read
        public, leaf, proof, sth = made
        return {
            "format": RECEIPT_FORMAT,
            **extra,
            "entry": public,
            "leaf_hash": leaf.hex(),
            "inclusion_proof": [p.hex() for p in proof],
            "tree_head": sth.to_json(),
        }
    if policy(settings) is not None:
        return receipt(session, index, settings, **extra)
    row = entry(session, index)
    n = size(session)
    latest = heads.latest_head_size(session)
    if latest is not None and latest == (n, heads.public_key(settings)):
        return receipt(session, index, settings, **extra)  # a head covers it already
    root, proof = _stored(
        session,
        lambda sub: (merkle.range_hash(sub, 0, n), merkle.inclusion_proof(sub, index, n)),
    )
    sth = heads.sign_head(session, TreeHead(n, root), settings)
    return _document(row, proof, sth, extra)


#: ``session.info``: receipts' parts made with an append, by entry index
_MADE = "gosplan_log_receipts"


def head_with_append(session: Session, settings: Settings | None = None) -> WithHead:
    """For ``append(..., with_head=...)``: sign the head of the log as it stands with the new
    entries, stored in the same statement as they are (so heads are stored in the order of
    their sizes, under the log's lock), and keep each new entry's inclusion proof in it,
    so that :func:`receipt_at_head` after the commit reads nothing. Where witnesses are
    configured it does nothing (a receipt then needs a cosigned head: :func:`receipt`)."""
    from sqlalchemy import insert

    from gosplan.services.publiclog import heads
    from gosplan.services.publiclog.store import TreeHead
    from gosplan.services.publiclog.witnessing import policy
    from gosplan.storage.publiclog import StoredTreeHead

    if policy(settings) is not None:
        return lambda rows, size, subtree: []

    def make(rows: list[LogEntry], size: int, subtree: Callable[[int, int], bytes]) -> list[Insert]:
        sth = heads.signed(TreeHead(size, merkle.range_hash(subtree, 0, size)), settings)
        made = session.info.setdefault(_MADE, {})
        for r in rows:
            proof = merkle.inclusion_proof(subtree, r.index, size)
            made[r.index] = (r.to_public(), bytes(r.leaf_hash), proof, sth)
        return [insert(StoredTreeHead).values(heads.stored_columns(sth))]

    return make


def verify_receipt(
    data: Mapping[str, Any],
    *,
    trusted_key: bytes | None = None,
    later_head: SignedTreeHead | None = None,
    consistency: Sequence[bytes] | None = None,
    witnesses: WitnessPolicy | None = None,
) -> Verification:
    """Check a receipt: entry ↔ leaf hash, signature, inclusion, and a later head if given.

    With ``later_head`` and ``consistency`` (a proof from the receipt's tree size
    to the later one) it also shows the log still contains the entry unchanged.
    """
    result = Verification()
    if data.get("format") != RECEIPT_FORMAT:
        result.fail(f"not a gosplan receipt (format must be {RECEIPT_FORMAT!r})")
        return result
    try:
        e = data["entry"]
        sth = SignedTreeHead.from_json(data["tree_head"])
        proof = [bytes.fromhex(p) for p in data["inclusion_proof"]]
        lh = merkle.leaf_hash(leaf_data(int(e["index"]), e["kind"], e["payload"], e["time"]))
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        result.fail(f"receipt is malformed: {exc}")
        return result
    result.tree_size, result.root_hash = sth.tree_size, sth.root_hash
    if data.get("leaf_hash") != lh.hex():
        result.fail(f"receipt entry {e['index']} does not match its leaf hash: it was altered")
    if not sth.verify(trusted_key):
        result.fail("receipt's tree head has a bad signature or an untrusted key: forged")
    for problem in check_heads([sth], witnesses):
        result.fail("receipt's " + problem)
    if not merkle.verify_inclusion(int(e["index"]), sth.tree_size, lh, proof, sth.root_hash):
        result.fail(
            f"inclusion proof does not put entry {e['index']} in the signed tree of "
            f"{sth.tree_size} entries"
        )
    else:
        result.heads_checked += 1
    if later_head is not None:
        if not later_head.verify(trusted_key if trusted_key is not None else sth.public_key):
            result.fail("the later tree head has a bad signature or another key: forged")
        elif check_heads([later_head], witnesses):
            result.fail("the later " + check_heads([later_head], witnesses)[0])
        elif consistency is None or not merkle.verify_consistency(
            sth.tree_size,
            later_head.tree_size,
            sth.root_hash,
            later_head.root_hash,
            consistency,
        ):
            result.fail(
                f"the log of {later_head.tree_size} entries is not an extension of "
                f"the receipt's {sth.tree_size}: the log was rewritten"
            )
        else:
            result.heads_checked += 1
            result.tree_size, result.root_hash = later_head.tree_size, later_head.root_hash
    return result
