"""Decisions: proposals on plan priorities, discussion, votes, published tallies.

Democratic centralism in code: free debate while a proposal is open for
discussion, then a vote with a stated method and quorum, then an outcome that
binds the next plan.

Kinds of proposal and what an option's ``effect`` holds:

``fund_split``     ``{"shares": {"health": 0.4, "education": 0.35, ...}}`` (sum to 1):
                   how the social fund is split among purposes
``sector_target``  ``{"product": NAME, "factor": 1.10}``: scale that product's target
``purpose_target`` ``{"purpose": "personal", "factor": 1.05}``: scale every target of
                   that purpose (personal consumption, health, exports, ...)
``working_week``   ``{"hours": 35.0}``: the working week the plan should aim for
``plan_change``    ``{"changes": [{"kind": K, "effect": E}, ...]}``: several of the kinds
                   above at once (what the planner's workbench previews and proposes);
                   an empty list keeps the plan as it is
``other``          free text only, binds nothing in the plan

Methods: ``approval`` (each voter approves any subset; most approvals wins)
and ``schulze`` (each voter ranks every option; the Schulze/beat-path winner
computed by ``pref_voting``).  Ties are broken by the lower option index and
the tie is reported.

The tally is a pure function of the ballots (:func:`tally`), and every ballot
is published in the public log under a per-proposal pseudonym, so anyone can
recompute the result (:func:`recompute_from_log`).

The rules of voting are configuration, never choices of the proposer
(:class:`Rules`, from ``Settings``): the shortest discussion and the shortest
vote (a proposer may ask for longer, up to a maximum, never shorter), and the
quorum as a share of the electorate when the proposal is made, never fewer
than two ballots, so one person cannot adopt a decision alone.  Only the
electorate votes: people enrolled by a registrar, or holding a labour account
(:func:`gosplan.services.users.may_vote`); self-registration gives a public,
non-voting account.  A vote closes at its deadline, by anyone
(:func:`close`) or when a decisions page is read (:func:`close_due`); the
proposer has no hand in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gosplan.clock import utcnow
from gosplan.errors import StorageError, ValidationError
from gosplan.services import users
from gosplan.storage.decisions import Ballot, Comment, Proposal
from gosplan.storage.users import User

KINDS = ("fund_split", "sector_target", "purpose_target", "working_week", "plan_change", "other")
#: the kinds a ``plan_change`` is made of
PART_KINDS = ("fund_split", "purpose_target", "sector_target", "working_week")
VOTING_METHODS = ("approval", "schulze")
FUNDS = ("health", "education", "care", "culture", "investment", "reserves", "administration")


@dataclass(frozen=True)
class Rules:
    """The rules of every vote, from configuration (``Settings.decision_*``)."""

    min_discussion_hours: float = 72.0
    min_voting_hours: float = 48.0
    max_hours: float = 24.0 * 90
    quorum_share: float = 0.2

    @classmethod
    def from_settings(cls, settings: Any) -> Rules:
        return cls(
            min_discussion_hours=settings.decision_min_discussion_hours,
            min_voting_hours=settings.decision_min_voting_hours,
            max_hours=settings.decision_max_hours,
            quorum_share=settings.decision_quorum_share,
        )

    def quorum(self, electorate: int) -> int:
        """Ballots needed: the configured share of the electorate, and never fewer than 2."""
        return max(2, math.ceil(self.quorum_share * electorate - 1e-9))

    def hours(self, value: Any, field: str, minimum: float) -> float:
        """A duration asked for by the proposer: ``None`` gives the minimum; a number must be
        finite and between the configured minimum and maximum (else an error naming it)."""
        if value is None:
            return minimum
        try:
            h = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"`{field}` must be a number of hours; got {value!r}.") from None
        if not math.isfinite(h):
            raise ValidationError(f"`{field}` must be a finite number of hours; got {value!r}.")
        if h < minimum:
            raise ValidationError(
                f"`{field}` is {h:g} h, shorter than the {minimum:g} h the rules require "
                "(rules of voting are configuration, not choices of the proposer)."
            )
        if h > self.max_hours:
            raise ValidationError(
                f"`{field}` is {h:g} h, longer than the {self.max_hours:g} h the rules allow."
            )
        return h


@dataclass(frozen=True)
class Tally:
    method: str
    options: list[str]
    ballots: int
    quorum: int
    quorum_met: bool
    scores: list[float]  # approvals, or Schulze wins against other options
    winner: int | None
    tie: bool
    pairwise: list[list[int]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "options": self.options,
            "ballots": self.ballots,
            "quorum": self.quorum,
            "quorum_met": self.quorum_met,
            "scores": self.scores,
            "winner": self.winner,
            "tie": self.tie,
            "pairwise": self.pairwise,
        }


def phase(p: Proposal, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if p.closed_at is not None:
        return "closed"
    if now < p.discussion_until:
        return "discussion"
    if now < p.voting_until:
        return "voting"
    return "awaiting close"


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool):
        raise ValidationError(f"{where}: `{name}` must be a number; got {value!r}.")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: `{name}` must be a number; got {value!r}.") from None
    if not math.isfinite(f):
        raise ValidationError(f"{where}: `{name}` must be a finite number; got {value!r}.")
    return f


def check_effect(kind: str, effect: Any, where: str = "effect") -> dict[str, Any]:
    """``effect`` checked for a proposal of ``kind`` and normalised (numbers as floats);
    a :class:`ValidationError` names what is wrong and where."""
    from gosplan.planning.targets import PLAN_PURPOSES

    if kind == "other":
        return {}
    if not isinstance(effect, dict):
        raise ValidationError(f"{where}: `effect` must be an object for a {kind} proposal.")
    if kind == "fund_split":
        shares = effect.get("shares")
        if not isinstance(shares, dict) or not shares:
            raise ValidationError(f"{where}: a fund_split effect needs `shares` by fund.")
        bad = [k for k in shares if k not in FUNDS]
        if bad:
            raise ValidationError(f"{where}: unknown funds {bad}; known: {FUNDS}.")
        vals = {k: _number(v, where, f"shares.{k}") for k, v in shares.items()}
        if any(v < 0 for v in vals.values()) or abs(sum(vals.values()) - 1.0) > 1e-9:
            raise ValidationError(
                f"{where}: fund shares must be >= 0 and sum to 1; "
                f"they sum to {sum(vals.values()):.6g}."
            )
        return {"shares": vals}
    if kind in ("sector_target", "purpose_target"):
        key = "product" if kind == "sector_target" else "purpose"
        name, factor = effect.get(key), effect.get("factor")
        if not isinstance(name, str) or not name:
            raise ValidationError(f"{where}: a {kind} effect needs `{key}`.")
        if kind == "purpose_target" and name not in PLAN_PURPOSES:
            raise ValidationError(
                f"{where}: unknown purpose {name!r}; known: {', '.join(PLAN_PURPOSES)}."
            )
        f = _number(factor, where, "factor")
        if not 0 < f <= 10:
            raise ValidationError(f"{where}: `factor` must be in (0, 10]; got {f}.")
        return {key: name, "factor": f}
    if kind == "working_week":
        h = _number(effect.get("hours"), where, "hours")
        if not 1 <= h <= 80:
            raise ValidationError(f"{where}: a working week must be 1–80 hours; got {h}.")
        return {"hours": h}
    if kind == "plan_change":
        parts = effect.get("changes")
        if not isinstance(parts, list) or len(parts) > 60:
            raise ValidationError(
                f"{where}: a plan_change effect needs `changes`, a list of at most 60 "
                '{"kind", "effect"} objects.'
            )
        out = []
        for j, part in enumerate(parts):
            if not isinstance(part, dict) or part.get("kind") not in PART_KINDS:
                raise ValidationError(
                    f"{where}, change {j}: `kind` must be one of {', '.join(PART_KINDS)}."
                )
            out.append(
                {
                    "kind": part["kind"],
                    "effect": check_effect(
                        part["kind"], part.get("effect"), f"{where}, change {j}"
                    ),
                }
            )
        if sum(1 for c in out if c["kind"] == "working_week") > 1:
            raise ValidationError(f"{where}: at most one working week in a plan_change.")
        return {"changes": out}
    raise ValidationError(f"kind {kind!r} is not one of {KINDS}.")


def _check_effect(kind: str, effect: Any, i: int) -> dict[str, Any]:
    return check_effect(kind, effect, f"option {i}")


def products_named(effect: dict[str, Any], kind: str) -> list[str]:
    """Products an effect names (to check them against the economy)."""
    if kind == "sector_target":
        return [str(effect["product"])]
    if kind == "plan_change":
        return [
            str(c["effect"]["product"]) for c in effect["changes"] if c["kind"] == "sector_target"
        ]
    return []


def create_proposal(
    session: Session,
    author: User,
    *,
    title: str,
    body: str,
    kind: str,
    options: Sequence[dict[str, Any]],
    method: str = "approval",
    rules: Rules,
    now: dt.datetime | None = None,
    discussion_hours: Any = None,
    voting_hours: Any = None,
    products: Sequence[str] | None = None,
) -> Proposal:
    """Validate and store a proposal; log it publicly.

    Its quorum and shortest times come from ``rules``; ``discussion_hours`` and
    ``voting_hours`` may only lengthen them (``None``: the minimum)."""
    if author.role not in ("planner", "delegate", "worker", "commission"):
        raise ValidationError(f"role {author.role!r} cannot make proposals.")
    if not title.strip():
        raise ValidationError("a proposal needs a title.")
    if kind not in KINDS:
        raise ValidationError(f"kind {kind!r} is not one of {KINDS}.")
    if method not in VOTING_METHODS:
        raise ValidationError(f"method {method!r} is not one of {VOTING_METHODS}.")
    if len(options) < 2:
        raise ValidationError("a proposal needs at least two options to choose between.")
    discuss = rules.hours(discussion_hours, "discussion_hours", rules.min_discussion_hours)
    vote = rules.hours(voting_hours, "voting_hours", rules.min_voting_hours)
    now = now or utcnow()
    discussion_until = now + dt.timedelta(hours=discuss)
    voting_until = discussion_until + dt.timedelta(hours=vote)
    quorum = rules.quorum(users.electorate(session))
    if not isinstance(options, Sequence) or isinstance(options, str) or len(options) > 50:
        raise ValidationError("`options` must be a list of at most 50 options.")
    clean = []
    for i, opt in enumerate(options):
        if not isinstance(opt, dict):
            raise ValidationError(
                f"`options`: option {i} must be an object with a label and "
                f"an effect; got {type(opt).__name__}."
            )
        label = str(opt.get("label", "")).strip()
        if not label:
            raise ValidationError(f"option {i} needs a label.")
        effect = _check_effect(kind, opt.get("effect"), i)
        for name in products_named(effect, kind) if products is not None else []:
            if name not in products:  # type: ignore[operator]
                raise ValidationError(f"option {i}: unknown product {name!r} in the economy.")
        clean.append({"label": label, "effect": effect})
    p = Proposal(
        title=title.strip(),
        body=body,
        kind=kind,
        options=clean,
        method=method,
        quorum=quorum,
        author_id=author.id,
        discussion_until=discussion_until,
        voting_until=voting_until,
    )
    session.add(p)
    session.flush()
    _log(
        session,
        "decision.proposed",
        {
            "proposal": p.id,
            "title": p.title,
            "kind": kind,
            "options": clean,
            "method": method,
            "quorum": quorum,
            "discussion_until": discussion_until.isoformat(),
            "voting_until": voting_until.isoformat(),
        },
    )
    return p


def comment(
    session: Session, proposal: Proposal, author: User, body: str, now: dt.datetime | None = None
) -> Comment:
    if not body.strip():
        raise ValidationError("a comment cannot be empty.")
    if phase(proposal, now) == "closed":
        raise StorageError(f"proposal {proposal.id} is closed; discussion has ended.")
    c = Comment(proposal_id=proposal.id, author_id=author.id, body=body.strip())
    session.add(c)
    session.flush()
    _log(
        session,
        "decision.comment",
        {"proposal": proposal.id, "comment": c.id, "author": author.username, "body": c.body},
    )
    return c


def _validate_choice(p: Proposal, choice: Sequence[int]) -> list[int]:
    k = len(p.options)
    try:
        ch = [int(c) for c in choice]
    except (TypeError, ValueError):
        raise ValidationError("a ballot must list option numbers.") from None
    if any(c < 0 or c >= k for c in ch):
        raise ValidationError(f"a ballot names an option outside 0..{k - 1}.")
    if len(set(ch)) != len(ch):
        raise ValidationError("a ballot names an option twice.")
    if p.method == "schulze" and len(ch) != k:
        raise ValidationError(f"a Schulze ballot must rank all {k} options; got {len(ch)}.")
    if p.method == "approval" and not ch:
        raise ValidationError("an approval ballot must approve at least one option.")
    return ch


def pseudonym(secret: bytes, proposal_id: int, voter_id: int) -> str:
    """A per-proposal voter pseudonym: unlinkable across proposals without the secret."""
    msg = f"{proposal_id}:{voter_id}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:16]


def cast_vote(
    session: Session,
    proposal: Proposal,
    voter: User,
    choice: Sequence[int],
    *,
    secret: bytes,
    now: dt.datetime | None = None,
) -> Ballot:
    """Cast one ballot; a second ballot by the same person is refused."""
    ph = phase(proposal, now)
    if ph != "voting":
        raise StorageError(f"proposal {proposal.id} is not open for voting (it is in {ph}).")
    if not users.may_vote(voter):
        raise users.NotEnrolled(
            f"{voter.username} may not vote: only enrolled people vote (enrolled by a "
            "registrar, or holding a labour account); a self-registered account is public "
            "and does not vote."
        )
    ch = _validate_choice(proposal, choice)
    exists = session.scalar(
        select(Ballot.id).where(Ballot.proposal_id == proposal.id, Ballot.voter_id == voter.id)
    )
    if exists is not None:
        raise StorageError(f"{voter.username} has already voted on proposal {proposal.id}.")
    who, pid = voter.username, proposal.id  # read before a failed flush expires them
    b = Ballot(proposal_id=pid, voter_id=voter.id, choice=ch)
    session.add(b)
    try:
        session.flush()
    except IntegrityError:
        raise StorageError(f"{who} has already voted on proposal {pid}.") from None
    _log(
        session,
        "decision.ballot",
        {
            "proposal": proposal.id,
            "ballot": b.id,
            "voter": pseudonym(secret, proposal.id, voter.id),
            "choice": ch,
        },
    )
    return b


def tally(
    method: str, options: Sequence[str], ballots: Sequence[Sequence[int]], quorum: int
) -> Tally:
    """Count ballots.  Pure: the same ballots always give the same result."""
    k = len(options)
    n = len(ballots)
    pairwise: list[list[int]] | None = None
    if method == "approval":
        scores = [0.0] * k
        for b in ballots:
            for c in b:
                scores[c] += 1
    else:
        pairwise = [[0] * k for _ in range(k)]
        for b in ballots:
            pos = {c: r for r, c in enumerate(b)}
            for i in range(k):
                for j in range(k):
                    if i != j and pos[i] < pos[j]:
                        pairwise[i][j] += 1
        winners = _schulze_winners(ballots, k)
        scores = [
            float(sum(1 for j in range(k) if j != i and pairwise[i][j] > pairwise[j][i]))
            for i in range(k)
        ]
        best = max(scores) if scores else 0.0
        scores = [s if i in winners else min(s, best - 0.5) for i, s in enumerate(scores)]
    top = max(scores) if n else None
    leaders = [i for i, s in enumerate(scores) if n and s == top]
    winner = leaders[0] if leaders and n >= quorum else None
    return Tally(
        method=method,
        options=list(options),
        ballots=n,
        quorum=quorum,
        quorum_met=n >= quorum,
        scores=scores,
        winner=winner,
        tie=len(leaders) > 1,
        pairwise=pairwise,
    )


def _schulze_winners(ballots: Sequence[Sequence[int]], k: int) -> set[int]:
    if not ballots:
        return set(range(k))
    from pref_voting.margin_based_methods import beat_path
    from pref_voting.profiles import Profile

    prof = Profile([list(b) for b in ballots])
    return set(int(w) for w in beat_path(prof))


def close_due(session: Session, now: dt.datetime | None = None) -> list[Tally]:
    """Close every proposal whose voting time has ended (the deadline closes it, nobody's
    hand); return their tallies."""
    now = now or utcnow()
    due = session.scalars(
        select(Proposal)
        .where(Proposal.closed_at.is_(None), Proposal.voting_until <= now)
        .order_by(Proposal.id)
    ).all()
    return [close(session, p, now=now) for p in due]


def close(session: Session, proposal: Proposal, *, now: dt.datetime | None = None) -> Tally:
    """Close the vote once voting has ended (anyone may); record and log the outcome."""
    now = now or utcnow()
    ph = phase(proposal, now)
    if ph == "closed":
        raise StorageError(f"proposal {proposal.id} is already closed.")
    if ph != "awaiting close":
        raise StorageError(f"proposal {proposal.id} cannot close during {ph}.")
    from gosplan.services.publiclog.state import logged_ballots

    # the logged ballots, not the table: a rewritten row changes nothing adopted
    ballots = logged_ballots(session, proposal.id)
    t = tally(
        proposal.method, [o["label"] for o in proposal.options], list(ballots), proposal.quorum
    )
    proposal.closed_at = now
    adopted = proposal.options[t.winner] if t.winner is not None else None
    proposal.outcome = {**t.to_dict(), "adopted": adopted}
    _log(session, "decision.closed", {"proposal": proposal.id, **proposal.outcome})
    return t


def adopted_effects(session: Session) -> list[dict[str, Any]]:
    """Adopted outcomes that bind the plan, oldest first (later ones override earlier)."""
    rows = session.scalars(
        select(Proposal)
        .where(Proposal.closed_at.is_not(None))
        .order_by(Proposal.closed_at, Proposal.id)
    ).all()
    out = []
    for p in rows:
        adopted = (p.outcome or {}).get("adopted")
        if adopted and p.kind != "other":
            out.append(
                {
                    "proposal": p.id,
                    "title": p.title,
                    "kind": p.kind,
                    "option": adopted["label"],
                    "effect": adopted["effect"],
                }
            )
    return out


def recompute_from_log(entries: Sequence[dict[str, Any]], proposal_id: int) -> Tally:
    """Recompute a proposal's tally from public-log payloads alone."""
    proposed = [
        e
        for e in entries
        if e.get("kind") == "decision.proposed" and e["payload"]["proposal"] == proposal_id
    ]
    if not proposed:
        raise ValidationError(f"proposal {proposal_id} is not in the log.")
    meta = proposed[0]["payload"]
    ballots = [
        e["payload"]["choice"]
        for e in entries
        if e.get("kind") == "decision.ballot" and e["payload"]["proposal"] == proposal_id
    ]
    return tally(meta["method"], [o["label"] for o in meta["options"]], ballots, meta["quorum"])


