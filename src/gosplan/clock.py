"""The one clock: what time it is, as the store keeps times (UTC, timezone-naive).

Services take a ``clock`` (any ``() -> datetime``) or a ``now`` so that tests
and the simulator can move time instead of sleeping: :class:`ManualClock`
only moves when told to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

__all__ = ["Clock", "ManualClock", "utcnow"]

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-naive (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that only moves when told to (tests, simulator).

    ``clock()`` returns the current time; ``clock.advance(days=3)`` moves it.
    An aware ``start`` is converted to naive UTC.
    """

    def __init__(self, start: dt.datetime) -> None:
        if not isinstance(start, dt.datetime):
            raise TypeError(f"ManualClock starts at a datetime; got {start!r}.")
        self.now = start.astimezone(dt.UTC).replace(tzinfo=None) if start.tzinfo else start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now
