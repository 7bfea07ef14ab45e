"""Languages of the web application: Brazilian Portuguese and English.

Messages are marked in templates with ``{{ _("...") }}`` (Jinja's i18n extension, new
style: ``_("%(n)s hours", n=x)``) and in Python with :func:`translator`. The catalogs are
gettext ``.po`` files under ``web/locale/<locale>/LC_MESSAGES/``, extracted and updated with
Babel (``babel.cfg``; see docs/web.md); they are read as ``.po`` at start-up, so no compile
step stands between an edit and the page.

The locale of a request: the ``lang`` cookie (set by ``/lang/<code>``, the switch in every
page's header) when it names a supported locale, else the best match of ``Accept-Language``,
else English.  Numbers and dates are formatted for it with Babel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from gettext import c2py
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from starlette.requests import Request

LOCALES: tuple[str, ...] = ("en", "pt_BR")
DEFAULT = "en"
NAMES: dict[str, str] = {"en": "English", "pt_BR": "Português (Brasil)"}
LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "lang"


#: gettext's separator between a message's context and its id, in catalog keys
CONTEXT_SEP = "\x04"


def key(msgid: str, context: str | None = None) -> str:
    """A catalog key: ``msgid``, or ``context`` + EOT + ``msgid`` for a message with a
    context (one English word that needs two words in another language)."""
    return f"{context}{CONTEXT_SEP}{msgid}" if context else msgid


@dataclass(frozen=True)
class Catalog:
    """One locale's merged ``.po`` files: single messages, plural messages (the singular's
    key → every plural form) and the locale's rule choosing a form for a number."""

    messages: dict[str, str]
    plurals: dict[str, tuple[str, ...]]
    plural_index: Callable[[int], int]


@cache
def load(locale: str) -> Catalog:
    """Every ``.po`` file of ``locale`` merged (empty for English, the source)."""
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    rule = "(n != 1)"
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po.open("rb") as fh:
            cat = read_po(fh, locale=locale)
        rule = cat.plural_expr
        for msg in cat:
            if not msg.id or msg.fuzzy:
                continue
            if isinstance(msg.id, str) and isinstance(msg.string, str) and msg.string:
                messages[key(msg.id, msg.context)] = msg.string
            elif isinstance(msg.id, tuple | list) and isinstance(msg.string, tuple | list):
                if msg.string and all(msg.string):
                    plurals[key(str(msg.id[0]), msg.context)] = tuple(map(str, msg.string))
    return Catalog(messages, plurals, c2py(rule))


def catalog(locale: str) -> dict[str, str]:
    """Catalog key (:func:`key`) → translation, for the single messages of ``locale``."""
    return load(locale).messages


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here: words kept in data
    (kinds, statuses, fund names) and translated where they are shown."""
    return message


def negotiate(accept_language: str | None) -> str:
    """The supported locale that best matches an ``Accept-Language`` header."""
    if not accept_language:
        return DEFAULT
    wanted: list[tuple[float, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag:
            wanted.append((weight - i * 1e-6, tag.strip().replace("-", "_")))
    prefs = [t for _, t in sorted(wanted, reverse=True)]
    found = negotiate_locale(prefs, list(LOCALES), aliases={"pt": "pt_BR", "en": "en"})
    if found is None:
        found = negotiate_locale([p.split("_")[0] for p in prefs], ["en", "pt"])
        found = {"pt": "pt_BR"}.get(found or "", found)
    return found if found in LOCALES else DEFAULT


def locale_of(request: Request) -> str:
    """The locale this request is answered in (cached on ``request.state``)."""
    cached = getattr(request.state, "locale", None)
    if cached in LOCALES:
        return str(cached)
    chosen = request.cookies.get(COOKIE)
    loc = chosen if chosen in LOCALES else negotiate(request.headers.get("accept-language"))
    request.state.locale = loc
    return loc


def gettext(locale: str, message: str, **variables: Any) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled from ``variables``."""
    return pgettext(locale, None, message, **variables)


def pgettext(locale: str, context: str | None, message: str, **variables: Any) -> str:
    """``message`` as meant in ``context`` (e.g. a criticism's "rejected", not a work
    record's), in ``locale``."""
    text = (
        load(locale).messages.get(key(message, context), message) if locale != DEFAULT else message
    )
    return text % variables if variables else text


def npgettext(
    locale: str, context: str | None, singular: str, plural: str, n: int, **variables: Any
) -> str:
    """The form of ``singular``/``plural`` that ``locale`` uses for ``n`` (Portuguese says
    "1 hora", "0 hora"; English "0 hours"), filled with ``num`` = ``n`` and ``variables``."""
    forms = load(locale).plurals.get(key(singular, context)) if locale != DEFAULT else None
    if forms:
        text = forms[min(load(locale).plural_index(n), len(forms) - 1)]
    else:
        text = singular if n == 1 else plural
    return text % {"num": n, **variables}


def ngettext(locale: str, singular: str, plural: str, n: int, **variables: Any) -> str:
    """:func:`npgettext` without a context."""
    return npgettext(locale, None, singular, plural, n, **variables)


def translator(request: Request) -> Callable[..., str]:
    """``_`` for Python code that builds words shown on a page (flash messages, errors)."""
    loc = locale_of(request)

    def _(message: str, **variables: Any) -> str:
        return gettext(loc, message, **variables)

    return _


@cache
def _separators(locale: str) -> tuple[str, str, str]:
    """The locale's group separator, decimal mark and minus sign."""
    symbols = Locale.parse(locale).number_symbols
    latn = symbols.get("latn", symbols)
    return str(latn["group"]), str(latn["decimal"]), str(latn["minusSign"])


_THOUSANDTH = Decimal("0.001")


def _fast_number(locale: str, x: object, digits: int | None) -> str | None:
    """What Babel's ``format_decimal`` writes for a finite int, float or Decimal (the same
    text: the float's shortest repr, rounded half to even), about 15 times faster; None
    for anything else. Pages format dozens of numbers each: Babel's own path was a fifth of
    a page's cost (issue 16)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        d = Decimal(repr(x))
    elif isinstance(x, Decimal):
        if not x.is_finite():
            return None
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    else:
        return None
    group, mark, minus = _separators(locale)
    if digits is None:  # the locale's pattern #,##0.###
        text = f"{d.quantize(_THOUSANDTH, rounding=ROUND_HALF_EVEN):,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{d:,.{digits}f}"
    if text.startswith("-"):
        text = minus + text[1:]
    return text.replace(",", "\0").replace(".", mark).replace("\0", group)


def format_number(locale: str, x: float, digits: int | None = None) -> str:
    """``x`` with the locale's separators (``1,234.5`` in English, ``1.234,5`` in Portuguese)."""
    fast = _fast_number(locale, x, digits)
    if fast is not None:
        return fast
    if digits is None:
        return format_decimal(x, locale=Locale.parse(locale))
    fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(x, format=fmt, locale=Locale.parse(locale))


def format_when(locale: str, value: date | datetime | str | None) -> str:
    """A date or time as the locale writes it (ISO strings are parsed first)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            # a day alone ("2026-03-01") stays a day: no midnight is shown for it
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return format_datetime(value, format="medium", locale=Locale.parse(locale))
    return format_date(value, format="medium", locale=Locale.parse(locale))
