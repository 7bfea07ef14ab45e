"""Verification of fulfilment: register, plans, reports, checks, forecaster, simulator.

* :mod:`.checks` — the vectorised checks over long tables of reports
  (fulfilment, late, forecaster breaks, norms, supplier/customer gaps) and
  credibility;
* :mod:`.forecast` — the Harrison–Stevens multi-process filter;
* :mod:`.simulator` — populations from a real table, honest reports, faults;
* :mod:`.store` — the register, plans, norms and report ingestion in the store,
  and check runs that open escalation alerts.
"""
