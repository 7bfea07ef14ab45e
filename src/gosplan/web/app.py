"""``create_app(settings)``: the FastAPI application.  Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gosplan import __version__
from gosplan.config import Settings
from gosplan.storage.base import make_engine, upgrade
from gosplan.web import forms
from gosplan.web.deps import bounded_numbers
from gosplan.web.fast_pages import FastPages
from gosplan.web.i18n import N_
from gosplan.web.page_cache import PageCache, cache_of
from gosplan.web.render import REDIRECT, TEMPLATES, render, twin
from gosplan.web.security import (
    BodyLimitMiddleware,
    LoginGuard,
    RateLimiter,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    load_or_create_secret,
)
from gosplan.web.session_cache import SessionCache
from gosplan.web.state import AppState

ROUTERS = [
    "auth",
    "economy",
    "plan",
    "accounts",
    "enterprise",
    "fulfilment",
    "criticism",
    "publiclog",
    "decisions",
    "integrity",
    "runs",
    "users",
    "commission",
]


#: handler threads a process runs by default: the handlers hold the interpreter lock most of
#: the time, so more threads only contend for it (Settings.web_threads)
DEFAULT_THREADS = 2


class Home(BaseModel):
    economy: str
    products: int
    version: str


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the application for ``settings`` (store migrated; the demonstration seeded into
    an empty store only when ``settings.seed_demo``)."""
    import importlib

    settings = settings or Settings()
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(
        settings.database_url,
        echo=settings.echo_sql,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    secret = load_or_create_secret(settings.secret_key_path)
    connections = settings.db_pool_size + settings.db_max_overflow
    threads = settings.web_threads or min(DEFAULT_THREADS, connections)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # the handlers' thread pool is per event loop: sized once the loop runs
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="gosplan",
        version=__version__,
        description="Plans, labour values, labour-time accounts, fulfilment and "
        "control from below. Every HTML page has a .json twin.",
        dependencies=[Depends(bounded_numbers)],
    )
    app.state.gosplan = AppState(settings=settings, engine=engine, secret=secret)
    app.state.limiter = RateLimiter(engine)
    app.state.session_cache = SessionCache(engine, settings.session_cache_seconds)
    app.state.page_cache = PageCache(engine, settings.page_cache_seconds)
    app.state.login_guard = LoginGuard(
        engine,
        per_account=settings.login_attempts_per_account,
        per_client=settings.login_attempts_per_client,
        window_s=settings.login_window_minutes * 60,
        concurrency=settings.login_concurrency,
    )
    # outermost last: proxy headers, body limit, protective headers, the session, kept
    # pages answered before the routing (inside the session and the headers)
    app.add_middleware(FastPages, cache=app.state.page_cache, state=app.state.gosplan)
    app.add_middleware(
        SessionMiddleware,
        secret=secret,
        engine=engine,
        max_age=int(settings.session_lifetime_hours * 3600),
        secure=settings.cookie_secure,
        cache=app.state.session_cache,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )
    for name in ROUTERS:
        mod = importlib.import_module(f"gosplan.web.routes.{name}")
        app.include_router(mod.router)

    @twin(app.router, "/", model=Home)
    def home(request: Request) -> Response:
        from gosplan.web.deps import get_state, get_user

        st = get_state(request)
        user = get_user(request, st)
        eco = st.economy
        model = Home(
            economy=f"{eco.name} {eco.year or ''}".strip(), products=eco.n, version=__version__
        )
        return cache_of(request).serve(
            request, (), lambda who: render(request, "home.html", model, user=who), user=user
        )

    @app.get(
        "/lang/{code}",
        response_class=Response,
        status_code=303,
        responses=REDIRECT,
        summary="Choose the language of the pages (a cookie), then go back",
    )
    def choose_language(request: Request, code: str, next: str = "/") -> Response:
        from gosplan.web import i18n

        if code not in i18n.LOCALES:
            raise StarletteHTTPException(
                404, detail=f"code: no language {code!r}; choose one of {', '.join(i18n.LOCALES)}"
            )
        # only a path of this site: never an open redirect
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        resp = Response(status_code=303, headers={"Location": target})
        resp.set_cookie(
            i18n.COOKIE,
            code,
            max_age=365 * 86400,
            samesite="lax",
            secure=bool(settings.cookie_secure),
        )
        return resp

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=308, headers={"Location": "/static/favicon.svg"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return Response(status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 413:
            exc = StarletteHTTPException(
                413,
                detail=f"body: the request is larger than the "
                f"{settings.max_body_bytes} bytes accepted",
            )
        elif 400 <= exc.status_code < 500 and exc.status_code not in (401, 405):
            names = set(_form_fields(request))
            again = await forms.show_again(
                request, exc.status_code, forms.detail_errors(exc.detail, names)
            )
            if again is not None:
                if exc.headers:
                    again.headers.update(exc.headers)
                return again
        return error_answer(request, exc.status_code, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "problem": e["msg"]}
            for e in exc.errors()
        ]
        errors = forms.validation_errors(request, list(exc.errors()))
        body = exc.body if hasattr(exc.body, "multi_items") else None
        again = await forms.show_again(request, 422, errors, form=body)
        if again is not None:
            return again
        named = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        return error_answer(
            request,
            422,
            f"invalid input ({named})" if named else "invalid input",
            fields=fields,
            errors=errors,
        )

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> Response:
        # two requests raced to write the same thing (a second ballot, a taken name)
        return error_answer(
            request,
            409,
            "conflict: this was recorded already "
            "(or at the same moment by another request); reload and check",
        )

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> Response:
        return error_answer(request, 422, "a value is out of the range the store holds")

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> Response:
        return error_answer(request, 422, f"a number is out of range ({exc})")

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> Response:
        return error_answer(request, 422, "input nested too deeply")

    if settings.seed_demo:
        from gosplan.web.demo import seed_if_empty

        seed_if_empty(app.state.gosplan)
    return app


def _form_fields(request: Request) -> list[str]:
    """The form fields the matched route takes (its body parameters)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    out: list[str] = []

    def walk(d: object) -> None:
        out.extend(str(f.alias) for f in getattr(d, "body_params", []))
        for sub in getattr(d, "dependencies", []):
            walk(sub)

    if dependant is not None:
        walk(dependant)
    return out


#: what each error status means, in words (the page's heading)
STATUS_WORDS = {
    400: N_("The request could not be read"),
    401: N_("Sign in first"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not possible here"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Some input needs correcting"),
    429: N_("Too many attempts; wait a moment"),
}


#: what a bare status means, for errors raised without a message of their own
PLAIN_WORDS = {
    404: N_("There is no page at this address."),
    405: N_("This address does not take that kind of request."),
}


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_answer(
    request: Request,
    status: int,
    detail: Any,
    *,
    headers: Mapping[str, str] | None = None,
    fields: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """An error as a page for a browser (the person still signed in, the message in words,
    never raw JSON) or as ``{"ok": false, "error": ...}`` for a JSON client."""
    if not forms.wants_page(request):
        body: dict[str, Any] = {"ok": False, "error": detail}
        if fields is not None:
            body["fields"] = fields
        return JSONResponse(body, status_code=status, headers=dict(headers or {}))
    from gosplan.web.deps import get_user
    from gosplan.web.security import csrf_token

    user = csrf = None
    try:
        user = get_user(request, request.app.state.gosplan)
        csrf = csrf_token(request)
    except Exception:  # an error page never fails for want of a session
        user, csrf = None, ""
    field, why = "", detail if isinstance(detail, str) else ""
    if why == _phrase(status):  # Starlette's bare "Not Found": say it in words
        from gosplan.web import i18n

        why = i18n.gettext(i18n.locale_of(request), PLAIN_WORDS.get(status, why))
    head, sep, rest = why.partition(":")
    if sep and rest.strip() and " " not in head.strip() and len(head) <= 40:
        field, why = head.strip().strip("`"), rest.strip()
    if errors:
        problems = [(k, v) for k, v in errors.items()]
    else:
        problems = [(field, why or STATUS_WORDS.get(status, ""))]
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "request": request,
            "status": status,
            "heading": STATUS_WORDS.get(status, N_("Something went wrong")),
            "problems": problems,
            "user": user,
            "csrf": csrf or "",
        },
        status_code=status,
        headers=dict(headers or {}),
    )


def create_app_from_env() -> FastAPI:
    """The application for each worker process of ``gosplan serve --workers N``: settings from
    the environment; the parent process has migrated (and seeded) the store already."""
    settings = Settings()
    return create_app(settings.model_copy(update={"seed_demo": False}), migrate=False)
