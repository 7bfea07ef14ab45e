"""What the public-state checks share: a :class:`Difference` between the log and a table
row, the :class:`StateCheck` that collects them, and reading the log's entries about one
item (criticisms as the log tells them: :func:`logged_criticisms`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gosplan.storage.publiclog import LogEntry

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


def _entries_about(
    session: Session, prefix: str, needles: Sequence[str], *, since: int | None = None
) -> list[LogEntry]:
    """Entries whose kind starts with ``prefix`` and whose payload holds one of ``needles``
    (every such entry when there are none), from index ``since`` on."""
    q = select(LogEntry).where(LogEntry.kind.startswith(prefix, autoescape=True))
    if since is not None:
        q = q.where(LogEntry.index >= since)
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
