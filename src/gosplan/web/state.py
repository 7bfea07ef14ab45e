"""What the web application holds in memory: settings, engine, the economy and its values."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from gosplan.clock import Clock, utcnow
from gosplan.config import Settings
from gosplan.core.economy import Economy
from gosplan.core.values import LabourValues, labour_values

if TYPE_CHECKING:
    from gosplan.services.accounts import Accounts


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    secret: bytes
    _economy: Economy | None = None
    _values: LabourValues | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[str, Any] = field(default_factory=dict)
    #: what time it is for every route (tests move a ManualClock instead of sleeping)
    clock: Clock = utcnow

    @property
    def economy(self) -> Economy:
        with self._lock:
            if self._economy is None:
                from gosplan.readers.registry import open_source

                self._economy = open_source(self.settings.economy)
            return self._economy

    @property
    def accounts(self) -> Accounts:
        """The labour-time ledger over this application's store."""
        from gosplan.services.accounts import Accounts

        acc = self.cache.get("accounts")
        if acc is None:
            acc = self.cache["accounts"] = Accounts(self.engine)
        return acc

    @property
    def values(self) -> LabourValues:
        eco = self.economy
        with self._lock:
            if self._values is None:
                self._values = labour_values(eco)
            return self._values
