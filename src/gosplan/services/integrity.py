"""Integrity records from the public log: findings, workforce, served and recomputed records.

Two things are written, both only to the public log (the record has no
table of its own, so there is no cache an operator could rewrite):

* :func:`record_finding` — the control commission's ruling on a piece of
  evidence already in the log (an alert, an appointment, a personnel
  event): ``upheld`` makes it count against the organisation; ``dismissed``,
  ``explained`` (an honest shortfall that asked for help) or
  ``outside_control`` keep it off the record.  Nobody rules on what concerns
  themselves: a person who holds a position in the organisation, or who is
  the subject of the evidence, is refused.
* :func:`record_workforce` — the worker-years an organisation worked in a
  period (the exposure of its rates), for organisations whose hours are not
  approved through the labour-time accounts.

Who rules or declares is never a typed name: the faces take a **signed
record** (:func:`sign_finding`, :func:`sign_workforce`, made with a commission
member's own Ed25519 signing key, the one in their share file) and
:func:`record_signed` logs it only when the signature verifies against that
member's key in the commission roster (the roster logged with ``criticism
register-roster``, else the one installed on the server).  The log entry keeps
the signing key and the signature, so anyone can check who ruled.  The member
is the person who acts: they may not rule on, or declare the workforce of, an
organisation in which they hold a position (on the day of the ruling or on
the day it is logged), nor rule on evidence that names them.  ``gosplan log
verify --store`` re-checks every logged ruling and declaration against the
roster logged before it (:mod:`gosplan.services.publiclog.state_signed`).

:func:`served_record` computes the record from the store's log entries and
:func:`recompute_from_export` from an exported log alone, after verifying
it; :func:`compare` names every number that differs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gosplan.analysis.integrity import (
    FINDING_KINDS,
    FINDING_OUTCOMES,
    IntegrityConfig,
    IntegrityRecord,
    integrity_record,
)
from gosplan.errors import ValidationError
from gosplan.services import publiclog
from gosplan.services.retaliation import positions_held

__all__ = [
    "EVIDENCE_KINDS",
    "FINDING_FORMAT",
    "WORKFORCE_FORMAT",
    "compare",
    "recompute_from_export",
    "record_finding",
    "record_signed",
    "record_workforce",
    "served_record",
    "sign_finding",
    "sign_workforce",
    "signed_by",
    "verify_signed",
]

#: formats of the signed records the faces accept (see :func:`record_signed`)
FINDING_FORMAT = "gosplan-integrity-finding/1"
WORKFORCE_FORMAT = "gosplan-integrity-workforce/1"

#: Which log entries a finding of each kind may rest on (kind prefixes/suffixes).
EVIDENCE_KINDS: dict[str, tuple[str, ...]] = {
    "infringement": (".alert.", "report.", "criticism.filed"),
    "input_overuse": (".alert.", "report."),
    "rigged_appointment": ("appointment.made", "appointments.cliques", "tie.recorded"),
    "retaliation": ("personnel.event", "retaliation.", "criticism.filed"),
    "public_alert": (".alert.escalated",),
}


def _subjects(payload: Mapping[str, Any]) -> set[str]:
    """People an entry is about (who must not rule on it)."""
    out: set[str] = set()
    for key in ("person", "appointee", "appointer", "actor", "subject", "by"):
        v = payload.get(key)
        if isinstance(v, str):
            out.add(v)
    for v in payload.get("panel") or []:
        if isinstance(v, str):
            out.add(v)
    return out


def _known_unit(session: Session, unit: str, what: str) -> None:
    """``unit`` is an organisation of the register or an enterprise of the fulfilment register."""
    from sqlalchemy import select

    from gosplan.storage.control import Unit
    from gosplan.storage.fulfilment import FulEnterprise

    if session.get(Unit, unit) is not None:
        return
    if session.scalars(select(FulEnterprise.id).where(FulEnterprise.code == unit)).first():
        return
    raise ValidationError(
        f"{what}: organisation {unit!r} is not on record (neither a unit of "
        "the register nor an enterprise of the fulfilment register)."
    )


def record_finding(
    session: Session,
    *,
    unit: str,
    kind: str,
    outcome: str,
    evidence: Sequence[int],
    by: str,
    reason: str,
    day: dt.date,
    signed: Mapping[str, Any] | None = None,
) -> int:
    """Log the commission's ruling; return its log index.

    ``evidence`` are indices of log entries of the kinds in
    :data:`EVIDENCE_KINDS`; ``by`` is the person (id in the register) who
    rules, and may not hold a position in ``unit`` nor be named in the
    evidence.  The faces call it through :func:`record_signed`, which sets
    ``by`` from a verified signature (and ``signed`` to it, kept in the entry).
    """
    from gosplan.storage.control import Person

    if kind not in FINDING_KINDS:
        raise ValidationError(f"finding kind {kind!r} is not one of {', '.join(FINDING_KINDS)}.")
    if outcome not in FINDING_OUTCOMES:
        raise ValidationError(
            f"finding outcome {outcome!r} is not one of {', '.join(FINDING_OUTCOMES)}."
        )
    _known_unit(session, unit, "finding")
    if session.get(Person, by) is None:
        raise ValidationError(f"finding: the person ruling, {by!r}, is not on record.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("a finding needs a stated reason.")
    ev = sorted({int(i) for i in evidence})
    if not ev:
        raise ValidationError("a finding needs at least one log entry as evidence.")
    size = publiclog.size(session)
    allowed = EVIDENCE_KINDS[kind]
    for i in ev:
        if not 0 <= i < size:
            raise ValidationError(
                f"evidence {i} is not an entry of the public log (it has {size})."
            )
        entry = publiclog.entry(session, i)
        if not any(a in entry.kind for a in allowed):
            raise ValidationError(
                f"evidence {i} is a {entry.kind!r} entry; a {kind} finding "
                f"rests on {', '.join(allowed)} entries."
            )
        if by in _subjects(entry.payload):
            raise ValidationError(f"{by!r} is named in evidence {i} and cannot rule on it.")
    held = [p for p in positions_held(session, by, day) if p.unit_id == unit]
    if held:
        raise ValidationError(
            f"{by!r} holds position {held[0].id!r} in {unit!r} and cannot "
            "rule on what concerns their own organisation."
        )
    entry = publiclog.append(
        session,
        "integrity.finding",
        {
            "unit": unit,
            "kind": kind,
            "outcome": outcome,
            "evidence": ev,
            "by": by,
            "reason": reason,
            "day": day.isoformat(),
            **({"signed": dict(signed)} if signed else {}),
        },
    )
    return entry.index


def record_workforce(
    session: Session,
    *,
    unit: str,
    period: str,
    worker_years: float,
    by: str,
    signed: Mapping[str, Any] | None = None,
) -> int:
    """Log the worker-years ``unit`` worked in ``period`` (``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``)."""
    _known_unit(session, unit, "workforce")
    if (
        not isinstance(worker_years, int | float)
        or not math.isfinite(worker_years)
        or not 0 <= worker_years <= 1e7
    ):
        raise ValidationError(
            f"workforce: worker_years must be a number from 0 to 1e7; got {worker_years!r}."
        )
    text = str(period).strip()
    ok = False
    try:
        if len(text) == 4:
            ok = 1900 <= int(text) <= 2200
        elif len(text) == 7 and text[4:6] == "-Q":
            ok = 1900 <= int(text[:4]) <= 2200 and text[6] in "1234"
        elif len(text) == 7 and text[4] == "-":
            ok = 1900 <= int(text[:4]) <= 2200 and 1 <= int(text[5:]) <= 12
    except ValueError:
        ok = False
    if not ok:
        raise ValidationError(
            f"workforce: period must be YYYY, YYYY-Qn or YYYY-MM; got {period!r}."
        )
    if not (by or "").strip():
        raise ValidationError("workforce: name who declares it (`by`).")
    entry = publiclog.append(
        session,
        "unit.workforce",
        {
            "unit": unit,
            "period": text,
            "worker_years": float(worker_years),
            "by": by.strip(),
            **({"signed": dict(signed)} if signed else {}),
        },
    )
    return entry.index


# --------------------------------------------------------------------------- signed records


def _message(record: Mapping[str, Any]) -> bytes:
    """The bytes a member signs: the record without its signature, canonical JSON."""
    import json

    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _sign(share: Any, body: dict[str, Any]) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    pub = share.signing_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    record = {**body, "by": share.member, "signing_key": pub.hex()}
    record["signature"] = share.signing_key.sign(_message(record)).hex()
    return record


def sign_finding(
    share: Any,
    *,
    unit: str,
    kind: str,
    outcome: str,
    evidence: Sequence[int],
    reason: str,
    day: dt.date,
) -> dict[str, Any]:
    """A finding signed by the member whose share file ``share`` is
    (:func:`gosplan.services.commission.read_share`); no store is touched."""
    return _sign(
        share,
        {
            "format": FINDING_FORMAT,
            "unit": unit,
            "kind": kind,
            "outcome": outcome,
            "evidence": sorted({int(i) for i in evidence}),
            "reason": (reason or "").strip(),
            "day": day.isoformat(),
        },
    )


def sign_workforce(
    share: Any, *, unit: str, period: str, worker_years: float, day: dt.date
) -> dict[str, Any]:
    """A workforce declaration signed by the member whose share file ``share`` is."""
    return _sign(
        share,
        {
            "format": WORKFORCE_FORMAT,
            "unit": unit,
            "period": str(period).strip(),
            "worker_years": worker_years,
            "day": day.isoformat(),
        },
    )


def _members(session: Session, settings: Any) -> dict[str, bytes]:
    """Members' signing keys: of the roster last logged, else of the installed roster."""
    from sqlalchemy import select

    from gosplan.services import commission
    from gosplan.storage.publiclog import LogEntry

    logged = session.scalars(
        select(LogEntry)
        .where(LogEntry.kind == "commission.roster")
        .order_by(LogEntry.index.desc())
        .limit(1)
    ).first()
    if logged is not None:
        members = logged.payload.get("members") or {}
        return {str(k): bytes.fromhex(str(v)) for k, v in members.items()}
    return dict(commission.load_roster(settings.commission_key_path).members)


