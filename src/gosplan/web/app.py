"""``create_app(settings)``: the FastAPI application.  Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware

from gosplan import __version__
from gosplan.config import Settings
from gosplan.storage.base import make_engine, upgrade
from gosplan.web.render import TEMPLATES, render, twin
from gosplan.web.security import RateLimiter, load_or_create_secret
from gosplan.web.state import AppState

ROUTERS = ["auth", "economy", "plan", "accounts", "enterprise", "fulfilment", "criticism",
           "publiclog", "decisions", "integrity", "runs"]


class Home(BaseModel):
    economy: str
    products: int
    version: str


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the application for ``settings`` (store migrated, demo seeded if empty)."""
    import importlib

    settings = settings or Settings()
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    secret = load_or_create_secret(settings.secret_key_path)
    app = FastAPI(title="gosplan", version=__version__,
                  description="Plans, labour values, labour-time accounts, fulfilment and "
                  "control from below. Every HTML page has a .json twin.")
    app.state.gosplan = AppState(settings=settings, engine=engine, secret=secret)
    app.state.limiter = RateLimiter()
    app.add_middleware(SessionMiddleware, secret_key=secret.hex(), same_site="lax",
                       session_cookie="gosplan_session", https_only=False)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")),
              name="static")
    for name in ROUTERS:
        mod = importlib.import_module(f"gosplan.web.routes.{name}")
        app.include_router(mod.router)

    @twin(app.router, "/", model=Home)
    def home(request: Request) -> Response:
        from gosplan.web.deps import get_state

        st = get_state(request)
        user = None
        uid = request.session.get("uid")
        if uid is not None:
            from sqlalchemy.orm import Session

            from gosplan.storage.users import User

            with Session(st.engine) as s:
                user = s.get(User, int(uid))
        eco = st.economy
        model = Home(economy=f"{eco.name} {eco.year or ''}".strip(), products=eco.n,
                     version=__version__)
        return render(request, "home.html", model, user=user)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return Response(status_code=exc.status_code, headers=exc.headers)
        wants_html = ("text/html" in request.headers.get("accept", "")
                      and not request.url.path.endswith(".json"))
        if wants_html:
            return TEMPLATES.TemplateResponse(
                request, "error.html", {"request": request, "status": exc.status_code,
                                        "detail": exc.detail, "user": None, "csrf": ""},
                status_code=exc.status_code, headers=exc.headers)
        return JSONResponse({"ok": False, "error": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = [{"field": ".".join(str(p) for p in e["loc"][1:]), "problem": e["msg"]}
                  for e in exc.errors()]
        return JSONResponse({"ok": False, "error": "invalid input", "fields": fields},
                            status_code=422)

    if settings.seed_demo:
        from gosplan.web.demo import seed_if_empty

        seed_if_empty(app.state.gosplan)
    return app
