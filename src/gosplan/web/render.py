"""One context, two renderings: an HTML page and its ``.json`` twin (Datasette style)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from pydantic import BaseModel, create_model
from sqlalchemy.orm import Session
from starlette.routing import compile_path

from gosplan.errors import GosplanError
from gosplan.web import i18n
from gosplan.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _locale(ctx: Any) -> str:
    request = ctx.get("request") if hasattr(ctx, "get") else None
    return i18n.locale_of(request) if request is not None else i18n.DEFAULT


@pass_context
def _fmt_hours(ctx: Any, x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    return i18n.format_number(_locale(ctx), x, digits)


@pass_context
def _fmt_num(ctx: Any, x: float | None) -> str:
    if x is None:
        return "—"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e7):
        return f"{x:.4g}"
    loc = _locale(ctx)
    if abs(x) >= 1000:
        return i18n.format_number(loc, round(x), 0)
    return i18n.format_number(loc, float(f"{x:.4g}"))


@pass_context
def _fmt_when(ctx: Any, value: Any) -> str:
    return i18n.format_when(_locale(ctx), value)


@pass_context
def _gettext(ctx: Any, message: str) -> str:
    return i18n.gettext(_locale(ctx), message)


@pass_context
def _ngettext(ctx: Any, singular: str, plural: str, n: int) -> str:
    # Jinja fills ``%(num)s`` and the other variables afterwards (new style)
    return _plural_form(_locale(ctx), None, singular, plural, n)


@pass_context
def _pgettext(ctx: Any, context: str, message: str) -> str:
    return i18n.pgettext(_locale(ctx), context, message)


@pass_context
def _npgettext(ctx: Any, context: str, singular: str, plural: str, n: int) -> str:
    return _plural_form(_locale(ctx), context, singular, plural, n)


def _plural_form(locale: str, context: str | None, singular: str, plural: str, n: int) -> str:
    """The untouched form (placeholders kept) that ``locale`` uses for ``n``."""
    if locale != i18n.DEFAULT:
        cat = i18n.load(locale)
        forms = cat.plurals.get(i18n.key(singular, context))
        if forms:
            return forms[min(cat.plural_index(n), len(forms) - 1)]
    return singular if n == 1 else plural


_DATA_TABLE = re.compile(r'<table class="(data(?: [^"]*)?)"(?![^>]*\btabindex=)')


def _scrolling_tables(html: str) -> Markup:
    """Every data table of a page may scroll sideways in its own box on a phone: give each
    a place in the tab order, so that a keyboard can scroll it (WCAG 2.1.1)."""
    return Markup(_DATA_TABLE.sub(r'<table class="\1" tabindex="0"', str(html)))


TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
)
TEMPLATES.env.filters["hours"] = _fmt_hours
TEMPLATES.env.filters["num"] = _fmt_num
TEMPLATES.env.filters["when"] = _fmt_when
TEMPLATES.env.filters["scrolling_tables"] = _scrolling_tables
TEMPLATES.env.globals["LOCALES"] = i18n.NAMES
TEMPLATES.env.globals["locale_of"] = i18n.locale_of


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


#: the path of every ``.json`` twin :func:`twin` registered: its regex
_TWINS: dict[str, re.Pattern[str]] = {}


def twin_path(path: str) -> str:
    """A page's ``.json`` twin: ``/plan`` -> ``/plan.json``; the home page's is ``/index.json``."""
    return (path.rstrip("/") or "/index") + ".json"


def json_twin_url(request: Request) -> str | None:
    """The URL of this page's ``.json`` twin, or None where the app serves none (the login
    and receipt-check forms): a page never links a twin that is not there."""
    path = twin_path(request.url.path)
    if any(regex.match(path) for regex in _TWINS.values()):
        return path + (f"?{request.url.query}" if request.url.query else "")
    return None


def render(
    request: Request,
    template: str,
    model: BaseModel,
    *,
    status_code: int = 200,
    user: Any = None,
    **extra: Any,
) -> Response:
    """HTML through ``template`` or JSON (``{"ok": true, ...}``) for ``.json`` paths."""
    if wants_json(request):
        return JSONResponse({"ok": True, **model.model_dump(mode="json")}, status_code=status_code)
    from gosplan.web import page_cache

    ctx = {
        "request": request,
        "m": model,
        "user": user,
        # a page built for the page cache carries a mark where the session's token goes
        "csrf": page_cache.CSRF_MARK if page_cache.building(request) else csrf_token(request),
        "json_url": json_twin_url(request),
        **extra,
    }
    resp: HTMLResponse = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
    if ctx["json_url"]:
        resp.headers["Link"] = f'<{ctx["json_url"]}>; rel="alternate"; type="application/json"'
    return resp


class Ok(BaseModel):
    """What every JSON answer of the web app carries besides its data."""

    ok: bool = True


class Created(Ok):
    id: int


class ReceiptPublic(BaseModel):
    """A receipt: the log entry, its inclusion proof and a signed tree head."""

    format: str
    criticism: str | None = None
    entry: dict[str, Any]
    leaf_hash: str
    inclusion_proof: list[str]
    tree_head: dict[str, Any]


#: the other answer of a form route: the browser is sent on to the page
REDIRECT: dict[int | str, dict[str, Any]] = {
    303: {"description": "from an HTML form: a redirect to the page"}
}

_JSON_MODELS: dict[type[BaseModel], type[BaseModel]] = {}


def json_of(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with the ``ok`` field that :func:`render` adds to every ``.json`` answer."""
    if model not in _JSON_MODELS:
        _JSON_MODELS[model] = create_model(f"{model.__name__}Json", __base__=(model, Ok))
    return _JSON_MODELS[model]


def twin(
    router: APIRouter, path: str, *, model: type[BaseModel], **kwargs: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Register a GET handler at ``path`` (HTML) and at ``path + '.json'`` (``model``,
    plus ``ok``, declared as the twin's response model for the OpenAPI schema)."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        # the twin first, so that ``/things/{code}`` does not swallow ``/things/x.json``
        _TWINS[twin_path(path)] = compile_path(twin_path(path))[0]
        router.get(
            twin_path(path),
            include_in_schema=True,
            name=f"{func.__name__}_json",
            response_model=json_of(model),
            **kwargs,
        )(func)
        if path == "/":  # also ``/.json``, the home page's twin by the plain rule
            router.get("/.json", include_in_schema=False, **kwargs)(func)
        router.get(path, response_class=HTMLResponse, **kwargs)(func)
        return func

    return deco


def receipt_download(db: Session, make: Callable[[], dict[str, Any]], filename: str) -> Response:
    """The one receipt download: ``make()``'s receipt (entry, inclusion proof, signed tree
    head) as a JSON attachment named ``filename``; what the log does not hold is a 404."""
    try:
        data = make()
        db.commit()  # a receipt may sign a new tree head
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
