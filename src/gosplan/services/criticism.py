"""The criticism channel: anyone files; nothing deletes; the critic stays unknown.

* The *content* (target, text, attachment digest) is public and goes into the
  public log as a ``criticism.filed`` entry; the filer gets a **receipt**
  (:func:`receipt`): the entry, its inclusion proof and a signed tree head.
* The *identity* (optional) is padded and sealed to the control commission's
  X25519 public key (:mod:`gosplan.services.commission`) and stored in its
  own table; its digest is logged.  The server cannot open it: k commission
  members do, offline, and :func:`record_opening` logs their signed opening
  record (who, why; never what was revealed).
* A person id given for the retaliation watch is kept only as a keyed hash
  (:func:`watch_tag`), which the watch can match without decrypting anything.
* Status moves (received → under investigation → upheld / rejected) need a
  stated reason and each is a log entry.  No function here, nor anywhere in
  gosplan, edits or deletes a criticism; triggers refuse it in the database.

Error messages never quote the identity or the person id a filer gave.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from gosplan.config import Settings
from gosplan.core import merkle
from gosplan.errors import ValidationError
from gosplan.keyfiles import read_or_create
from gosplan.services import commission, publiclog
from gosplan.services.publiclog import witnessing
from gosplan.storage.control import (
    Criticism,
    CriticismAttachment,
    CriticismStatus,
    IdentityAccess,
    Person,
    SealedIdentity,
    criticism_id,
    filed_rows,
    filed_status,
    on_record,
)
from gosplan.storage.publiclog import LogEntry

TARGET_KINDS = ("official", "enterprise", "decision")
STATUSES = ("received", "under_investigation", "upheld", "rejected")
MAX_CONTENT_CHARS = 20_000
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
_SEAL_VERSION = b"\x01"
_SEAL_INFO = b"gosplan sealed identity v1"
_WATCH_INFO = b"gosplan retaliation watch v1"


# --------------------------------------------------------------------------- sealing


def can_seal(settings: Settings | None = None) -> bool:
    """Is the commission's public roster installed (so identities can be sealed)?"""
    return Path((settings or Settings()).commission_key_path).is_file()


def seal_identity(
    identity: str | None, person: str | None, ref: str, settings: Settings | None = None
) -> bytes:
    """Seal a filer's identity to the commission's public key (fixed-size box)."""
    roster = commission.load_roster((settings or Settings()).commission_key_path)
    secret = json.dumps({"identity": identity, "person": person}).encode("utf-8")
    return commission.seal(secret, roster.public_key, ref.encode("ascii"))


def _watch_secret(settings: Settings | None = None) -> bytes:
    path = Path((settings or Settings()).watch_key_path)
    raw = read_or_create(path, lambda: secrets.token_bytes(32).hex().encode("ascii"))
    try:
        return bytes.fromhex(raw.decode("ascii").strip())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"watch key {path} is not hex ({exc}).") from exc