#: the fields of each signed record (anything else is refused, so nothing unsigned rides along)
SIGNED_FIELDS = {
    FINDING_FORMAT: {"format", "unit", "kind", "outcome", "evidence", "reason", "day"},
    WORKFORCE_FORMAT: {"format", "unit", "period", "worker_years", "day"},
}
_PROOF_FIELDS = {"by", "signing_key", "signature"}


def verify_signed(record: Mapping[str, Any], members: Mapping[str, bytes]) -> str:
    """The member whose signature on ``record`` verifies against ``members`` (name -> Ed25519
    key); :class:`ValidationError` naming what is wrong otherwise.  No store is read."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    fmt = record.get("format")
    if fmt not in SIGNED_FIELDS:
        raise ValidationError(
            f"signed record: format must be {FINDING_FORMAT!r} or {WORKFORCE_FORMAT!r}; "
            f"got {fmt!r}."
        )
    extra = sorted(set(record) - SIGNED_FIELDS[str(fmt)] - _PROOF_FIELDS)
    if extra:
        raise ValidationError(f"signed record: unexpected field(s) {extra}.")
    member = record.get("by")
    if not isinstance(member, str) or not member:
        raise ValidationError("signed record: `by` (the member who signs) is missing.")
    key = members.get(member)
    if key is None:
        raise ValidationError(
            f"signed record: {member!r} is not a member of the commission roster; only a "
            "member's own signing key can rule or declare."
        )
    if str(record.get("signing_key", "")) != key.hex():
        raise ValidationError(
            f"signed record: it is signed with another key than {member!r}'s in the roster."
        )
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(
            bytes.fromhex(str(record.get("signature", ""))), _message(record)
        )
    except (InvalidSignature, ValueError):
        raise ValidationError(
            f"signed record: the signature of {member!r} does not verify (forged, or the "
            "record was altered after signing)."
        ) from None
    return member


def signed_by(session: Session, record: Mapping[str, Any], settings: Any) -> str:
    """The commission member whose signature on ``record`` verifies against the roster."""
    return verify_signed(record, _members(session, settings))


def _not_own(session: Session, member: str, unit: str, days: Sequence[dt.date], what: str) -> None:
    for day in days:
        held = [p for p in positions_held(session, member, day) if p.unit_id == unit]
        if held:
            raise ValidationError(
                f"{what}: {member!r} holds position {held[0].id!r} in {unit!r} (on {day}) and "
                "cannot act on what concerns their own organisation."
            )


def record_signed(
    session: Session, record: Mapping[str, Any], settings: Any, *, today: dt.date | None = None
) -> int:
    """Log a signed finding or workforce declaration; return its log index.

    The acting person is the member whose signature verifies (:func:`signed_by`),
    never a name typed beside it; the signature goes into the log entry."""
    if not isinstance(record, Mapping):
        raise ValidationError("signed record: expected a JSON object.")
    fmt = record.get("format")
    member = signed_by(session, record, settings)
    proof = dict(record)  # the whole signed record: anyone re-checks it from the log
    try:
        day = dt.date.fromisoformat(str(record.get("day")))
    except ValueError:
        raise ValidationError(
            f"signed record: `day` {record.get('day')!r} is not a date."
        ) from None
    now = today or dt.datetime.now(dt.UTC).date()
    unit = str(record.get("unit", ""))
    if fmt == FINDING_FORMAT:
        _not_own(session, member, unit, [day, now], "finding")
        evidence = record.get("evidence")
        if not isinstance(evidence, list) or not all(isinstance(i, int) for i in evidence):
            raise ValidationError("signed record: `evidence` must be a list of log indices.")
        return record_finding(
            session,
            unit=unit,
            kind=str(record.get("kind")),
            outcome=str(record.get("outcome")),
            evidence=evidence,
            by=member,
            reason=str(record.get("reason", "")),
            day=day,
            signed=proof,
        )
    _not_own(session, member, unit, [day, now], "workforce")
    wy: Any = record.get("worker_years")
    return record_workforce(
        session,
        unit=unit,
        period=str(record.get("period", "")),
        worker_years=wy,
        by=member,
        signed=proof,
    )


def served_record(session: Session, config: IntegrityConfig | None = None) -> IntegrityRecord:
    """The record as the server shows it: computed from the store's log entries."""
    return integrity_record((e.to_public() for e in publiclog.entries(session)), config)


