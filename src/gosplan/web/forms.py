"""Forms that keep what was typed: a refused form comes back with the values and each error
next to its field, in words, with the person still signed in.

How a route adopts it (docs/web.md, "Forms that keep what was typed"):

1. Write the form in its template with the macros of ``_form.html``
   (``{% from "_form.html" import field, form_errors %}``; ``field(form, "username",
   _("Username"), required=True)``), which show ``form.value(name)`` and ``form.error(name)``.
2. Register how the page is shown again for the form's POST path with :func:`reshow`::

       @reshow("/login")
       def _login_again(request: Request, form: FormState) -> Response:
           return render(request, "login.html", LoginPage(), form=form, status_code=form.status)

3. That is all: a validation error of FastAPI (a missing or too long field, a word where a
   number goes) and any ``HTTPException(4xx, "field: why")`` the route raises come back to a
   browser as that page with the values typed and the error by the field; JSON clients
   (``Accept: application/json`` or a ``.json`` path) keep getting
   ``{"ok": false, "error": "field: why"}``.  A route may also call :func:`show_again`
   itself with errors it found.

Passwords, tokens, the CSRF token and a critic's identity are never typed back into the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from gosplan.web import i18n

log = logging.getLogger("gosplan.web")

#: form fields whose value is never shown again
SECRET_FIELDS = (
    "password",
    "csrf_token",
    "token",
    "current_password",
    "new_password",
    "identity",  # a critic's identity is only ever stored sealed: never shown again
)

FormRenderer = Callable[[Request, "FormState"], Response | None]
_RENDERERS: dict[tuple[str, str], FormRenderer] = {}


@dataclass
class FormState:
    """What was typed into a form and what is wrong with it (field → why, in words).

    An error under the key ``""`` concerns the form as a whole."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200
    #: every value of fields that may repeat (checkboxes, multiple selects)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def values_of(self, name: str) -> list[str]:
        return self.lists.get(name, [self.values[name]] if name in self.values else [])

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    @property
    def general(self) -> str:
        """Errors that belong to no field of the form."""
        return self.errors.get("", "")

    def __bool__(self) -> bool:
        return True


def reshow(path: str, method: str = "POST") -> Callable[[FormRenderer], FormRenderer]:
    """Register ``func(request, form)`` as the page that shows the form posted to ``path``
    (the route's path template, e.g. ``/criticism/{ref}/status``) again."""

    def deco(func: FormRenderer) -> FormRenderer:
        _RENDERERS[(method.upper(), path)] = func
        return func

    return deco


def renderer_for(request: Request) -> FormRenderer | None:
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return _RENDERERS.get((request.method.upper(), str(path)))


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not a ``.json`` path, not a JSON client)."""
    accept = request.headers.get("accept", "")
    return (
        "text/html" in accept
        and "application/json" not in accept
        and not request.url.path.endswith(".json")
    )


def typed_values(form: Mapping[str, Any] | Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The text a person typed (files and secrets left out)."""
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    items = form.multi_items() if hasattr(form, "multi_items") else list(dict(form).items())
    for k, v in items:
        if isinstance(v, UploadFile) or not isinstance(v, str):
            continue
        if k in SECRET_FIELDS or "password" in k:
            continue
        values.setdefault(k, v[:5000])
        lists.setdefault(k, []).append(v[:5000])
    return values, lists


def _words(locale: str, err: Mapping[str, Any]) -> str:
    """A pydantic error in words of ``locale``."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}

    def _(msg: str, **kw: Any) -> str:
        nums = {
            k: i18n.format_number(locale, v)
            if isinstance(v, int | float) and not isinstance(v, bool)
            else v
            for k, v in kw.items()
        }
        return i18n.gettext(locale, msg, **nums)

    if kind == "missing":
        return _("this field is required")
    if kind == "string_too_long":
        return _("at most %(n)s characters", n=ctx.get("max_length", "?"))
    if kind == "string_too_short":
        return _("at least %(n)s characters", n=ctx.get("min_length", "?"))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("a whole number is needed here")
    if kind in ("float_parsing", "float_type", "finite_number"):
        return _("a number is needed here")
    if kind in ("greater_than", "greater_than_equal"):
        return _("must be at least %(n)s", n=ctx.get("gt", ctx.get("ge", "?")))
    if kind in ("less_than", "less_than_equal"):
        return _("must be at most %(n)s", n=ctx.get("lt", ctx.get("le", "?")))
    if kind in ("literal_error", "enum"):
        return _("choose one of the options: %(options)s", options=ctx.get("expected", ""))
    if kind in ("bool_parsing", "bool_type"):
        return _("yes or no is needed here")
    return str(err.get("msg", _("this value is not accepted")))


def validation_errors(request: Request, errors: list[Any]) -> dict[str, str]:
    """FastAPI's validation errors as field → why (words in the request's locale)."""
    loc = i18n.locale_of(request)
    out: dict[str, str] = {}
    for e in errors:
        where = e.get("loc", ()) if isinstance(e, Mapping) else ()
        name = ".".join(str(p) for p in where[1:]) if len(where) > 1 else ""
        out.setdefault(name, _words(loc, e))
    return out


def detail_errors(detail: Any, names: set[str]) -> dict[str, str]:
    """``"field: why"`` (the house's error form) as {field: why}; ``""`` when no field of
    the form is named."""
    text = detail if isinstance(detail, str) else ""
    if not text:
        return {"": "this was refused"}
    head, sep, rest = text.partition(":")
    head = head.strip().strip("`")
    if sep and head in names and rest.strip():
        return {head: rest.strip()}
    return {"": text}


async def show_again(
    request: Request, status: int, errors: dict[str, str], *, form: Any = None
) -> Response | None:
    """The registered page of this form with ``errors`` and what was typed, or None where
    the request is not a browser's form post or no page is registered for it."""
    render = renderer_for(request)
    if render is None or not wants_page(request):
        return None
    if form is None and request.method == "GET":
        form = request.query_params
    if form is None:
        form = getattr(request, "_form", None)  # read (and cached) by the route already
    values, lists = typed_values(form) if form is not None else ({}, {})
    state = FormState(values=values, errors=errors, status=status, lists=lists)
    try:
        return render(request, state)
    except Exception:  # the form cannot be drawn again: the plain error page answers instead
        log.exception("showing the form of %s %s again failed", request.method, request.url.path)
        return None
