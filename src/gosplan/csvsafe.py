"""CSV cells that a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is prefixed with an apostrophe (OWASP "CSV injection").

Numbers stay numbers: only strings are touched, so ``-3.5`` as a float is written as is.
Anything anyone can type (a criticism, a target's name, a good's name) goes through here on
its way into a CSV file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet (strings only; other types unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]
