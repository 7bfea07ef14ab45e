"""``gosplan accounts …``: labour-time accounts from the command line (thin over the service).

Every command takes ``--db URL`` (default: ``GOSPLAN_DATABASE_URL`` or
``sqlite:///gosplan.db``); the store is migrated to the newest schema first.
Posting commands take ``--key``: an idempotency key (a fresh one is made and
printed when omitted, so a retried command can reuse it and post only once).
"""

from gosplan.cli.accounts import feedback, goods, ledger, work
from gosplan.cli.accounts._base import command

__all__ = ["command", "feedback", "goods", "ledger", "work"]
