"""Words that pages show from data and translate where they show them (``_(x.kind)``):
kinds of transaction, roles, alert kinds and areas, periods, states of a work record,
units of the economy.  Marked here with :func:`~gosplan.web.i18n.N_` so that Babel's
extraction (``scripts/i18n.py extract``) finds them and the catalog test holds them to a
translation."""

from __future__ import annotations

from gosplan.web.i18n import N_

#: kinds of transaction on a statement
TRANSACTION_KINDS = (N_("work"), N_("purchase"), N_("reversal"))
#: roles, where a page names one
ROLES = (N_("commission"), N_("admin"))
#: what fulfilment items are, their areas and the periods of reports
ITEMS = (N_("Alerts"), N_("alert"), N_("directive"), N_("planning"), N_("public"))
PERIODS = (N_("week"), N_("month"))
#: states of a work record
WORK_STATES = (N_("recorded"), N_("approved"), N_("reversed"))
#: units of the embedded default economy (IBGE)
UNITS = (N_("persons employed (jobs)"), N_("BRL million"))
#: notes of the plan board (services/plan_board.py) shown on the plan page
PLAN_NOTES = (
    N_(
        "health and education are free for all: what households bought of them is planned "
        "as social consumption, not personal consumption"
    ),
)
