"""Micro-hours: every amount of the ledger as an exact integer (``UNIT`` per hour)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import numpy as np

from gosplan.labourtime.errors import AccountsInputError

#: micro-hours per hour: every amount in the ledger is an integer of these
UNIT = 1_000_000

CANCELLED = "system:cancelled"
FUND_PREFIX = "fund:"
#: accounts whose balance is cached on the row and may never go negative
HOLDING_KINDS = ("person", "fund")
#: fund named after each purpose of final demand that a deduction pays for
FUND_OF_PURPOSE = {"stocks": "reserves", "exports": "foreign_trade"}
#: largest number of hours one work record may carry (a typo guard: ~ a year, full time)
MAX_HOURS_PER_RECORD = 10_000
#: default cap on the hours one person may be credited in one accounting period (periods
#: are a month by convention: 300 h is about 70 h a week);
#: see ``Settings.accounts_max_hours_per_period``
DEFAULT_MAX_HOURS_PER_PERIOD = 300

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,63}$")
NINE = Decimal("0.000000001")
MICRO = Decimal("0.000001")


def to_units(
    value: Decimal | int | str | float,
    *,
    field: str = "hours",
    what: str = "",
    positive: bool = True,
) -> int:
    """Hours (or a quantity in hours) as an exact integer of micro-hours.

    Accepts ``Decimal``, ``int``, decimal text, or a float (converted through its
    shortest decimal form).  Refuses NaN, infinities, more precision than one
    micro-hour, and (with ``positive``) zero or negative values.
    """
    where = f" for {what}" if what else ""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AccountsInputError(
            f"`{field}`{where} must be a number of hours; got {value!r}."
        ) from None
    if not dec.is_finite():
        raise AccountsInputError(f"`{field}`{where} must be finite; got {value!r}.")
    units = dec * UNIT
    if units != units.to_integral_value():
        raise AccountsInputError(
            f"`{field}`{where} is more precise than a micro-hour (0.000001 h); got {value!r}."
        )
    if positive and units <= 0:
        raise AccountsInputError(f"`{field}`{where} must be positive; got {value!r}.")
    return int(units)


def to_hours(units: int) -> Decimal:
    """Micro-hours as exact decimal hours."""
    return (Decimal(int(units)) / UNIT).quantize(MICRO)


def to_decimal(value: Any, *, field: str, what: str = "") -> Decimal:
    where = f" for {what}" if what else ""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AccountsInputError(f"`{field}`{where} must be a number; got {value!r}.") from None
    if not dec.is_finite():
        raise AccountsInputError(f"`{field}`{where} must be finite; got {value!r}.")
    return dec


def price_units(labour_value: Decimal, ratio: Decimal) -> int:
    """Price per unit in micro-hours: ``labour_value × ratio``, rounded half-even."""
    return int((labour_value * ratio * UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def check_code(code: str, field: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise AccountsInputError(
            f"`{field}` must be 1–64 characters of letters, digits and _.:@+- starting with a "
            f"letter or digit; got {code!r}."
        )
    return code


def check_quantity(q: Any, field: str, what: str) -> int:
    if isinstance(q, bool) or not isinstance(q, int | np.integer) or q <= 0:
        raise AccountsInputError(
            f"`{field}` for {what} must be a positive whole number; got {q!r}."
        )
    return int(q)
