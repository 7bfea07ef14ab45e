"""Units for people: an amount of money in the reader's words ("R$ 100 of output at 2021
prices"), never "1e-05 BRL million"."""

from __future__ import annotations

from babel.numbers import get_currency_symbol
from starlette.requests import Request

from gosplan.services.accounts.catalogue import money_of
from gosplan.web import i18n
from gosplan.web.i18n import N_

__all__ = ["FUND_LABELS", "funds_in_words", "money_of", "money_words", "unit_in_words"]

#: names of the social funds, for people (msgids; translated where shown)
FUND_LABELS = {
    "health": N_("health care"),
    "education": N_("education"),
    "care": N_("care"),
    "culture": N_("culture"),
    "social": N_("other public services"),
    "investment": N_("investment"),
    "reserves": N_("reserves"),
    "foreign_trade": N_("foreign trade"),
}


def money_words(amount: float, currency: str, request: Request) -> str:
    """An amount of money as the reader's locale writes it: "R$ 100", "R$ 1.000"."""
    loc = i18n.locale_of(request)
    symbol = get_currency_symbol(currency, locale=loc)  # the code itself where unknown
    return f"{symbol} {i18n.format_number(loc, amount)}"


def unit_in_words(unit: str, year: int | None, request: Request) -> str:
    """A good's unit for people: "0.0001 BRL million" → "R$ 100 of output at 2021 prices";
    a unit that is not an amount of money is shown as it is."""
    money = money_of(unit)
    if money is None:
        return unit
    _ = i18n.translator(request)
    text = money_words(*money, request)
    if year:
        return _("%(money)s of output at %(year)s prices", money=text, year=year)
    return _("%(money)s of output", money=text)


def funds_in_words(funds: list[str], request: Request) -> str:
    _ = i18n.translator(request)
    names = [_(FUND_LABELS.get(f, f)) for f in funds]
    if len(names) == 1:
        return _("the %(fund)s fund", fund=names[0])
    return _("the %(funds)s funds", funds=_(" and ").join(names))
