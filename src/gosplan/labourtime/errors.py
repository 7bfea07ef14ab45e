"""Refusals of the labour-time ledger: each means nothing was written."""

from __future__ import annotations

from gosplan.errors import StorageError, ValidationError


class AccountsError(StorageError):
    """A ledger operation was refused; nothing was written."""


class UnknownAccount(AccountsError):
    """No account has this code (or it is of the wrong kind for the operation)."""


class UnknownGood(AccountsError):
    """No good in the catalogue has this code."""


class UnknownPeriod(AccountsError):
    """No period has this code, or no period is open."""


class PeriodClosed(AccountsError):
    """The period is closed: nothing more can be recorded, approved or bought in it."""


class InsufficientHours(AccountsError):
    """The account does not hold enough hours: no balance may go negative."""


class OutOfStock(AccountsError):
    """The good's stock is smaller than the quantity asked for."""


class ProvidedFree(AccountsError):
    """The good is provided free for all from a social fund (health, education …): it is
    never sold, so it cannot be bought or delivered to the shops."""


class IdempotencyConflict(AccountsError):
    """An idempotency key was reused for a request with different content."""


class AccountsInputError(ValidationError):
    """An argument is malformed: negative hours, a bad code, an invalid deduction."""


class SeparationOfDuties(AccountsError):
    """Refused because the actor would control themselves: approving or rejecting a record
    that credits them or that they recorded."""


class NotAMember(AccountsError):
    """The person is not (or no longer) a member of the enterprise recording their hours."""


class HoursCapExceeded(AccountsError):
    """The person's hours in the period would exceed the cap per person and period."""
