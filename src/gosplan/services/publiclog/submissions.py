"""Cosignatures that witnesses deliver themselves, checked against their registered keys.

A witness the log cannot reach (behind a firewall, or one that prefers to pull:
it fetches a checkpoint and a consistency proof, checks them, and cosigns) hands
its cosignature back by ``POST /log/cosignatures`` (or ``gosplan log
add-cosignature``): the checkpoint as a C2SP signed note carrying its
``cosignature/v1`` line (https://c2sp.org/tlog-cosignature).  Nothing is taken
on trust:

* a witness is **registered** by its public key: it must be one of the
  configured witnesses (``GOSPLAN_WITNESSES``, each a ``cosignature/v1``
  verifier key, Ed25519), matched by key name and key ID; a line from any
  other key is refused (403), and so is a note with no witness line;
* the cosignature must **verify** against that registered key over the very
  checkpoint text (403 otherwise);
* the checkpoint must be one **this log signed** (same origin, size and root
  as a stored tree head; 404 otherwise): a witness cannot attach a
  cosignature of another history;
* submissions are **rate-limited per witness** (``GOSPLAN_WITNESS_SUBMISSIONS_PER_MINUTE``,
  429 beyond it, counted across processes in the store) — counted only once
  the cosignature verified, so nobody can spend a witness's allowance by
  claiming its name;
* a witness's cosignature of a head is kept once (a second one, even with
  another timestamp, is answered 200 and stored no more), so the table grows
  by at most one row per witness and head.

Every refusal leaves the store unchanged and says which part is wrong and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.core import note
from gosplan.errors import ValidationError
from gosplan.services.publiclog.heads import Cosignature, log_origin
from gosplan.services.publiclog.witnessing import policy
from gosplan.storage.publiclog import StoredCosignature, StoredTreeHead

__all__ = ["MAX_NOTE_CHARS", "Submission", "submit_cosignature"]

#: longest signed note accepted (a checkpoint and a few signature lines are far shorter)
MAX_NOTE_CHARS = 16_384


@dataclass(frozen=True)
class Submission:
    """Outcome of :func:`submit_cosignature` (scipy style: ``success``, ``status``, ``message``).

    ``status`` is an HTTP status: 200 (kept, or already held), 400 malformed, 403 not a
    registered witness or a signature that fails, 404 not a head of this log, 429 too
    many submissions of this witness, 503 the server's own witness list is broken."""

    status: int
    message: str
    witnesses: tuple[str, ...] = ()
    tree_size: int | None = None
    stored: int = 0

    @property
    def success(self) -> bool:
        return self.status == 200

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.success,
            "message": self.message,
            "witnesses": list(self.witnesses),
            "tree_size": self.tree_size,
            "stored": self.stored,
        }


def _refuse(status: int, message: str, **kw: Any) -> Submission:
    return Submission(status, message, **kw)


def submit_cosignature(
    session: Session, signed_note: str, settings: Settings, *, now: float | None = None
) -> Submission:
    """Check a witness's cosigned checkpoint and keep its cosignature (see the module doc).

    Nothing touches ``session`` before the signatures are checked and the witness's
    allowance is counted (in its own short transaction), so a refusal writes nothing."""
    if len(signed_note) > MAX_NOTE_CHARS:
        return _refuse(400, f"note: longer than {MAX_NOTE_CHARS} characters")
    try:
        pol = policy(settings)
    except ValidationError as exc:  # the operator's list is broken: say so, store nothing
        return _refuse(503, f"witness: the server's witness list is misconfigured ({exc})")
    if pol is None:
        return _refuse(
            403, "witness: no witness is registered with this log (GOSPLAN_WITNESSES is empty)"
        )
    try:
        parsed = note.parse_note(signed_note)
        cp = note.parse_checkpoint(parsed.text)
    except note.NoteError as exc:
        return _refuse(400, f"note: {exc}")
    origin = log_origin(settings)
    if cp.origin != origin:
        return _refuse(404, f"origin: {cp.origin!r} is not this log ({origin!r})")
    registered = {(v.name, v.id): v for v in pol.verifiers}
    by_name = {v.name for v in pol.verifiers}
    good: list[tuple[note.Verifier, Cosignature]] = []
    for sig in parsed.signatures:
        v = registered.get((sig.name, sig.id))
        if v is None and sig.name in by_name:
            return _refuse(
                403,
                f"signature: the line of witness {sig.name!r} is made with key "
                f"{sig.id.hex()}, not with its registered key",
                tree_size=cp.size,
            )
        if v is None:
            continue  # the log's own signature, or another key: not a cosignature we keep
        ts = note.verify_signature(parsed.text, v, sig)
        if ts is None:
            return _refuse(
                403,
                f"signature: the cosignature of witness {v.name!r} does not verify against "
                "its registered key over this checkpoint",
                tree_size=cp.size,
            )
        if all(g[0] != v for g in good):
            good.append((v, Cosignature(v.name, v.id, ts, sig.blob[8:])))
    if not good:
        seen = sorted({s.name for s in parsed.signatures})
        return _refuse(
            403,
            "witness: no signature line is from a registered witness key "
            f"(lines from {seen}; registered: {sorted(v.name for v in pol.verifiers)})",
            tree_size=cp.size,
        )
    names = tuple(v.name for v, _ in good)
    from gosplan.storage import sessions as limits

    engine = session.get_bind()
    for v, _ in good:
        ok, _, retry = limits.hit(
            engine,  # type: ignore[arg-type]
            f"witness-cosignature:{v.name}+{v.id.hex()}",
            settings.witness_submissions_per_minute,
            60.0,
            now,
        )
        if not ok:
            return _refuse(
                429,
                f"witness: {v.name!r} submitted more than "
                f"{settings.witness_submissions_per_minute} cosignatures in a minute; "
                f"retry in {int(retry) + 1} s",
                witnesses=names,
                tree_size=cp.size,
            )
    head = session.scalars(
        select(StoredTreeHead)
        .where(
            StoredTreeHead.origin == cp.origin,
            StoredTreeHead.tree_size == cp.size,
            StoredTreeHead.root_hash == cp.root,
        )
        .order_by(StoredTreeHead.id.desc())
        .limit(1)
    ).first()
    if head is None:
        return _refuse(
            404,
            f"checkpoint: this log signed no tree head of size {cp.size} with root "
            f"{cp.root.hex()[:16]}…; a witness can cosign only what the log signed",
            witnesses=names,
            tree_size=cp.size,
        )
    held = {
        (n, bytes(k))
        for n, k in session.execute(
            select(StoredCosignature.name, StoredCosignature.key_id).where(
                StoredCosignature.tree_head_id == head.id
            )
        )
    }
    stored = 0
    for v, c in good:
        if (v.name, v.id) in held:
            continue
        session.add(
            StoredCosignature(
                tree_head_id=head.id,
                name=c.name,
                key_id=c.key_id,
                timestamp=c.timestamp,
                signature=c.signature,
            )
        )
        stored += 1
    session.flush()
    what = (
        f"kept {stored} cosignature(s) of the tree head of size {cp.size}"
        if stored
        else f"the tree head of size {cp.size} already holds these cosignatures"
    )
    return Submission(200, what, names, cp.size, stored)
