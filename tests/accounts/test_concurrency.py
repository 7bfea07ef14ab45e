"""Concurrency and crashes: no balance goes negative; a killed batch leaves no half."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from gosplan.services.accounts import Accounts, Deduction, InsufficientHours
from gosplan.storage.base import make_engine
from tests.accounts.conftest import snapshot

ROOT = Path(__file__).resolve().parents[2]


def _credit(acc: Accounts, person: str, hours: str) -> None:
    acc.open_account(person, "person")
    acc.open_account("works", "enterprise")
    acc.open_period("c1", Deduction(Decimal("0.3"), {"health": Decimal(1)}))
    acc.join("works", person, by="registry")
    acc.record_hours("works", person, "c1", hours, recorded_by="delegate", key=f"w-{person}")
    acc.approve("works", "c1", approver="planner", key="ap")


def test_32_simultaneous_purchases_with_balance_for_10(ledger: Accounts) -> None:
    _credit(ledger, "cara", "10")  # 7 h after the 30 % deduction
    ledger.add_good("tea", "tea", "0.7", stock=100)  # exactly 10 purchases
    n = 32
    barrier = threading.Barrier(n)
    ok: list[int] = []
    refused: list[BaseException] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def buyer(i: int) -> None:
        barrier.wait()
        try:
            p = ledger.buy("cara", "tea", 1, key=f"tea-{i}")
            with lock:
                ok.append(p.transaction_id)
        except InsufficientHours as exc:
            with lock:
                refused.append(exc)
        except BaseException as exc:
            with lock:
                other.append(exc)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not other, other[:3]
    assert len(ok) == 10 and len(set(ok)) == 10
    assert len(refused) == 22
    assert ledger.balance("cara") == 0
    assert ledger.good("tea").stock == 90
    assert ledger.totals("c1")["cancelled"] == Decimal("7")
    assert ledger.check_integrity() == []


def test_concurrent_repeats_of_one_key_post_once(ledger: Accounts) -> None:
    _credit(ledger, "dan", "10")
    ledger.add_good("tea", "tea", "0.7", stock=100)
    n = 8
    barrier = threading.Barrier(n)
    got: list[int] = []

    def buyer() -> None:
        barrier.wait()
        got.append(ledger.buy("dan", "tea", 2, key="same").transaction_id)

    threads = [threading.Thread(target=buyer) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(got) == n and len(set(got)) == 1
    assert ledger.balance("dan") == Decimal("5.6")
    assert ledger.good("tea").stock == 98


BATCH = textwrap.dedent("""
    import sys, time
    from gosplan.services.accounts import Accounts
    from gosplan.storage.base import make_engine
    acc = Accounts(make_engine(sys.argv[1]))
    pause = float(sys.argv[2])
    with acc.batch() as b:
        for i in range(20):
            b.buy("eve", "tea", 1, key=f"batch-{i}")
            if i == 9:
                print("half", flush=True)
                time.sleep(pause)
    print("committed", flush=True)
""")


def _run_batch(url: str, pause: float, kill_after_half: bool) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH, url, str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if kill_after_half:
        assert line == "half", proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    return line + ((proc.stdout.read() or "") if not kill_after_half else "")


def test_sigkill_mid_batch_leaves_the_store_as_before(store_url: str) -> None:
    acc = Accounts(make_engine(store_url))
    _credit(acc, "eve", "100")
    acc.add_good("tea", "tea", "0.5", stock=50)
    before = snapshot(acc)
    acc.close()
    _run_batch(store_url, pause=60, kill_after_half=True)
    acc = Accounts(make_engine(store_url))  # reopen: a torn write is recovered here
    assert snapshot(acc) == before
    assert acc.check_integrity() == []
    # the same batch run to the end is kept whole
    out = _run_batch(store_url, pause=0, kill_after_half=False)
    assert "committed" in out
    assert acc.good("tea").stock == 30
    assert acc.balance("eve") == Decimal("60")
    assert acc.check_integrity() == []
    acc.close()


def test_sigkill_at_any_moment_gives_before_or_after(store_url: str) -> None:
    delay = 0.02  # about when the second half of the batch is written and committed
    acc = Accounts(make_engine(store_url))
    _credit(acc, "eve", "100")
    acc.add_good("tea", "tea", "0.5", stock=50)
    before = snapshot(acc)
    acc.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH, store_url, "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "half"  # inside the batch
    threading.Event().wait(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    acc = Accounts(make_engine(store_url))
    after = snapshot(acc)
    stock = acc.good("tea").stock
    assert (after == before) or (stock == 30 and acc.balance("eve") == Decimal("60")), after
    assert stock in (50, 30)
    assert acc.check_integrity() == []
    acc.close()


BUYERS = textwrap.dedent("""
    import sys, threading
    from gosplan.services.accounts import Accounts
    from gosplan.storage.base import make_engine
    acc = Accounts(make_engine(sys.argv[1]))
    lock = threading.Lock()

    def buyer(t):
        for i in range(1000):
            p = acc.buy("eve", "tea", 1, key=f"t{t}-{i}")
            with lock:
                print(f"done t{t}-{i} {p.transaction_id}", flush=True)

    for t in range(4):
        threading.Thread(target=buyer, args=(t,)).start()
""")


def test_a_purchase_that_returned_survives_sigkill(store_url: str) -> None:
    """Purchases return only once committed (on SQLite, in groups): kill the buyer at
    random and every purchase it was told of is in the store, and nothing is torn."""
    acc = Accounts(make_engine(store_url), max_hours_per_period=None)  # a big balance at once
    _credit(acc, "eve", "2000")
    acc.add_good("tea", "tea", "0.5", stock=5000)
    acc.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUYERS, store_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    told = [proc.stdout.readline().split() for _ in range(40)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    acc = Accounts(make_engine(store_url))
    assert acc.check_integrity() == []
    sold = 5000 - acc.good("tea").stock
    assert sold >= len(told) == 40
    assert acc.balance("eve") == Decimal("1400") - Decimal("0.5") * sold
    with acc.engine.connect() as conn:
        keys = {k for (k,) in conn.execute(text("SELECT key FROM acct_request"))}
        purchases = conn.execute(
            text("SELECT count(*) FROM acct_transaction WHERE kind = 'purchase'")
        ).scalar()
    assert {t[1] for t in told} <= keys
    assert purchases == sold
    acc.close()
