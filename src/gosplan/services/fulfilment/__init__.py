"""Verification of fulfilment: register, plans, reports, checks, forecaster, simulator.

* :mod:`.checks` — the causal, vectorised checks over long tables of reports
  (late, shortfall, per-unit norms, partners' gaps with blame, balances,
  fabrication signs), help vs inspection routes, credibility;
* :mod:`.estimates` — norms learnt from each enterprise's history (median /
  MAD, shrunk toward the sector) and the CUSUM;
* :mod:`.forecast` — the Harrison–Stevens multi-process filter;
* :mod:`.simulator` — populations from a real table, honest reports, faults;
* :mod:`.faults` — the fault library the checks are measured against;
* :mod:`.register`, :mod:`.reports` — the register, plans and report ingestion
  in the store (queries in :mod:`gosplan.storage.fulfilment`);
* :mod:`.store` — the facade, and check runs that open alerts on the ladders.
"""
