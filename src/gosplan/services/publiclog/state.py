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

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.services.publiclog.state_criticisms import (
    check_criticism,
    check_criticisms,
    check_criticisms_for,
)
from gosplan.services.publiclog.state_decisions import (
    check_proposal,
    check_proposals,
    logged_ballots,
)
from gosplan.services.publiclog.state_log import (
    OPENING_KINDS,
    Difference,
    LoggedCriticism,
    StateCheck,
    logged_criticisms,
)
from gosplan.storage.control import Criticism
from gosplan.storage.publiclog import LogEntry

__all__ = [
    "OPENING_KINDS",
    "Difference",
    "LoggedCriticism",
    "StateCheck",
    "check_criticism",
    "check_criticisms",
    "check_criticisms_for",
    "check_proposal",
    "check_proposals",
    "check_sealing_keys",
    "deleted_criticisms",
    "logged_ballots",
    "logged_criticisms",
    "verify_public_state",
]


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
