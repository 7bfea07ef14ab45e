"""One context, two renderings: an HTML page and its ``.json`` twin (Datasette style)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from gosplan.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _fmt_hours(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def _fmt_num(x: float | None) -> str:
    if x is None:
        return "—"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e7):
        return f"{x:.4g}"
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


TEMPLATES.env.filters["hours"] = _fmt_hours
TEMPLATES.env.filters["num"] = _fmt_num


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def render(request: Request, template: str, model: BaseModel, *, status_code: int = 200,
           user: Any = None, **extra: Any) -> Response:
    """HTML through ``template`` or JSON (``{"ok": true, ...}``) for ``.json`` paths."""
    if wants_json(request):
        return JSONResponse({"ok": True, **model.model_dump(mode="json")},
                            status_code=status_code)
    ctx = {"request": request, "m": model, "user": user, "csrf": csrf_token(request),
           "json_url": request.url.path.rstrip("/") + ".json"
           + (f"?{request.url.query}" if request.url.query else ""), **extra}
    resp: HTMLResponse = TEMPLATES.TemplateResponse(request, template, ctx,
                                                    status_code=status_code)
    resp.headers["Link"] = f'<{ctx["json_url"]}>; rel="alternate"; type="application/json"'
    return resp


def twin(router: APIRouter, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register a GET handler at ``path`` and at ``path + '.json'``."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        # the twin first, so that ``/things/{code}`` does not swallow ``/things/x.json``
        router.get(path.rstrip("/") + ".json", include_in_schema=True,
                   name=f"{func.__name__}_json", **kwargs)(func)
        router.get(path, response_class=HTMLResponse, **kwargs)(func)
        return func

    return deco
