"""The public log: an append-only RFC 9162 Merkle-tree log of everything gosplan decides.

Every area records what it decides or observes with one call, inside its own
transaction (the entry commits or rolls back with the caller's work)::

    from gosplan.services import publiclog
    publiclog.append(session, "plan.adopted", {"plan": 7, "year": 2027})

The leaf for entry ``i`` is the canonical JSON (sorted keys, no spaces, UTF-8)
of ``{"index": i, "kind": ..., "payload": ..., "time": ...}``, hashed as
``SHA-256(0x00 || leaf)``.  The store keeps the hash of every complete subtree,
so a tree head, an inclusion proof or a consistency proof costs ``O(log² n)``
lookups whatever the log's size.

Tree heads are signed with Ed25519; the key lives in the file named by
:attr:`gosplan.config.Settings.log_key_path` and is created on first use.
:func:`export` writes the log as JSON Lines; :func:`verify_export` checks such
a file without any access to the store, and :func:`verify_store` checks the
store itself.  Nothing here ever changes or deletes an entry.
"""

from __future__ import annotations

from gosplan.services.publiclog.heads import (
    Cosignature,
    SignedTreeHead,
    current_head,
    latest_signed_head,
    log_origin,
    public_key,
    sign_tree_head,
    signed_heads,
    signing_key,
)
from gosplan.services.publiclog.receipts import (
    RECEIPT_FORMAT,
    head_with_append,
    receipt,
    receipt_at_head,
    verify_receipt,
)
from gosplan.services.publiclog.store import (
    LogEntry,
    TreeHead,
    append,
    append_event,
    append_many,
    canonical_json,
    consistency_proof,
    count_by_kind,
    entries,
    entry,
    inclusion_proof,
    key_id,
    leaf_data,
    size,
    tree_head,
)
from gosplan.services.publiclog.verify import (
    EXPORT_FORMAT,
    ExportedLog,
    Verification,
    export,
    read_export,
    verify_export,
    verify_store,
)

__all__ = [
    "EXPORT_FORMAT",
    "RECEIPT_FORMAT",
    "Cosignature",
    "ExportedLog",
    "LogEntry",
    "SignedTreeHead",
    "TreeHead",
    "Verification",
    "append",
    "append_event",
    "append_many",
    "canonical_json",
    "consistency_proof",
    "count_by_kind",
    "current_head",
    "entries",
    "entry",
    "export",
    "head_with_append",
    "inclusion_proof",
    "key_id",
    "latest_signed_head",
    "leaf_data",
    "log_origin",
    "public_key",
    "read_export",
    "receipt",
    "receipt_at_head",
    "sign_tree_head",
    "signed_heads",
    "signing_key",
    "size",
    "tree_head",
    "verify_export",
    "verify_receipt",
    "verify_store",
]
