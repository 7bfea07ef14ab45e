"""Rulings and declarations in the log re-checked against the commission roster logged before them.

An integrity finding or a workforce declaration is logged only with the acting
member's signature (:func:`gosplan.services.integrity.record_signed`), and the
entry keeps the whole signed record.  Whoever runs the server could still call
the service below the faces and append a finding in a member's name without
their key.  :func:`check_signed_rulings` names, for every ``integrity.finding``
and ``unit.workforce`` entry logged after a ``commission.roster`` entry:

* one without a signature (recorded in someone's name, not by them);
* one whose signature does not verify against that member's key in the roster
  logged before it;
* one whose logged fields differ from what was signed.

Entries logged before any roster (older stores) cannot be checked against a
public key and are left alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.errors import ValidationError
from gosplan.services.publiclog.state import Difference
from gosplan.storage.publiclog import LogEntry

__all__ = ["check_signed_rulings"]

KINDS = ("integrity.finding", "unit.workforce")


def _same(kind: str, payload: dict[str, Any], signed: dict[str, Any]) -> bool:
    if payload.get("by") != signed.get("by") or payload.get("unit") != signed.get("unit"):
        return False
    if kind == "integrity.finding":
        ev = signed.get("evidence")
        try:
            evidence = sorted({int(i) for i in ev}) if isinstance(ev, list) else None
        except (TypeError, ValueError):
            evidence = None
        return (
            payload.get("kind") == signed.get("kind")
            and payload.get("outcome") == signed.get("outcome")
            and payload.get("evidence") == evidence
            and payload.get("reason") == str(signed.get("reason", "")).strip()
            and payload.get("day") == signed.get("day")
        )
    wy = signed.get("worker_years")
    return (
        payload.get("period") == str(signed.get("period", "")).strip()
        and isinstance(wy, int | float)
        and payload.get("worker_years") == float(wy)
    )


def check_signed_rulings(session: Session) -> tuple[list[Difference], int]:
    """(differences, entries checked): see the module docstring."""
    from gosplan.services.integrity import verify_signed

    members: dict[str, bytes] | None = None
    diffs: list[Difference] = []
    checked = 0
    for e in session.scalars(
        select(LogEntry)
        .where(LogEntry.kind.in_(("commission.roster", *KINDS)))
        .order_by(LogEntry.index)
    ):
        p = e.payload
        if e.kind == "commission.roster":
            raw = p.get("members") or {}
            try:
                members = {str(k): bytes.fromhex(str(v)) for k, v in dict(raw).items()}
            except (TypeError, ValueError):
                members = {}
            continue
        if members is None:
            continue
        checked += 1
        what = "finding" if e.kind == "integrity.finding" else "workforce declaration"
        signed = p.get("signed")
        if not isinstance(signed, dict):
            diffs.append(
                Difference(
                    "publiclog_entry",
                    str(e.index),
                    f"{what} in the name of {p.get('by')!r} carries no signature of theirs: "
                    "it was recorded in their name, not by them",
                )
            )
            continue
        try:
            verify_signed(signed, members)
        except ValidationError as exc:
            diffs.append(Difference("publiclog_entry", str(e.index), f"{what}: {exc}"))
            continue
        if not _same(e.kind, p, signed):
            diffs.append(
                Difference(
                    "publiclog_entry",
                    str(e.index),
                    f"{what}: the logged fields differ from the record its member signed",
                )
            )
    return diffs, checked