def watch_tag(person_id: str, settings: Settings | None = None) -> str:
    """Keyed hash of a person id, matchable by the retaliation watch, opaque without the key.

    The key (``GOSPLAN_WATCH_KEY_PATH``) is the server's: whoever holds it can test
    whether a given person id was given with a criticism (see docs/control.md).
    """
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_WATCH_INFO).derive(
        _watch_secret(settings)
    )
    return hmac.new(key, person_id.encode("utf-8"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- filing


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_target(session: Session, target_kind: str, target: str) -> None:
    """Raise a :class:`ValidationError` unless ``target`` is a known target of its kind."""
    if target_kind not in TARGET_KINDS:
        raise ValidationError(
            f"criticism target kind {target_kind!r} is not one of {', '.join(TARGET_KINDS)}."
        )
    target = (target or "").strip()
    if not target:
        raise ValidationError("a criticism needs a target (an official, enterprise or decision).")
    if target_kind in ("official", "enterprise"):
        known = on_record(session, target_kind, target)
    else:
        known = any(
            str(e.payload.get("proposal")) == target
            for e in publiclog.entries(session, kind="decision.proposed")
        )
    if not known:
        raise ValidationError(
            f"criticism target {target_kind} {target!r} is unknown: no such "
            f"{'person' if target_kind == 'official' else target_kind} is on record."
        )


def file(
    session: Session,
    *,
    target_kind: str,
    target: str,
    content: str,
    identity: str | None = None,
    person: str | None = None,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> Criticism:
    """File a criticism inside the caller's transaction; returns the (public) row.

    Nothing is written if any check fails.  ``identity`` (free text) and
    ``person`` (a person id, for the retaliation watch) are optional and are
    only ever stored sealed.
    """
    text = (content or "").strip()
    if not text:
        raise ValidationError("a criticism needs content: say what is wrong.")
    if len(text) > MAX_CONTENT_CHARS:
        raise ValidationError(
            f"criticism content is {len(text)} characters; at most "
            f"{MAX_CONTENT_CHARS} are accepted (attach a file for more)."
        )
    if attachment is not None and len(attachment) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            f"attachment {attachment_name or ''!r} is {len(attachment)} bytes; "
            f"at most {MAX_ATTACHMENT_BYTES} bytes are accepted."
        )
    check_target(session, target_kind, target)
    target = target.strip()
    identity = (identity or "").strip() or None
    person = (person or "").strip() or None
    if person is not None and session.get(Person, person) is None:
        raise ValidationError(
            "the person id given for the retaliation watch is not on record; "
            "file without it or ask the commission to register you."
        )
    ref = "C-" + secrets.token_hex(5).upper()
    day = today or _today()
    att: dict[str, Any] | None = None
    if attachment is not None:
        att = {
            "name": attachment_name or "attachment",
            "size": len(attachment),
            "sha256": hashlib.sha256(attachment).hexdigest(),
        }
    sealed: bytes | None = None
    sealed_to: str | None = None
    if identity is not None or person is not None:
        sealed = seal_identity(identity, person, ref, settings)
        sealed_to = commission.load_roster(
            (settings or Settings()).commission_key_path
        ).public_key.hex()
    # the criticism's id before the log's lock is taken (PostgreSQL: from its sequence), so
    # that its rows are written with the entry, in one round trip under the lock
    cid = criticism_id(session)
    at = _now()
    values: dict[str, Any] = {
        "ref": ref,
        "target_kind": target_kind,
        "target": target,
        "content": text,
        "filed_on": day,
        "attachment_name": att["name"] if att else None,
        "attachment_sha256": att["sha256"] if att else None,
        "attachment_size": att["size"] if att else None,
    }
    entry = publiclog.append(
        session,
        "criticism.filed",
        {
            "criticism": ref,
            "target_kind": target_kind,
            "target": target,
            "content": text,
            "filed_on": day.isoformat(),
            "attachment": att,
            "identity_sealed": sealed is not None,
            # the digest of the sealed box: the commission can show that the box it opens
            # is the one filed (nobody can swap in another critic's name later)
            "identity_sha256": hashlib.sha256(sealed).hexdigest() if sealed else None,
            # the key it was sealed to: a roster swapped on the server shows here
            "sealed_to": sealed_to,
        },
        with_rows=None if cid is None else (lambda index: filed_rows(cid, values, at, index)),
        # the filer's receipt is signed with the entry: nothing to read for it afterwards
        with_head=publiclog.head_with_append(session, settings),
    )
    row = Criticism(id=cid, log_index=entry.index, **values)
    if cid is not None:  # written with the entry: in the session as if loaded
        make_transient_to_detached(row)
        session.add(row)
    else:
        session.add(row)
        session.flush()
        session.add(filed_status(row.id, at, entry.index))
    if attachment is not None:
        session.add(CriticismAttachment(criticism_id=row.id, data=attachment))
    if sealed is not None:
        session.add(
            SealedIdentity(
                criticism_id=row.id,
                sealed=sealed,
                watch_tag=watch_tag(person, settings) if person else None,
            )
        )
    session.flush()
    return row


def get(session: Session, ref: str) -> Criticism:
    row = session.scalars(select(Criticism).where(Criticism.ref == ref)).first()
    if row is None:
        raise ValidationError(f"there is no criticism {ref!r}.")
    return row


def history(session: Session, ref: str) -> list[CriticismStatus]:
    """Every status the criticism has had, oldest first, with reasons."""
    c = get(session, ref)
    return list(
        session.scalars(
            select(CriticismStatus)
            .where(CriticismStatus.criticism_id == c.id)
            .order_by(CriticismStatus.id)
        )
    )


def current_status(session: Session, ref: str) -> str:
    return history(session, ref)[-1].status


def change_status(
    session: Session, ref: str, status: str, *, reason: str, by: str
) -> CriticismStatus:
    """Move a criticism to ``status`` with a stated ``reason``; logged as ``criticism.status``."""
    status = status.replace(" ", "_").replace("-", "_").lower()
    if status not in STATUSES:
        raise ValidationError(f"status {status!r} is not one of {', '.join(STATUSES)}.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(f"changing the status of criticism {ref} needs a stated reason.")
    by = (by or "").strip()
    if not by:
        raise ValidationError(
            f"changing the status of criticism {ref} needs the name of whoever decides it (by)."
        )
    c = get(session, ref)
    before = current_status(session, ref)
    if status == before:
        raise ValidationError(f"criticism {ref} is already {status}.")
    if status == "received":
        raise ValidationError(
            f"criticism {ref} cannot go back to 'received'; reopen it as 'under_investigation'."
        )
    entry = publiclog.append(
        session,
        "criticism.status",
        {"criticism": ref, "from": before, "to": status, "reason": reason, "by": by},
    )
    row = CriticismStatus(
        criticism_id=c.id, status=status, reason=reason, by=by, at=_now(), log_index=entry.index
    )
    session.add(row)
    session.flush()
    return row


def public_view(session: Session, c: Criticism) -> dict[str, Any]:
    """What anyone may see of a criticism (never who filed it)."""
    return public_views(session, [c])[0]


def public_views(session: Session, rows: Sequence[Criticism]) -> list[dict[str, Any]]:
    """:func:`public_view` of each of ``rows``, their histories read in one query (a page)."""
    hists: dict[int, list[CriticismStatus]] = {c.id: [] for c in rows}
    if rows:
        for h in session.scalars(
            select(CriticismStatus)
            .where(CriticismStatus.criticism_id.in_(list(hists)))
            .order_by(CriticismStatus.id)
        ):
            hists[h.criticism_id].append(h)
    return [_view(c, hists[c.id]) for c in rows]


def _view(c: Criticism, hist: list[CriticismStatus]) -> dict[str, Any]:
    return {
        "criticism": c.ref,
        "target_kind": c.target_kind,
        "target": c.target,
        "content": c.content,
        "filed_on": c.filed_on.isoformat(),
        "status": hist[-1].status if hist else "received",  # rows removed: the check says so
        "attachment": (
            {"name": c.attachment_name, "size": c.attachment_size, "sha256": c.attachment_sha256}
            if c.attachment_name
            else None
        ),
        "log_index": c.log_index,
        "history": [
            {
                "status": h.status,
                "reason": h.reason,
                "by": h.by,
                "at": h.at,
                "log_index": h.log_index,
            }
            for h in hist
        ],
    }


def listing(
    session: Session, *, target: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Public views of all criticisms (optionally of one target or in one status)."""
    q = select(Criticism).order_by(Criticism.id)
    if target is not None:
        q = q.where(Criticism.target == target)
    out = public_views(session, list(session.scalars(q)))
    if status is not None:
        out = [v for v in out if v["status"] == status]
    return out


def register_roster(session: Session, settings: Settings | None = None) -> int:
    """Log the commission's public roster (key, threshold, members' signing keys).

    Every identity sealed afterwards must name this key (``sealed_to``); one
    sealed to another key (a roster swapped on the server) is named by
    ``gosplan log verify --store``.  Returns the log index.
    """
    roster = commission.load_roster((settings or Settings()).commission_key_path)
    return publiclog.append_event(
        session,
        "commission.roster",
        {
            "public_key": roster.public_key.hex(),
            "threshold": roster.threshold,
            "members": {k: v.hex() for k, v in sorted(roster.members.items())},
        },
    )


def export_sealed(session: Session, ref: str) -> dict[str, Any]:
    """The sealed box of one criticism, to carry to the commission's offline machine."""
    c = get(session, ref)
    sealed = session.get(SealedIdentity, c.id)
    if sealed is None:
        raise ValidationError(f"criticism {ref} was filed without an identity.")
    return {
        "format": commission.SEALED_FORMAT,
        "criticism": ref,
        "log_index": c.log_index,
        "sealed": bytes(sealed.sealed).hex(),
        "identity_sha256": hashlib.sha256(bytes(sealed.sealed)).hexdigest(),
    }


def record_opening(
    session: Session, record: Mapping[str, Any], settings: Settings | None = None
) -> IdentityAccess:
    """Log an opening record made offline by ``k`` commission members (their signatures).

    The record must be signed by at least the roster's threshold of members and
    name the digest of this criticism's sealed box; it becomes a
    ``criticism.identity_opened`` log entry and an access row.  No typed name
    is accepted: who opened is who signed.
    """
    roster = commission.load_roster((settings or Settings()).commission_key_path)
    members = commission.check_opening(record, roster)
    ref = str(record["criticism"])
    c = get(session, ref)
    sealed = session.get(SealedIdentity, c.id)
    if sealed is None:
        raise ValidationError(f"criticism {ref} was filed without an identity.")
    if hashlib.sha256(bytes(sealed.sealed)).hexdigest() != record["identity_sha256"]:
        raise ValidationError(
            f"the opening record names another sealed box than criticism {ref}'s."
        )
    entry = publiclog.append(
        session,
        "criticism.identity_opened",
        {
            "criticism": ref,
            "reason": str(record["reason"]),
            "members": members,
            "opened_at": record["opened_at"],
            "identity_sha256": record["identity_sha256"],
            "signatures": [dict(s) for s in record["signatures"]],
        },
    )
    row = IdentityAccess(
        criticism_id=c.id,
        accessor=", ".join(members),
        reason=str(record["reason"]),
        at=_now(),
        log_index=entry.index,
    )
    session.add(row)
    session.flush()
    return row


def accesses(session: Session, ref: str) -> list[IdentityAccess]:
    c = get(session, ref)
    return list(
        session.scalars(
            select(IdentityAccess)
            .where(IdentityAccess.criticism_id == c.id)
            .order_by(IdentityAccess.id)
        )
    )


# --------------------------------------------------------------------------- receipts


def receipt(
    session: Session, ref: str, settings: Settings | None = None, *, log_index: int | None = None
) -> dict[str, Any]:
    """The filer's receipt (JSON-able); call after the filing transaction committed.
    ``log_index``: the filing's entry, known to whoever just filed it (no look-up; the
    receipt is signed over the log as it now stands, in the fewest round trips)."""
    if log_index is not None:
        return publiclog.receipt_at_head(session, log_index, settings, criticism=ref)
    c = get(session, ref)
    return publiclog.receipt(session, c.log_index, settings, criticism=ref)


@dataclass
class ReceiptCheck:
    ok: bool
    message: str
    criticism: str | None
    index: int | None
    receipt_size: int | None
    checked_against: int | None


def _summary(
    data: Mapping[str, Any], v: publiclog.Verification, against: int | None
) -> ReceiptCheck:
    entry = data.get("entry") if isinstance(data.get("entry"), Mapping) else None
    idx = entry.get("index") if entry else None
    head = data.get("tree_head") if isinstance(data.get("tree_head"), Mapping) else None
    size = head.get("tree_size") if head else None
    crit = data.get("criticism")
    if v.ok:
        msg = (
            f"receipt for criticism {crit} (log entry {idx}) verifies: included in the "
            f"signed tree of {size} entries"
        )
        if against is not None:
            msg += f", and the log of {against} entries still contains it unchanged"
    else:
        msg = f"receipt for criticism {crit} (log entry {idx}) does NOT verify: {v.message}"
    return ReceiptCheck(
        v.ok,
        msg,
        crit if isinstance(crit, str) else None,
        idx if isinstance(idx, int) else None,
        size if isinstance(size, int) else None,
        against,
    )


def verify_receipt(
    session: Session,
    data: Mapping[str, Any],
    settings: Settings | None = None,
    *,
    full: bool = False,
) -> ReceiptCheck:
    """Check a receipt against this log: signature, inclusion, the entry as stored now, and a
    consistency proof from the receipt's tree head to the log's current signed head.

    With ``full`` the whole stored log is also recomputed from its entries
    (O(n); the default costs O(log² n) lookups and one entry).
    """
    key = publiclog.public_key(settings)
    pol = witnessing.policy(settings)
    v = publiclog.verify_receipt(data, trusted_key=key, witnesses=pol)
    if not v.ok:
        return _summary(data, v, None)
    e = data["entry"]
    index, first = int(e["index"]), int(data["tree_head"]["tree_size"])
    stored = session.get(LogEntry, index)
    if stored is None:
        v.fail(f"log entry {index} is no longer in the store: it was removed")
        return _summary(data, v, None)
    now = merkle.leaf_hash(
        publiclog.leaf_data(stored.index, stored.kind, stored.payload, stored.logged_at)
    )
    if now.hex() != data["leaf_hash"] or bytes(stored.leaf_hash).hex() != data["leaf_hash"]:
        v.fail(f"log entry {index} in the store no longer matches the receipt: it was altered")
        return _summary(data, v, None)
    n = publiclog.size(session)
    if n < first:
        v.fail(f"the log holds {n} entries, fewer than the receipt's {first}: entries were removed")
        return _summary(data, v, None)
    latest = witnessing.publish_head(session, settings)
    proof = publiclog.consistency_proof(session, first, latest.tree_size)
    v = publiclog.verify_receipt(
        data, trusted_key=key, later_head=latest, consistency=proof, witnesses=pol
    )
    if v.ok and full:
        # the stored hashes are not taken on trust: recompute the current root from entries
        root = publiclog.verify_store(session, trusted_key=key)
        if root.root_hash != latest.root_hash or not root.ok:
            v.fail(
                "the stored log does not match its own signed head: "
                + (root.message if not root.ok else "root differs")
            )
    return _summary(data, v, latest.tree_size)


def verify_receipt_with_export(
    data: Mapping[str, Any],
    path: str | Path,
    *,
    trusted_key: bytes | None = None,
    witnesses: witnessing.WitnessPolicy | None = None,
) -> ReceiptCheck:
    """Check a receipt against an exported log alone (no access to the store); with
    ``witnesses``, its head must carry k of their cosignatures."""
    v = publiclog.verify_receipt(data, trusted_key=trusted_key, witnesses=witnesses)
    if not v.ok:
        return _summary(data, v, None)
    log = publiclog.read_export(path)
    key = (
        trusted_key
        if trusted_key is not None
        else publiclog.SignedTreeHead.from_json(data["tree_head"]).public_key
    )
    sth = publiclog.SignedTreeHead.from_json(data["tree_head"])
    ev = publiclog.verify_export(path, trusted_key=key, known_heads=[sth])
    if not ev.ok:
        return _summary(data, ev, None)
    tree = merkle.MerkleTree(
        merkle.leaf_hash(publiclog.leaf_data(x["index"], x["kind"], x["payload"], x["time"]))
        for x in log.entries
    )
    latest = max((h for h in log.heads if h.tree_size == len(tree)), key=lambda h: h.timestamp)
    proof = tree.consistency_proof(sth.tree_size, len(tree))
    v = publiclog.verify_receipt(data, trusted_key=key, later_head=latest, consistency=proof)
    return _summary(data, v, latest.tree_size if v.ok else None)