def _log(session: Session, kind: str, payload: dict[str, Any]) -> None:
    from gosplan.services import publiclog

    publiclog.append(session, kind, payload)


@dataclass(frozen=True)
class MyBallot:
    """A voter's own ballot: what she chose, and where the public log holds it."""

    choice: list[int]
    pseudonym: str
    log_index: int | None  # the ``decision.ballot`` entry in the public log


def ballot_of(
    session: Session, proposal: Proposal, voter: User, *, secret: bytes
) -> MyBallot | None:
    """The ballot ``voter`` cast on ``proposal`` (None if none), found in the public log by
    her per-proposal pseudonym, so she can see it is there as she cast it."""
    from gosplan.storage.publiclog import LogEntry

    row = session.scalar(
        select(Ballot).where(Ballot.proposal_id == proposal.id, Ballot.voter_id == voter.id)
    )
    if row is None:
        return None
    nym = pseudonym(secret, proposal.id, voter.id)
    index = None
    choice = list(row.choice)
    for e in session.scalars(
        select(LogEntry)
        .where(LogEntry.kind == "decision.ballot")
        .where(LogEntry.payload_json.contains(nym, autoescape=True))
        .order_by(LogEntry.index)
    ):
        if e.payload.get("proposal") == proposal.id and e.payload.get("voter") == nym:
            index, choice = e.index, list(e.payload.get("choice") or choice)
            break
    return MyBallot(choice=choice, pseudonym=nym, log_index=index)
