"""Criticisms, their statuses, attachments and identity openings recomputed from the log,
and every criticism row that differs (see :mod:`.state`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.services.publiclog.state_log import (
    Difference,
    LoggedCriticism,
    _entries_about,
    _ref_needles,
    logged_criticisms,
)
from gosplan.storage.control import (
    Criticism,
    CriticismAttachment,
    CriticismStatus,
    IdentityAccess,
    SealedIdentity,
)


@dataclass
class _Rows:
    """The rows of many criticisms, read in one query per table (for a whole-store check)."""

    attachments: dict[int, str]  # criticism id -> SHA-256 of the bytes
    sealed: dict[int, bytes]
    statuses: dict[int, list[CriticismStatus]]
    accesses: dict[int, list[IdentityAccess]]

    @classmethod
    def load(cls, session: Session, ids: Sequence[int] | None = None) -> _Rows:
        """The rows of the criticisms ``ids`` (every criticism when None), one query a table."""

        def of(q: Any, column: Any) -> Any:
            return q if ids is None else q.where(column.in_(ids))

        att = {
            cid: hashlib.sha256(bytes(data)).hexdigest()
            for cid, data in session.execute(
                of(
                    select(CriticismAttachment.criticism_id, CriticismAttachment.data),
                    CriticismAttachment.criticism_id,
                ).execution_options(yield_per=200)
            )
        }
        sealed = {
            cid: bytes(box)
            for cid, box in session.execute(
                of(
                    select(SealedIdentity.criticism_id, SealedIdentity.sealed),
                    SealedIdentity.criticism_id,
                )
            )
        }
        statuses: dict[int, list[CriticismStatus]] = {}
        for st in session.scalars(
            of(select(CriticismStatus), CriticismStatus.criticism_id).order_by(CriticismStatus.id)
        ):
            statuses.setdefault(st.criticism_id, []).append(st)
        accesses: dict[int, list[IdentityAccess]] = {}
        for a in session.scalars(of(select(IdentityAccess), IdentityAccess.criticism_id)):
            accesses.setdefault(a.criticism_id, []).append(a)
        return cls(att, sealed, statuses, accesses)


def _check_one_criticism(
    session: Session,
    logged: LoggedCriticism | None,
    row: Criticism | None,
    ref: str,
    cache: _Rows | None = None,
) -> list[Difference]:
    diffs: list[Difference] = []
    if logged is None:
        return [Difference("criticism", ref, "not in the public log: the row was inserted")]
    if row is None:
        return [
            Difference(
                "criticism",
                ref,
                f"filed in log entry {logged.filed.index} but its row is missing: it was deleted",
            )
        ]
    p = logged.filed.payload
    att = p.get("attachment") or None
    fields = {
        "target_kind": (row.target_kind, p.get("target_kind")),
        "target": (row.target, p.get("target")),
        "content": (row.content, p.get("content")),
        "filed_on": (row.filed_on.isoformat(), p.get("filed_on")),
        "log_index": (row.log_index, logged.filed.index),
        "attachment_sha256": (row.attachment_sha256, att and att.get("sha256")),
        "attachment_name": (row.attachment_name, att and att.get("name")),
        "attachment_size": (row.attachment_size, att and att.get("size")),
    }
    for name, (have, want) in fields.items():
        if have != want:
            diffs.append(
                Difference(
                    "criticism",
                    ref,
                    f"{name} differs from log entry {logged.filed.index}: it was changed",
                )
            )
    kept = cache if cache is not None else _Rows.load(session, [row.id])
    if att is not None:
        if kept.attachments.get(row.id) != att.get("sha256"):
            diffs.append(
                Difference(
                    "criticism_attachment",
                    ref,
                    "attachment bytes differ from the SHA-256 in the log (or are missing)",
                )
            )
    sealed = kept.sealed.get(row.id)
    if bool(p.get("identity_sealed")) != (sealed is not None):
        diffs.append(
            Difference(
                "criticism_identity",
                ref,
                "a sealed identity was "
                + ("removed" if sealed is None else "added")
                + " after filing",
            )
        )
    elif (
        sealed is not None
        and "identity_sha256" in p
        and (hashlib.sha256(sealed).hexdigest() != p["identity_sha256"])
    ):
        diffs.append(
            Difference(
                "criticism_identity",
                ref,
                "the sealed identity differs from the digest in the log: it was replaced",
            )
        )
    rows = kept.statuses.get(row.id, [])
    have_s = {r.log_index: r for r in rows}
    want_s = dict(logged.statuses)
    for idx, want in want_s.items():
        r = have_s.get(idx)
        if r is None:
            diffs.append(
                Difference(
                    "criticism_status",
                    f"{ref}@{idx}",
                    f"status {want['status']!r} of log entry {idx} is missing: it was deleted",
                )
            )
        elif (r.status, r.reason, r.by) != (want["status"], want["reason"], want["by"]):
            diffs.append(
                Difference(
                    "criticism_status",
                    f"{ref}@{idx}",
                    f"differs from log entry {idx}: it was changed",
                )
            )
    for idx, r in have_s.items():
        if idx not in want_s:
            diffs.append(
                Difference(
                    "criticism_status",
                    f"{ref} row {r.id}",
                    f"status {r.status!r} is not in the public log: it was inserted",
                )
            )
    if len(rows) != len(have_s):
        diffs.append(
            Difference(
                "criticism_status",
                ref,
                "two status rows claim the same log entry: one was inserted",
            )
        )
    opened = {a.log_index: a for a in kept.accesses.get(row.id, [])}
    want_o = dict(logged.openings)
    for idx in want_o.keys() - opened.keys():
        diffs.append(
            Difference(
                "criticism_identity_access",
                f"{ref}@{idx}",
                f"opening of log entry {idx} is missing: it was deleted",
            )
        )
    for idx in opened.keys() - want_o.keys():
        diffs.append(
            Difference(
                "criticism_identity_access",
                f"{ref}@{idx}",
                "an opening not in the public log: it was inserted",
            )
        )
    return diffs


def check_criticism(session: Session, ref: str) -> list[Difference]:
    """Rows of one criticism that differ from the log (empty: the page may show it)."""
    logged, _ = logged_criticisms(_entries_about(session, "criticism.", _ref_needles(ref)))
    row = session.scalars(select(Criticism).where(Criticism.ref == ref)).first()
    if row is None and ref not in logged:
        return []
    return _check_one_criticism(session, logged.get(ref), row, ref)


def check_criticisms_for(session: Session, refs: Sequence[str]) -> dict[str, list[Difference]]:
    """:func:`check_criticism` for several criticisms (a page), in a fixed number of queries.

    The log is read from the oldest filing the rows name onwards (a criticism's statuses and
    openings come after its filing); should a row's ``log_index`` have been moved so that a
    filing falls outside that window, the whole log is read again, so the answer is always
    the one a full check gives."""
    if not refs:
        return {}
    # a few criticisms: only their entries; many: one pass over every criticism entry
    needles = [n for r in refs for n in _ref_needles(r)] if len(refs) <= 100 else []
    rows = {c.ref: c for c in session.scalars(select(Criticism).where(Criticism.ref.in_(refs)))}
    since = min((c.log_index for c in rows.values() if c.log_index is not None), default=None)
    logged, _ = logged_criticisms(_entries_about(session, "criticism.", needles, since=since))
    if since is not None and any(r not in logged for r in refs):
        logged, _ = logged_criticisms(_entries_about(session, "criticism.", needles))
    cache = _Rows.load(session, [c.id for c in rows.values()])
    return {
        r: _check_one_criticism(session, logged.get(r), rows.get(r), r, cache)
        for r in refs
        if r in rows or r in logged
    }


def check_criticisms(session: Session) -> tuple[list[Difference], int]:
    """Every criticism row against the log; returns the differences and how many were checked."""
    logged, problems = logged_criticisms(_entries_about(session, "criticism.", []))
    rows = {c.ref: c for c in session.scalars(select(Criticism))}
    cache = _Rows.load(session)
    diffs = list(problems)
    for ref in sorted(logged.keys() | rows.keys()):
        diffs += _check_one_criticism(session, logged.get(ref), rows.get(ref), ref, cache)
    return diffs, len(logged)
