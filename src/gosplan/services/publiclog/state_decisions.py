"""Proposals, ballots, comments and outcomes recomputed from the log, and every decision
row that differs; :func:`logged_ballots` is what closing a vote counts (see :mod:`.state`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.services.publiclog.state_log import Difference, _entries_about, _pid_needles
from gosplan.storage.decisions import Ballot, Comment, Proposal
from gosplan.storage.publiclog import LogEntry
from gosplan.storage.users import User


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
