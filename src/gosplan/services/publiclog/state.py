"""Public state recomputed from the log alone, and every table row that differs from it.

The tables that pages read (criticisms and their statuses, identity openings,
proposals, ballots, comments, outcomes) are caches of the public log.  An
operator with the database owner's rights can drop the append-only triggers
and rewrite a row; the log itself cannot be rewritten unnoticed (every signed
head, receipt and witness cosignature pins it).  So:

* :func:`verify_public_state` rebuilds criticisms, statuses, openings,
  proposals, ballots, comments and tallies, alerts and directives, and
  approved hours (:mod:`.state_items`) and fulfilment reports
  (:mod:`.state_reports`) from log entries only and names every row that
  differs (``gosplan log verify --store``);
* :func:`check_criticism` / :func:`check_proposal` do the same for one item
  when a page renders it, and the page refuses to show a row that differs;
* :func:`logged_ballots` is what closing a vote counts: the ballots in the
  log, never the ``decision_ballot`` table.

The log is matched to the rows by the ids the entries carry (``criticism``
reference, ``proposal``, ``ballot`` and ``comment`` numbers) and by the
``log_index`` a row keeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gosplan.storage.control import (
    Criticism,
    CriticismAttachment,
    CriticismStatus,
    IdentityAccess,
    SealedIdentity,
)
from gosplan.storage.decisions import Ballot, Comment, Proposal
from gosplan.storage.publiclog import LogEntry
from gosplan.storage.users import User

#: log entry kinds that open a sealed identity (the old typed-name form and the
#: shareholders' signed opening record)
OPENING_KINDS = ("criticism.identity_accessed", "criticism.identity_opened")


@dataclass(frozen=True)
class Difference:
    """One row that the log contradicts: ``table``, the row's ``key`` and the ``problem``."""

    table: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.problem}"


@dataclass
class StateCheck:
    """Outcome of :func:`verify_public_state` (scipy style: ``ok``, ``message``)."""

    differences: list[Difference] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def message(self) -> str:
        if self.ok:
            return "public state matches the log: " + ", ".join(
                f"{n} {k}" for k, n in self.checked.items()
            )
        return f"{len(self.differences)} rows differ from the public log: " + "; ".join(
            str(d) for d in self.differences[:50]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "differences": [
                {"table": d.table, "key": d.key, "problem": d.problem} for d in self.differences
            ],
        }


# --------------------------------------------------------------------------- reading the log


def _entries_about(session: Session, prefix: str, needles: Sequence[str]) -> list[LogEntry]:
    q = select(LogEntry).where(LogEntry.kind.startswith(prefix, autoescape=True))
    if needles:
        q = q.where(or_(*[LogEntry.payload_json.contains(n, autoescape=True) for n in needles]))
    return list(session.scalars(q.order_by(LogEntry.index)))


def _ref_needles(ref: str) -> list[str]:
    return [f'"criticism":{_json_str(ref)}']


def _json_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def _pid_needles(pid: int) -> list[str]:
    return [f'"proposal":{pid},', f'"proposal":{pid}}}']


@dataclass
class LoggedCriticism:
    """A criticism as the log has it."""

    ref: str
    filed: LogEntry
    statuses: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    openings: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.statuses[-1][1]["status"]) if self.statuses else "received"


def logged_criticisms(
    entries: Iterable[LogEntry],
) -> tuple[dict[str, LoggedCriticism], list[Difference]]:
    """Criticisms, their status histories and openings, from log entries alone."""
    out: dict[str, LoggedCriticism] = {}
    problems: list[Difference] = []
    for e in entries:
        p = e.payload
        ref = p.get("criticism")
        if not isinstance(ref, str):
            continue
        if e.kind == "criticism.filed":
            out[ref] = LoggedCriticism(
                ref, e, [(e.index, {"status": "received", "reason": "filed", "by": "gosplan"})]
            )
        elif ref not in out:
            problems.append(
                Difference(
                    "publiclog_entry",
                    str(e.index),
                    f"{e.kind} for criticism {ref} precedes its filing",
                )
            )
        elif e.kind == "criticism.status":
            out[ref].statuses.append(
                (e.index, {"status": p.get("to"), "reason": p.get("reason"), "by": p.get("by")})
            )
        elif e.kind in OPENING_KINDS:
            out[ref].openings.append((e.index, p))
    return out, problems


