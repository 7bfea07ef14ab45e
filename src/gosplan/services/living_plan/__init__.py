"""The living plan: the whole cycle run period after period through the real services.

Each period of a run goes through the same code paths as the CLI and the
web application:

1. **plan** — a Leontief plan (:func:`gosplan.planning.leontief.leontief_plan`)
   delivers the period's targets: personal consumption (the goods the shops
   will sell), social consumption and investment (paid first); an adopted
   decision may cap the working week (:func:`~gosplan.planning.living.fit_working_week`);
   the plan is logged with a digest of its tables;
2. **deduction** — the period opens in the labour-time accounts with the
   plan's deduction for the social funds;
3. **work** — every able person works the plan's share of hours for their
   enterprise; each enterprise's delegate records them, a delegate of
   *another* enterprise approves them (nobody approves their own or what they
   recorded); credits go to persons less the deduction;
4. **delivery** — enterprises deliver what capacity allows (a supply shock
   takes capacity away; investment restores it over time) to the shops;
   enterprises report output and hours, and cheating ones inflate their
   reports; the shops' receipts are compared with the reports;
5. **purchase** — households (persons, or cohorts of persons with one account)
   spend the hours they hold by Cobb–Douglas tastes at the current prices,
   in a random order each period, while stock lasts;
6. **close and feedback** — the period closes; the accounts' market-clearing
   feedback (:meth:`~gosplan.services.accounts.Accounts.feedback`) reprices
   each good and moves next period's targets
   (:func:`~gosplan.planning.living.next_personal_targets`).

An **open-loop twin** runs the same households through a second store with
the base-year plan repeated, prices fixed at labour values and no feedback,
so every figure stands beside what the loop buys.

Everything a run shows is recorded in the public log (``living.run`` with
the scenario, ``living.period`` with each period's figures), so the run can
be replayed and audited; :func:`runs_from_log` reads them back.
"""

from gosplan.services.living_plan.runner import LivingPlanRun, run, runs_from_log
from gosplan.services.living_plan.scenario import Scenario, load_scenario

__all__ = ["LivingPlanRun", "Scenario", "load_scenario", "run", "runs_from_log"]
