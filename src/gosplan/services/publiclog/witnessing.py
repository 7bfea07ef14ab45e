"""Getting tree heads cosigned by the configured witnesses, and the k-of-n rule.

``settings.witnesses`` lists each witness as ``"<cosignature vkey> [<URL>]"``;
``settings.witness_quorum`` is k (default: a majority of n).  A head is
*accepted* by receipts and ``gosplan log verify`` only when k distinct
configured witnesses cosigned it, so an operator who shows one history to some
people and another to others needs witnesses to cosign both: a witness that
checks consistency before cosigning (:mod:`gosplan.services.witness`) never does.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.core import note
from gosplan.errors import ValidationError
from gosplan.services.publiclog.heads import (
    Cosignature,
    SignedTreeHead,
    add_cosignatures,
    current_head,
)
from gosplan.services.publiclog.store import consistency_proof
from gosplan.storage.publiclog import StoredCosignature, StoredTreeHead

log = logging.getLogger(__name__)

#: ``post(url, body) -> (status, body)``; replaceable for tests of the protocol alone
Post = Callable[[str, bytes], tuple[int, bytes]]


@dataclass(frozen=True)
class WitnessPolicy:
    """The configured witnesses (verifier key, URL or None) and k."""

    witnesses: tuple[tuple[note.Verifier, str | None], ...]
    quorum: int

    @property
    def verifiers(self) -> list[note.Verifier]:
        return [v for v, _ in self.witnesses]

    def accepts(self, head: SignedTreeHead) -> tuple[bool, list[str]]:
        names = head.cosigned_by(self.verifiers)
        return len(names) >= self.quorum, names

    def describe(self, head: SignedTreeHead) -> str:
        _, names = self.accepts(head)
        return (
            f"tree head of size {head.tree_size} has {len(names)} of the {self.quorum} "
            f"witness cosignatures required" + (f" ({', '.join(names)})" if names else "")
        )


def policy(settings: Settings | None = None) -> WitnessPolicy | None:
    """The witness policy of ``settings`` (``None`` when no witness is configured)."""
    s = settings or Settings()
    if not s.witnesses:
        return None
    out: list[tuple[note.Verifier, str | None]] = []
    for item in s.witnesses:
        parts = item.split()
        if not parts or len(parts) > 2:
            raise ValidationError(f"witness {item!r} must be '<verifier key> [<URL>]'.")
        try:
            v = note.Verifier.parse(parts[0])
        except note.NoteError as exc:
            raise ValidationError(f"witness {item!r}: {exc}.") from exc
        if v.alg != note.ALG_COSIGNATURE_V1:
            raise ValidationError(f"witness {item!r} is not a cosignature/v1 key (type 0x04).")
        out.append((v, parts[1] if len(parts) == 2 else None))
    n = len(out)
    k = s.witness_quorum if s.witness_quorum is not None else n // 2 + 1
    if not 1 <= k <= n:
        raise ValidationError(f"witness_quorum must be between 1 and {n}; got {k}.")
    return WitnessPolicy(tuple(out), k)


def _http_post(url: str, body: bytes) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except (urllib.error.URLError, OSError) as exc:  # a witness that is down: no cosignature
        return 0, f"unreachable: {exc}".encode()


def _last_cosigned_size(session: Session, w: note.Verifier) -> int:
    value = session.scalar(
        select(func.max(StoredTreeHead.tree_size))
        .join(StoredCosignature, StoredCosignature.tree_head_id == StoredTreeHead.id)
        .where(StoredCosignature.name == w.name, StoredCosignature.key_id == w.id)
    )
    return int(value or 0)


def request_cosignatures(
    session: Session, head: SignedTreeHead, pol: WitnessPolicy, post: Post = _http_post
) -> list[Cosignature]:
    """Ask every configured witness with a URL to cosign ``head``; keep what they sign."""
    if head.origin is None:
        raise ValidationError("only checkpoint heads can be cosigned.")
    text = head.checkpoint_text()
    plain = head.with_cosignatures(())
    got: list[Cosignature] = []
    for w, url in pol.witnesses:
        if url is None or w.name in head.cosigned_by([w]):
            continue
        old = min(_last_cosigned_size(session, w), head.tree_size)
        for _attempt in range(2):
            proof = consistency_proof(session, old, head.tree_size) if old else []
            status, body = post(url, note.add_checkpoint_request(old, proof, plain.signed_note()))
            if (
                status == 409
                and body.strip().isdigit()
                and int(body) != old
                and int(body) <= head.tree_size
            ):
                old = int(body)  # the witness holds another size: prove from there
                continue
            break
        if status != 200:
            log.warning(
                "witness %s refused the head of size %d: %s %s",
                w.name,
                head.tree_size,
                status,
                body[:200].decode("utf-8", "replace").strip(),
            )
            continue
        try:
            parsed = note.parse_note(text + "\n" + body.decode("utf-8"))
        except (note.NoteError, UnicodeDecodeError) as exc:
            log.warning("witness %s answered a malformed cosignature: %s", w.name, exc)
            continue
        for sig in parsed.signatures:
            ts = note.verify_signature(text, w, sig)
            if ts is not None:
                got.append(Cosignature(w.name, w.id, ts, sig.blob[8:]))
                break
    if got:
        add_cosignatures(session, head, got)
    return got


def publish_head(
    session: Session, settings: Settings | None = None, post: Post = _http_post
) -> SignedTreeHead:
    """The head covering the whole log, cosigned by the witnesses as far as they agree.

    Reuses the latest head when it covers the log (no new head per request) and
    asks witnesses only for cosignatures it lacks.
    """
    head = current_head(session, settings)
    pol = policy(settings)
    if pol is None or head.origin is None or pol.accepts(head)[0]:
        return head
    got = request_cosignatures(session, head, pol, post)
    return head.with_cosignatures((*head.cosignatures, *got)) if got else head


def check_heads(heads: Sequence[SignedTreeHead], pol: WitnessPolicy | None) -> list[str]:
    """Problems for heads lacking k cosignatures (empty when no policy applies)."""
    if pol is None:
        return []
    return [
        pol.describe(h) + ": not accepted (a split view is not ruled out)"
        for h in heads
        if not pol.accepts(h)[0]
    ]
