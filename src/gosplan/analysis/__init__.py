"""Value–price analysis of capitalist economies' tables (no I/O).

* :func:`value_price_analysis` — labour values against market prices: correlation,
  log–log R², mean absolute deviation, Steedman–Tomkins angle and d-distance.
* :func:`rate_of_surplus_value` — ``e = (L − V)/V`` with the wage basket shaped like
  household consumption.
* :func:`value_rate_of_profit` — ``r = S/(C + V)`` with the capital stock valued in labour.

See ``docs/analysis.md`` for the conventions.
"""

from gosplan.analysis.surplus import (
    ProfitRateResult,
    SurplusValueResult,
    rate_of_surplus_value,
    value_rate_of_profit,
)
from gosplan.analysis.value_price import (
    LABOUR_CONVENTIONS,
    ValuePriceResult,
    deviation_measures,
    value_price_analysis,
)

__all__ = [
    "LABOUR_CONVENTIONS",
    "ProfitRateResult",
    "SurplusValueResult",
    "ValuePriceResult",
    "deviation_measures",
    "rate_of_surplus_value",
    "value_price_analysis",
    "value_rate_of_profit",
]
