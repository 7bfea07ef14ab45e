"""The vote inside the living plan, taken through the decisions service.

A ``working_week`` proposal (:func:`gosplan.services.decisions.create_proposal`) is
made by the planning office, discussed and voted on for the shortest times the
rules allow (:class:`~gosplan.services.decisions.Rules`), and closed when its vote
ends, just before the period the scenario names.  The electorate is the run's
households: each account (a person, or a cohort) is a user holding that labour
account, so it may vote (:func:`gosplan.services.users.may_vote`); above
:data:`MAX_VOTERS` accounts a random assembly of that many is drawn (each voter
costs one Argon2 password hash).  A share ``turnout`` of the electorate casts an
approval ballot (:func:`~gosplan.services.decisions.cast_vote`), a share
``support`` of them for the cap and the rest for keeping the week the plan
needs; :func:`~gosplan.services.decisions.close` tallies the logged ballots with
the quorum, and the plan follows what :func:`~gosplan.services.decisions.adopted_effects`
says — a cap only if the cap won with a quorum.  Proposal, ballots (under
pseudonyms) and tally are in the store's public log, so the outcome can be
recomputed from it (:func:`~gosplan.services.decisions.recompute_from_log`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_VOTERS", "Assembly"]

#: the largest electorate registered as users; above it, a random assembly of this size
MAX_VOTERS = 500
#: the option that keeps the week: a working week the plan never reaches
NO_CAP = 80.0


@dataclass
class Assembly:
    """The run's electorate in one store, and the vote it takes."""

    engine: Any
    run: str
    author_id: int
    voter_ids: list[int]

    @classmethod
    def enrol(
        cls, engine: Any, run: str, accounts: list[str], rng: np.random.Generator
    ) -> Assembly:
        """Register the planning office (who proposes) and the voters, each holding one of
        ``accounts`` (a random ``MAX_VOTERS`` of them when there are more)."""
        from gosplan.services import users
        from gosplan.storage.base import session_scope

        chosen = list(accounts)
        if len(chosen) > MAX_VOTERS:
            pick = np.sort(rng.choice(len(chosen), size=MAX_VOTERS, replace=False))
            chosen = [chosen[int(i)] for i in pick]
        password = secrets.token_urlsafe(16)  # nobody signs in as a simulated voter
        with session_scope(engine) as s:
            office = users.register(
                s, f"office-{run[:12]}", password, role="planner", display_name="planning office"
            )
            ids = [
                users.register(s, f"v{run[:8]}-{code}", password, role="worker", account=code).id
                for code in chosen
            ]
            return cls(engine=engine, run=run, author_id=office.id, voter_ids=ids)

    def vote_on_week(
        self,
        *,
        cap: float,
        planned_week: float,
        opens: dt.datetime,
        support: float,
        turnout: float,
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        """Propose a cap of ``cap`` hours a week, vote, close; what was adopted.

        The proposal opens at ``opens``; discussion and vote take the rules' shortest
        times; ``hours`` of the result is the adopted working week (``None``: nothing
        binding was adopted, or the week was kept)."""
        from gosplan.services import decisions
        from gosplan.storage.base import session_scope
        from gosplan.storage.users import User

        rules = decisions.Rules()
        secret = hashlib.sha256(f"living plan {self.run}".encode()).digest()
        with session_scope(self.engine) as s:
            author = s.get(User, self.author_id)
            assert author is not None
            p = decisions.create_proposal(
                s,
                author,
                title=f"Cap the working week at {cap:g} hours",
                body=(
                    f"The plan needs {planned_week:.1f} hours a week. Capping it at {cap:g} "
                    "hours shrinks personal consumption; social consumption and "
                    "investment are paid first."
                ),
                kind="working_week",
                options=[
                    {"label": f"cap the week at {cap:g} h", "effect": {"hours": float(cap)}},
                    {
                        "label": "keep the week the plan needs",
                        "effect": {"hours": NO_CAP},
                    },
                ],
                method="approval",
                rules=rules,
                now=opens,
            )
            voting = p.discussion_until + dt.timedelta(hours=1)
            n = len(self.voter_ids)
            voters = rng.permutation(n)[: round(turnout * n)]
            for_cap = rng.random(len(voters)) < support
            for v, yes in zip(voters, for_cap, strict=True):
                voter = s.get(User, self.voter_ids[int(v)])
                assert voter is not None
                decisions.cast_vote(s, p, voter, [0 if yes else 1], secret=secret, now=voting)
            tally = decisions.close(s, p, now=p.voting_until)
            adopted = [e for e in decisions.adopted_effects(s) if e["proposal"] == p.id]
            hours = float(adopted[0]["effect"]["hours"]) if adopted else None
            return {
                "proposal": p.id,
                "closed_at": p.voting_until.isoformat(),
                "electorate": n,
                "ballots": tally.ballots,
                "quorum": tally.quorum,
                "quorum_met": tally.quorum_met,
                "scores": tally.scores,
                "adopted": adopted[0]["option"] if adopted else None,
                "hours": hours if hours is not None and hours < NO_CAP else None,
            }
