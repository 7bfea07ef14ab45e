"""Group commit of SQLite purchases: one writer thread, many purchases per fsync."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from gosplan.labourtime.records import Purchase
from gosplan.storage import accounts_shop as shop_sql

if TYPE_CHECKING:
    from gosplan.services.accounts.ledger import Accounts


class GroupCommit:
    """One writer thread that commits SQLite purchases in groups (group commit).

    SQLite has one writer and every commit waits for the disk (``fsync``), so
    committing purchases one by one caps throughput at one per fsync.  Callers
    queue their purchase and wait; the writer takes every purchase waiting
    (up to ``limit``), runs each inside its own SAVEPOINT of one transaction —
    a refused purchase rolls back alone and its caller gets the error — then
    commits once and wakes the callers.  A caller hears of success only after
    the commit, and a crash before it loses the whole group, never part of one.
    """

    def __init__(self, accounts: Accounts, limit: int = 256) -> None:
        import queue

        self.accounts = accounts
        self.limit = limit
        self.queue: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(
            target=self._loop, name="gosplan-accounts-writer", daemon=True
        )
        self.thread.start()

    def submit(self, person: str, good: str, quantity: int, key: str) -> Purchase:
        from concurrent.futures import Future

        fut: Future[Purchase] = Future()
        self.queue.put(((person, good, quantity, key), fut))
        return fut.result()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        import queue

        while True:
            item = self.queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < self.limit:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.queue.put(None)
                    break
                group.append(more)
            self._commit(group)

    def _commit(self, group: list[Any]) -> None:
        acc = self.accounts
        outcomes: list[tuple[bool, Any]] = []
        try:
            with (
                acc._writing(True),
                Session(acc.engine, expire_on_commit=False, autoflush=False) as s,
            ):
                try:
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    for (person, good, quantity, key), _ in group:
                        sp = s.begin_nested()
                        try:
                            res = shop_sql.buy(s, person, good, quantity, key)
                            sp.commit()
                            outcomes.append((True, res))
                        except Exception as exc:  # refused: this purchase alone rolls back
                            sp.rollback()
                            outcomes.append((False, exc))
                    s.commit()
                except BaseException:
                    s.rollback()
                    raise
        except BaseException as exc:  # the group's commit failed: nothing of it was kept
            for _, fut in group:
                fut.set_exception(exc)
            return
        for (ok, value), (_, fut) in zip(outcomes, group, strict=True):
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
