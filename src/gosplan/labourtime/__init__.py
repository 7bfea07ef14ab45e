"""The arithmetic of labour-time accounts, free of storage: exact micro-hours, the
deduction for social funds, market-clearing feedback, the ledger's result types and errors.

Layer: beside ``planning`` (maths, objects in and out); ``storage`` and ``services``
build on it.  The ledger itself (SQL) is in :mod:`gosplan.storage.accounts_ledger` and
its siblings; the use cases in :mod:`gosplan.services.accounts`.
"""