def recompute_from_export(
    path: str | Path, config: IntegrityConfig | None = None, *, trusted_key: bytes | None = None
) -> IntegrityRecord:
    """The record from an exported public log alone, after verifying the export.

    Raises :class:`ValidationError` naming the problems when the export does
    not verify (a record built on a rewritten log would be worthless).
    """
    v = publiclog.verify_export(path, trusted_key=trusted_key)
    if not v.ok:
        raise ValidationError(f"{path}: the exported log does not verify: {v.message}")
    log = publiclog.read_export(path)
    return integrity_record(log.entries, config)


def compare(served: IntegrityRecord, recomputed: IntegrityRecord) -> list[str]:
    """Every difference between two records, in words (empty when they agree)."""
    a, b = served.to_json(), recomputed.to_json()
    problems: list[str] = []
    if a["config"] != b["config"]:
        problems.append("the records were computed with different settings")
    if a["log_size"] != b["log_size"]:
        problems.append(
            f"the served record covers {a['log_size']} log entries, the "
            f"recomputed one {b['log_size']}"
        )
    ka = {(r["org"], r["period"], r["kind"]): r for r in a["table"]}
    kb = {(r["org"], r["period"], r["kind"]): r for r in b["table"]}
    for key in sorted(ka.keys() | kb.keys()):
        ra, rb = ka.get(key), kb.get(key)
        if ra is None or rb is None:
            problems.append(
                f"{key[0]} {key[1]} {key[2]}: only in the "
                f"{'recomputed' if ra is None else 'served'} record"
            )
        elif ra != rb:
            problems.append(
                f"{key[0]} {key[1]} {key[2]}: served count {ra['count']} over "
                f"{ra['worker_years']} worker-years, recomputed {rb['count']} over "
                f"{rb['worker_years']}"
            )
    if not problems and a != b:
        problems.append("the records' trends or evidence differ")
    return problems