# --------------------------------------------------------------------------- criticisms


@dataclass
class _Rows:
    """The rows of many criticisms, read in one query per table (for a whole-store check)."""

    attachments: dict[int, str]  # criticism id -> SHA-256 of the bytes
    sealed: dict[int, bytes]
    statuses: dict[int, list[CriticismStatus]]
    accesses: dict[int, list[IdentityAccess]]

    @classmethod
    def load(cls, session: Session) -> _Rows:
        att = {
            cid: hashlib.sha256(bytes(data)).hexdigest()
            for cid, data in session.execute(
                select(
                    CriticismAttachment.criticism_id, CriticismAttachment.data
                ).execution_options(yield_per=200)
            )
        }
        sealed = {
            cid: bytes(box)
            for cid, box in session.execute(
                select(SealedIdentity.criticism_id, SealedIdentity.sealed)
            )
        }
        statuses: dict[int, list[CriticismStatus]] = {}
        for st in session.scalars(select(CriticismStatus).order_by(CriticismStatus.id)):
            statuses.setdefault(st.criticism_id, []).append(st)
        accesses: dict[int, list[IdentityAccess]] = {}
        for a in session.scalars(select(IdentityAccess)):
            accesses.setdefault(a.criticism_id, []).append(a)
        return cls(att, sealed, statuses, accesses)


