"""Labour-time accounts: hours in, goods out, no wages, no profit, nothing lost.

Every hour worked and approved is credited to the worker, less a published
deduction for the social funds; consumer goods are priced in hours (labour
value × a price/value ratio that starts at 1); a purchase cancels the hours
it costs.  There is no transfer between persons.

The ledger is double-entry and append-only:

* each :class:`~gosplan.storage.accounts.Transaction` has postings that sum
  to zero; amounts are integers of micro-hours (exact);
* an approval debits the **enterprise** (the source of the hours its members
  worked) and credits the persons and the funds; a purchase debits the person
  and credits ``system:cancelled`` (where spent hours go out of circulation);
* rows are never updated or deleted (database triggers refuse it); a mistake
  is corrected by a reversing transaction with a reason (:meth:`Accounts.reverse`);
* balances are the sums of postings; persons' and funds' balances are also
  cached on the account row in the same transaction (checked by
  :meth:`Accounts.check_integrity`) and may never go negative;
* every posting request carries an idempotency key: the same key with the
  same content returns the original result and posts nothing; the same key
  with different content is refused (:class:`IdempotencyConflict`).

Writers are serialised where it matters: on SQLite each write transaction
starts with ``BEGIN IMMEDIATE`` (one writer at a time); on PostgreSQL the
accounts and goods a transaction changes are locked with
``SELECT … FOR UPDATE`` (in id order), so concurrent purchases against one
account can never overdraw it.

Feedback to the plan (:meth:`Accounts.feedback`) follows Cockshott and
Cottrell, *Towards a New Socialism*, ch. 8: see :func:`clearing_ratio`.

Where each part lives:

==========================================  ==============================================
micro-hour arithmetic                       :mod:`gosplan.labourtime.units`
the deduction for social funds              :mod:`gosplan.labourtime.deduction`
result types (accounts, work, postings …)   :mod:`gosplan.labourtime.records`
errors                                      :mod:`gosplan.labourtime.errors`
market-clearing feedback                    :mod:`gosplan.labourtime.feedback`
the catalogue built from an economy         :mod:`gosplan.services.accounts.catalogue`
the use cases (:class:`Accounts`)           :mod:`gosplan.services.accounts.ledger`
SQLite group commit of purchases            :mod:`gosplan.services.accounts.group_commit`
SQL: accounts, periods, postings            :mod:`gosplan.storage.accounts_ledger`
SQL: work and approvals                     :mod:`gosplan.storage.accounts_work`
SQL: goods, purchases, reversals            :mod:`gosplan.storage.accounts_shop`
SQL: statements, totals, integrity, close   :mod:`gosplan.storage.accounts_reports`
credited against reported hours             :mod:`gosplan.services.accounts.reconcile`
==========================================  ==============================================
"""

from gosplan.labourtime.deduction import Deduction
from gosplan.labourtime.errors import (
    AccountsError,
    AccountsInputError,
    HoursCapExceeded,
    IdempotencyConflict,
    InsufficientHours,
    NotAMember,
    OutOfStock,
    PeriodClosed,
    ProvidedFree,
    SeparationOfDuties,
    UnknownAccount,
    UnknownGood,
    UnknownPeriod,
)
from gosplan.labourtime.feedback import FeedbackReport, clearing_ratio, target_factor
from gosplan.labourtime.records import (
    AccountInfo,
    Basket,
    GoodInfo,
    GoodSpec,
    PeriodInfo,
    Posted,
    Purchase,
    Statement,
    StatementLine,
    WorkRecord,
)
from gosplan.labourtime.units import (
    CANCELLED,
    DEFAULT_MAX_HOURS_PER_PERIOD,
    FUND_PREFIX,
    MAX_HOURS_PER_RECORD,
    UNIT,
    price_units,
    to_hours,
    to_units,
)
from gosplan.services.accounts.catalogue import (
    FREE_PURPOSES,
    catalogue_from_economy,
    deduction_with_free,
    money_of,
)
from gosplan.services.accounts.ledger import Accounts, Batch
from gosplan.services.accounts.real_goods import goods_from_csv
from gosplan.services.accounts.reconcile import Gap, ReconcileResult, reconcile

__all__ = [
    "CANCELLED",
    "DEFAULT_MAX_HOURS_PER_PERIOD",
    "FREE_PURPOSES",
    "FUND_PREFIX",
    "MAX_HOURS_PER_RECORD",
    "UNIT",
    "AccountInfo",
    "Accounts",
    "AccountsError",
    "AccountsInputError",
    "Basket",
    "Batch",
    "Deduction",
    "FeedbackReport",
    "Gap",
    "GoodInfo",
    "GoodSpec",
    "HoursCapExceeded",
    "IdempotencyConflict",
    "InsufficientHours",
    "NotAMember",
    "OutOfStock",
    "PeriodClosed",
    "PeriodInfo",
    "Posted",
    "ProvidedFree",
    "Purchase",
    "ReconcileResult",
    "SeparationOfDuties",
    "Statement",
    "StatementLine",
    "UnknownAccount",
    "UnknownGood",
    "UnknownPeriod",
    "WorkRecord",
    "catalogue_from_economy",
    "clearing_ratio",
    "deduction_with_free",
    "goods_from_csv",
    "money_of",
    "price_units",
    "reconcile",
    "target_factor",
    "to_hours",
    "to_units",
]
