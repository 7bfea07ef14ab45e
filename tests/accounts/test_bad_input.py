"""Bad input: each a clear error naming the culprit, and no change to the store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from gosplan.errors import StorageError, ValidationError
from gosplan.services.accounts import (
    Accounts,
    AccountsInputError,
    Deduction,
    IdempotencyConflict,
    InsufficientHours,
    OutOfStock,
    PeriodClosed,
    UnknownAccount,
    UnknownGood,
    UnknownPeriod,
)
from gosplan.storage.base import make_engine
from tests.accounts.conftest import DEDUCTION, DIALECTS, Templates, build_shop, snapshot


def _rec(a: Accounts, *args: Any, **kw: Any) -> object:
    return a.record_hours(*args, recorded_by="delegate", **kw)


def _rec_many(a: Accounts, *args: Any, **kw: Any) -> object:
    return a.record_hours_many(*args, recorded_by="delegate", **kw)


CASES: list[tuple[str, Callable[[Accounts], object], type[Exception], str]] = [
    (
        "unknown person buys",
        lambda a: a.buy("zoe", "bread", 1, key="x"),
        UnknownAccount,
        "No account 'zoe' \\(buyer\\)",
    ),
    (
        "unknown worker",
        lambda a: _rec(a, "mill", "zoe", "p1", 8, key="x"),
        UnknownAccount,
        "No account 'zoe' \\(worker of enterprise 'mill'\\)",
    ),
    (
        "unknown enterprise",
        lambda a: _rec(a, "nope", "ana", "p1", 8, key="x"),
        UnknownAccount,
        "No account 'nope' \\(enterprise recording hours\\)",
    ),
    (
        "person records hours",
        lambda a: _rec(a, "bea", "ana", "p1", 8, key="x"),
        UnknownAccount,
        "'bea' is a person account; the enterprise recording hours must be",
    ),
    (
        "enterprise buys",
        lambda a: a.buy("mill", "bread", 1, key="x"),
        UnknownAccount,
        "'mill' is a enterprise account; the buyer must be person",
    ),
    (
        "negative hours",
        lambda a: _rec(a, "mill", "ana", "p1", "-3", key="x"),
        AccountsInputError,
        "`hours` for person 'ana' in enterprise 'mill', period 'p1' must be positive; got '-3'",
    ),
    (
        "zero hours",
        lambda a: _rec(a, "mill", "ana", "p1", 0, key="x"),
        AccountsInputError,
        "must be positive",
    ),
    (
        "NaN hours",
        lambda a: _rec(a, "mill", "ana", "p1", float("nan"), key="x"),
        AccountsInputError,
        "must be finite",
    ),
    (
        "too precise",
        lambda a: _rec(a, "mill", "ana", "p1", "1.0000001", key="x"),
        AccountsInputError,
        "more precise than a micro-hour",
    ),
    (
        "absurd hours",
        lambda a: _rec(a, "mill", "ana", "p1", 20000, key="x"),
        AccountsInputError,
        "at most 10000 hours",
    ),
    (
        "one bad row in a workforce",
        lambda a: _rec_many(a, "mill", "p1", [("ana", 8), ("bea", "-1")], key="x"),
        AccountsInputError,
        "person 'bea'",
    ),
    (
        "unknown period",
        lambda a: _rec(a, "mill", "ana", "p9", 8, key="x"),
        UnknownPeriod,
        "No period 'p9'",
    ),
    (
        "good not in catalogue",
        lambda a: a.buy("ana", "caviar", 1, key="x"),
        UnknownGood,
        "No good 'caviar'",
    ),
    (
        "more than in stock",
        lambda a: a.buy("bea", "shoes", 3, key="x"),
        OutOfStock,
        "Good 'shoes' has 2 unit\\(s\\) in stock; 'bea' asked for 3",
    ),
    (
        "more than the balance",
        lambda a: a.buy("ana", "bread", 14, key="x"),
        InsufficientHours,
        "'ana' holds 6.500000 h; 14 × 'bread' costs 7.000000 h",
    ),
    (
        "negative quantity",
        lambda a: a.buy("ana", "bread", -1, key="x"),
        AccountsInputError,
        "`quantity` for purchase of good 'bread' by 'ana' must be a positive",
    ),
    (
        "fractional quantity",
        lambda a: a.buy("ana", "bread", 1.5, key="x"),  # type: ignore[arg-type]
        AccountsInputError,
        "positive whole number",
    ),
    (
        "key reused with other content",
        lambda a: a.buy("ana", "bread", 2, key="used"),
        IdempotencyConflict,
        "Idempotency key 'used' was already used for a different request",
    ),
    (
        "key reused for another kind",
        lambda a: a.deliver("bread", 1, key="used"),
        IdempotencyConflict,
        "'used'",
    ),
    (
        "empty key",
        lambda a: a.buy("ana", "bread", 1, key=""),
        AccountsInputError,
        "idempotency `key`",
    ),
    (
        "second open period",
        lambda a: a.open_period("p2", DEDUCTION),
        StorageError,
        "Period 'p1' is still open",
    ),
    (
        "duplicate account",
        lambda a: a.open_account("ana", "person"),
        StorageError,
        "Account 'ana' already exists",
    ),
    (
        "bad account code",
        lambda a: a.open_account("a b", "person"),
        AccountsInputError,
        "`code` must be",
    ),
    (
        "reverse nothing",
        lambda a: a.reverse(999, reason="x", key="x"),
        StorageError,
        "No transaction 999",
    ),
    (
        "reverse without reason",
        lambda a: a.reverse(1, reason=" ", key="x"),
        AccountsInputError,
        "needs a `reason`",
    ),
    (
        "approve nothing",
        lambda a: a.approve("mill", "p1", approver="planner", key="x"),
        StorageError,
        "no recorded hours awaiting approval in period 'p1'",
    ),
]


@pytest.fixture(scope="module", params=DIALECTS)
def shared_shop(
    request: pytest.FixtureRequest, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Accounts]:
    """One shop per dialect for all refusal cases: a refusal changes nothing (each case
    checks that), so the cases cannot disturb one another."""
    url, drop = templates.copy(request.param, tmp_path_factory.mktemp("refusals"))
    acc = Accounts(make_engine(url))
    build_shop(acc)
    acc.buy("ana", "bread", 1, key="used")
    try:
        yield acc
    finally:
        acc.close()
        drop()


@pytest.mark.parametrize("name,call,error,message", CASES, ids=[c[0] for c in CASES])
def test_refused_and_nothing_changed(
    shared_shop: Accounts,
    name: str,
    call: Callable[[Accounts], object],
    error: type[Exception],
    message: str,
) -> None:
    shop = shared_shop
    before = snapshot(shop)
    with pytest.raises(error, match=message):
        call(shop)
    assert snapshot(shop) == before
    assert shop.check_integrity() == []


def test_hours_for_a_closed_period_are_refused(shop: Accounts) -> None:
    shop.close_period("p1")
    shop.open_period("p2", DEDUCTION)
    before = snapshot(shop)
    with pytest.raises(
        PeriodClosed,
        match=r"Period 'p1' is closed .*cannot record hours of "
        r"'ana' for enterprise 'mill'",
    ):
        shop.record_hours("mill", "ana", "p1", 8, recorded_by="delegate", key="late")
    with pytest.raises(PeriodClosed, match="cannot close it again"):
        shop.close_period("p1")
    assert snapshot(shop) == before


def test_close_refused_while_hours_await_approval(shop: Accounts) -> None:
    shop.record_hours("mill", "ana", "p1", "4.25", recorded_by="delegate", key="more")
    before = snapshot(shop)
    with pytest.raises(
        StorageError, match=re.escape("hours await approval (mill: 1 record(s), 4.250000 h)")
    ):
        shop.close_period("p1")
    assert snapshot(shop) == before


def test_buying_with_no_open_period_is_refused(shop: Accounts) -> None:
    shop.close_period("p1")
    before = snapshot(shop)
    with pytest.raises(UnknownPeriod, match="No period is open: cannot buy good 'bread'"):
        shop.buy("ana", "bread", 1, key="late")
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    "rate,shares,message",
    [
        ("1", {"health": "1"}, "rate` must be in \\[0, 1\\)"),
        ("-0.1", {"health": "1"}, "rate` must be in"),
        ("0.3", {}, "needs at least one fund"),
        ("0.3", {"health": "0.5", "education": "0.4"}, "must sum to 1; they sum to 0.9"),
        ("0.3", {"health": "-0.5", "education": "1.5"}, "share of fund 'health' must not be neg"),
        ("0.3", {"bad name": "1"}, "`fund` must be"),
    ],
)
def test_invalid_deduction(rate: str, shares: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Deduction(Decimal(rate), {k: Decimal(v) for k, v in shares.items()})
