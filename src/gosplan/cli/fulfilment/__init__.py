"""``gosplan fulfilment …``: verification of fulfilment (thin over the services).

Commands: ``simulate`` (a population from a real table, reports, faults,
detection table; ``--store`` puts it in the store), ``ingest`` (reports from
CSV), ``check`` (every check on the stored reports; flags and alerts),
``alerts`` (list, acknowledge, resolve; ladder chart), ``tick`` (climb
overdue alerts and directives) and ``directive`` (assign a decision with a
deadline).  Every command takes ``--db URL`` and ``--now`` (the clock: an
ISO date-time, default the current UTC time), so a run can be replayed.
"""

from __future__ import annotations

from gosplan.cli.fulfilment import alerts, check, reports
from gosplan.cli.fulfilment._base import command

__all__ = ["alerts", "check", "command", "reports"]