def _rows_of(session: Session, cid: int) -> _Rows:
    data = session.get(CriticismAttachment, cid)
    box = session.get(SealedIdentity, cid)
    return _Rows(
        {cid: hashlib.sha256(bytes(data.data)).hexdigest()} if data is not None else {},
        {cid: bytes(box.sealed)} if box is not None else {},
        {
            cid: list(
                session.scalars(
                    select(CriticismStatus)
                    .where(CriticismStatus.criticism_id == cid)
                    .order_by(CriticismStatus.id)
                )
            )
        },
        {
            cid: list(
                session.scalars(select(IdentityAccess).where(IdentityAccess.criticism_id == cid))
            )
        },
    )


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
    kept = cache if cache is not None else _rows_of(session, row.id)
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
    """:func:`check_criticism` for several criticisms with one read of the log (a page)."""
    if not refs:
        return {}
    # a few criticisms: only their entries; many: one pass over every criticism entry
    needles = [n for r in refs for n in _ref_needles(r)] if len(refs) <= 100 else []
    logged, _ = logged_criticisms(_entries_about(session, "criticism.", needles))
    rows = {c.ref: c for c in session.scalars(select(Criticism).where(Criticism.ref.in_(refs)))}
    return {
        r: _check_one_criticism(session, logged.get(r), rows.get(r), r)
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


# --------------------------------------------------------------------------- decisions


def _iso(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None)


def _ballots_from(entries: Sequence[LogEntry]) -> list[tuple[int, int | None, list[int]]]:
    """(log index, ballot id or None, choice) of every logged ballot, in log order."""
    return [
        (e.index, e.payload.get("ballot"), list(e.payload.get("choice") or []))
        for e in entries
        if e.kind == "decision.ballot"
    ]


def logged_ballots(session: Session, proposal_id: int) -> list[list[int]]:
    """The ballots of a proposal as the public log holds them, in the order they were cast.

    Closing a vote counts these, not the ``decision_ballot`` table, so a rewritten
    row changes nothing adopted; anyone holding the log computes the same tally.
    """
    es = [
        e
        for e in _entries_about(session, "decision.ballot", _pid_needles(proposal_id))
        if e.payload.get("proposal") == proposal_id
    ]
    return [choice for _, _, choice in _ballots_from(es)]


def _check_one_proposal(
    session: Session, pid: int, es: Sequence[LogEntry], row: Proposal | None
) -> list[Difference]:
    from gosplan.services import decisions

    key = str(pid)
    proposed = [e for e in es if e.kind == "decision.proposed"]
    if not proposed:
        return (
            [Difference("decision_proposal", key, "not in the public log: the row was inserted")]
            if row is not None
            else []
        )
    if row is None:
        return [
            Difference(
                "decision_proposal",
                key,
                f"proposed in log entry {proposed[0].index} but its row is missing: it was deleted",
            )
        ]
    diffs: list[Difference] = []
    p = proposed[0].payload
    for name in ("title", "kind", "options", "method", "quorum"):
        if name in p and getattr(row, name) != p[name]:
            diffs.append(
                Difference(
                    "decision_proposal",
                    key,
                    f"{name} differs from log entry {proposed[0].index}: it was changed",
                )
            )
    for name in ("discussion_until", "voting_until"):
        if name in p:
            try:
                same = _iso(dt.datetime.fromisoformat(p[name])) == _iso(getattr(row, name))
            except (TypeError, ValueError):
                same = False
            if not same:
                diffs.append(
                    Difference(
                        "decision_proposal",
                        key,
                        f"{name} differs from log entry {proposed[0].index}: it was changed",
                    )
                )
    # ballots: by id where the log names them, else as a multiset of choices
    logged = _ballots_from(es)
    rows = list(
        session.scalars(select(Ballot).where(Ballot.proposal_id == pid).order_by(Ballot.id))
    )
    if logged and all(b is not None for _, b, _ in logged):
        want = {int(b): (idx, c) for idx, b, c in logged if b is not None}
        have = {r.id: list(r.choice) for r in rows}
        for bid, (idx, choice) in want.items():
            if bid not in have:
                diffs.append(
                    Difference(
                        "decision_ballot",
                        str(bid),
                        f"ballot of log entry {idx} on proposal {pid} is missing: it was deleted",
                    )
                )
            elif have[bid] != choice:
                diffs.append(
                    Difference(
                        "decision_ballot",
                        str(bid),
                        f"choice differs from log entry {idx} (proposal {pid}): it was changed",
                    )
                )
        for bid in have.keys() - want.keys():
            diffs.append(
                Difference(
                    "decision_ballot",
                    str(bid),
                    f"ballot on proposal {pid} is not in the public log: it was inserted",
                )
            )
    else:
        want_c = Counter(tuple(c) for _, _, c in logged)
        have_c = Counter(tuple(r.choice) for r in rows)
        if want_c != have_c:
            diffs.append(
                Difference(
                    "decision_ballot",
                    f"proposal {pid}",
                    "the ballots differ from the logged ballots",
                )
            )
    # comments
    want_m = {
        int(e.payload["comment"]): e
        for e in es
        if e.kind == "decision.comment" and isinstance(e.payload.get("comment"), int)
    }
    have_m = {
        c.id: (c, name)
        for c, name in session.execute(
            select(Comment, User.username)
            .join(User, Comment.author_id == User.id)
            .where(Comment.proposal_id == pid)
        )
    }
    for cid, e in want_m.items():
        if cid not in have_m:
            diffs.append(
                Difference(
                    "decision_comment",
                    str(cid),
                    f"comment of log entry {e.index} is missing: it was deleted",
                )
            )
        elif (have_m[cid][0].body, have_m[cid][1]) != (
            e.payload.get("body"),
            e.payload.get("author"),
        ):
            diffs.append(
                Difference(
                    "decision_comment",
                    str(cid),
                    f"differs from log entry {e.index}: it was changed",
                )
            )
    for cid in have_m.keys() - want_m.keys():
        diffs.append(
            Difference(
                "decision_comment",
                str(cid),
                f"comment on proposal {pid} is not in the public log: it was inserted",
            )
        )
    # outcome: the logged tally must follow from the logged ballots; the row must match it
    closed = [e for e in es if e.kind == "decision.closed"]
    if closed:
        c = closed[0].payload
        t = decisions.tally(
            p["method"],
            [o["label"] for o in p["options"]],
            [choice for _, _, choice in logged],
            int(c.get("quorum", p["quorum"])),
        )
        if (t.winner, t.scores, t.ballots) != (c.get("winner"), c.get("scores"), c.get("ballots")):
            diffs.append(
                Difference(
                    "publiclog_entry",
                    str(closed[0].index),
                    f"the logged tally of proposal {pid} does not follow from its logged ballots",
                )
            )
        outcome = {k: v for k, v in c.items() if k != "proposal"}
        if row.closed_at is None or row.outcome != outcome:
            diffs.append(
                Difference(
                    "decision_proposal",
                    key,
                    f"outcome differs from log entry {closed[0].index}: it was changed",
                )
            )
    elif row.closed_at is not None or row.outcome is not None:
        diffs.append(
            Difference("decision_proposal", key, "closed, but no closing is in the public log")
        )
    return diffs


def check_proposal(session: Session, pid: int) -> list[Difference]:
    """Rows of one proposal (and its ballots, comments, outcome) that differ from the log."""
    es = [
        e
        for e in _entries_about(session, "decision.", _pid_needles(pid))
        if e.payload.get("proposal") == pid
    ]
    return _check_one_proposal(session, pid, es, session.get(Proposal, pid))


def check_proposals(session: Session) -> tuple[list[Difference], int]:
    by_pid: dict[int, list[LogEntry]] = {}
    for e in _entries_about(session, "decision.", []):
        pid = e.payload.get("proposal")
        if isinstance(pid, int):
            by_pid.setdefault(pid, []).append(e)
    rows = {p.id: p for p in session.scalars(select(Proposal))}
    diffs: list[Difference] = []
    for pid in sorted(by_pid.keys() | rows.keys()):
        diffs += _check_one_proposal(session, pid, by_pid.get(pid, []), rows.get(pid))
    # ballots and comments whose proposal is gone entirely
    for table, model in (("decision_ballot", Ballot), ("decision_comment", Comment)):
        for rid, pid in session.execute(select(model.id, model.proposal_id)):
            if pid not in by_pid and pid not in rows:
                diffs.append(
                    Difference(
                        table,
                        str(rid),
                        f"belongs to proposal {pid}, which is in neither the log nor the store",
                    )
                )
    return diffs, len(by_pid)


def check_sealing_keys(session: Session) -> list[Difference]:
    """Identities sealed to a key other than the commission roster logged before them."""
    key: str | None = None
    diffs: list[Difference] = []
    for e in session.scalars(
        select(LogEntry)
        .where(LogEntry.kind.in_(("commission.roster", "criticism.filed")))
        .order_by(LogEntry.index)
    ):
        p = e.payload
        if e.kind == "commission.roster":
            key = p.get("public_key")
        elif key is not None and p.get("sealed_to") not in (None, key):
            diffs.append(
                Difference(
                    "criticism",
                    str(p.get("criticism")),
                    f"its identity was "
                    f"sealed to {str(p.get('sealed_to'))[:16]}…, not to the "
                    "commission's registered key: the server's roster was "
                    "swapped",
                )
            )
    return diffs


def verify_public_state(session: Session) -> StateCheck:
    """Rebuild public state from the log and name every row that differs from it."""
    out = StateCheck()
    out.differences += check_sealing_keys(session)
    diffs, n = check_criticisms(session)
    out.differences += diffs
    out.checked["criticisms"] = n
    diffs, n = check_proposals(session)
    out.differences += diffs
    out.checked["proposals"] = n
    from gosplan.services.publiclog.state_items import (
        check_approvals,
        check_escalation_items,
        check_plans,
    )

    diffs, n = check_escalation_items(session)
    out.differences += diffs
    out.checked["alerts and directives"] = n
    diffs, n = check_approvals(session)
    out.differences += diffs
    out.checked["approved work records"] = n
    diffs, n = check_plans(session)
    out.differences += diffs
    out.checked["adopted plans"] = n
    from gosplan.services.publiclog.state_reports import check_reports

    diffs, n = check_reports(session)
    out.differences += diffs
    out.checked["fulfilment reports"] = n
    from gosplan.services.publiclog.state_signed import check_signed_rulings

    diffs, n = check_signed_rulings(session)
    out.differences += diffs
    out.checked["signed rulings"] = n
    return out


def deleted_criticisms(session: Session) -> list[Difference]:
    """Criticisms filed in the log whose row is gone (for the listing page's warning)."""
    kept = select(Criticism.log_index)
    gone = session.scalars(
        select(LogEntry)
        .where(LogEntry.kind == "criticism.filed", LogEntry.index.not_in(kept))
        .order_by(LogEntry.index)
    )
    return [
        Difference(
            "criticism",
            str(e.payload.get("criticism")),
            f"filed in log entry {e.index} but its row is missing: it was deleted",
        )
        for e in gone
    ]
