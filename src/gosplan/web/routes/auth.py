"""Sign in, sign out, register, change one's password, set it with a one-time token.

Workers register themselves; other roles are appointed by an administrator
(``/users``). Sessions live in the store: signing out ends every session of the
person, on every server process, and so does a password change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gosplan.errors import GosplanError
from gosplan.services import users
from gosplan.storage import sessions as store
from gosplan.storage.users import User
from gosplan.web import i18n
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.forms import FormState, reshow
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.security import LoginGuard, check_csrf, client_host
from gosplan.web.state import AppState

router = APIRouter(tags=["people"])

Password = Annotated[str, Form(max_length=1024)]
Username = Annotated[str, Form(max_length=64)]


class LoginPage(BaseModel):
    """The sign-in, registration and set-password form: its mode and the fields it takes."""

    next: str = "/"
    error: str = ""
    mode: str = "login"
    token: str = ""
    fields: list[str] = []
    #: who is signed in already (None: nobody)
    signed_in_as: str | None = None


FIELDS = {
    "login": ["username", "password", "next"],
    "register": ["username", "display_name", "password"],
    "setup": ["token", "password"],
}


def _page(mode: str, user: User | None = None, **kw: str) -> LoginPage:
    return LoginPage(
        mode=mode,
        fields=FIELDS[mode],
        signed_in_as=user.username if user is not None else None,
        **kw,
    )


def _field_of(message: str, mode: str) -> str:
    """The form field a service's message is about ("" for the form as a whole)."""
    low = message.lower()
    for name in ("password", "username", "token", "display_name"):
        if name.replace("_", " ") in low or name in low:
            return name if name in FIELDS[mode] else ""
    return ""


def _again(request: Request, mode: str, form: FormState, *, user: User | None = None) -> Response:
    """The form of ``mode`` shown again with what was typed and the errors by their fields
    (a JSON client gets ``{"ok": false, "error": "field: why"}``)."""
    if "application/json" in request.headers.get("accept", ""):
        field, why = next(iter(form.errors.items()), ("", "refused"))
        return JSONResponse(
            {"ok": False, "error": f"{field}: {why}" if field else why}, status_code=form.status
        )
    model = _page(
        mode,
        user,
        next=_safe_next(form.value("next", "/")),
        token=form.value("token")[:200],
        error="; ".join(f"{k}: {v}" if k else v for k, v in form.errors.items()),
    )
    return render(request, "login.html", model, user=user, form=form, status_code=form.status)


@reshow("/login")
def _login_again(request: Request, form: FormState) -> Response:
    return _again(request, "login", form)


@reshow("/register")
def _register_again(request: Request, form: FormState) -> Response:
    return _again(request, "register", form)


@reshow("/setup")
def _setup_again(request: Request, form: FormState) -> Response:
    return _again(request, "setup", form)


class EnterpriseRef(BaseModel):
    code: str
    name: str


class Me(BaseModel):
    username: str
    role: str
    display_name: str
    account: str | None
    enterprise: str | None
    sessions: int
    message: str = ""
    #: the enterprises whose member the person is (from the labour ledger's memberships)
    enterprises: list[EnterpriseRef] = []


def _enterprises(state: AppState, user: User) -> list[EnterpriseRef]:
    """The enterprises ``user`` works in: the ledger's memberships of their account, and
    the enterprise they are linked to as its delegate."""
    codes: list[str] = []
    if user.account:
        try:
            codes = state.accounts.enterprises_of(user.account)
        except GosplanError:
            codes = []
    if user.enterprise and user.enterprise not in codes:
        codes.append(user.enterprise)
    out = []
    for code in codes:
        try:
            name = state.accounts.account(code).name or code
        except GosplanError:
            name = code
        out.append(EnterpriseRef(code=code, name=name))
    return out


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/") and not nxt.startswith(("//", "/\\")) else "/"


def _guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


def start_session(request: Request, db: Session, user: User, lifetime_hours: float) -> None:
    """Open a session in the store for ``user`` and put its token in the cookie."""
    token = store.create_session(db, user.id, lifetime_hours * 3600)
    db.commit()
    request.session.clear()
    request.session["sid"] = token


@twin(router, "/login", model=LoginPage)
def login_form(request: Request, user: MaybeUser, next: str = "/") -> Response:
    """The sign-in form (its ``.json`` twin lists the fields ``POST /login`` takes)."""
    return render(request, "login.html", _page("login", user, next=_safe_next(next)), user=user)


def _verify(engine: Engine, username: str, password: str) -> User | None:
    """The user if the password matches (a rehash is committed), else None."""
    with Session(engine, expire_on_commit=False) as db:
        user = users.authenticate(db, username, password)
        db.commit()
        return user


def _open_session(engine: Engine, user_id: int, lifetime_hours: float) -> str:
    with Session(engine) as db:
        token = store.create_session(db, user_id, lifetime_hours * 3600)
        db.commit()
        return token


@router.post(
    "/login", dependencies=[Depends(check_csrf)], response_class=HTMLResponse, responses=REDIRECT
)
async def login(
    request: Request,
    state: State,
    username: Username,
    password: Password,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Sign in. Throttled per account and per client in the store (429 before any hashing);
    the password hash waits for a slot of the process's bounded hashing, holding no thread."""
    guard = _guard(request)
    client = client_host(request)
    when = await run_in_threadpool(guard.attempt, username, client)
    async with guard.slot():
        user = await run_in_threadpool(_verify, state.engine, username, password)
    if user is None:
        _ = i18n.translator(request)
        form = FormState(
            values={"username": username, "next": _safe_next(next)},
            errors={"password": _("wrong username or password")},
            status=401,
        )
        return _again(request, "login", form)
    await run_in_threadpool(guard.succeeded, username, client, when)
    token = await run_in_threadpool(
        _open_session, state.engine, user.id, state.settings.session_lifetime_hours
    )
    request.session.clear()
    request.session["sid"] = token
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post(
    "/logout", dependencies=[Depends(check_csrf)], response_class=RedirectResponse, status_code=303
)
def logout(request: Request, db: Db, user: MaybeUser) -> Response:
    """Sign out: every session of this person ends, on every server process."""
    if user is not None:
        store.end_sessions(db, user.id)
        db.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@twin(router, "/register", model=LoginPage)
def register_form(request: Request, user: MaybeUser) -> Response:
    """The form to register as a worker (its ``.json`` twin lists the fields)."""
    return render(request, "login.html", _page("register", user), user=user)


@router.post(
    "/register", dependencies=[Depends(check_csrf)], response_class=HTMLResponse, responses=REDIRECT
)
def register(
    request: Request,
    db: Db,
    state: State,
    username: Username,
    password: Password,
    display_name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    guard = _guard(request)
    request.app.state.limiter.hit(
        f"ip:{client_host(request)}", "registering", state.settings.login_attempts_per_client
    )
    try:
        with guard.hashing():
            user = users.register(db, username, password, role="worker", display_name=display_name)
        db.commit()
    except GosplanError as exc:
        db.rollback()
        form = FormState(
            values={"username": username, "display_name": display_name},
            errors={_field_of(str(exc), "register"): str(exc)},
            status=400,
        )
        return _again(request, "register", form)
    start_session(request, db, user, state.settings.session_lifetime_hours)
    return RedirectResponse("/", status_code=303)


def _me(user: User, db: Session, message: str = "") -> Me:
    return Me(
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        account=user.account,
        enterprise=user.enterprise,
        sessions=store.live_sessions(db, user.id),
        message=message,
    )


@twin(router, "/me", model=Me)
def me(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    if user is None:
        if wants_json(request):
            raise HTTPException(status_code=401, detail="sign in first")
        return RedirectResponse("/login?next=/me", status_code=303)
    enterprises = _enterprises(state, user)  # the ledger first, the request's session after
    model = _me(user, db).model_copy(update={"enterprises": enterprises})
    return render(request, "me.html", model, user=user)


@router.post(
    "/me/password",
    dependencies=[Depends(check_csrf)],
    response_class=HTMLResponse,
    responses=REDIRECT,
)
def change_password(
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    current_password: Password,
    new_password: Password,
) -> Response:
    """Change one's password: every session ends (this one too); sign in again."""
    guard = _guard(request)
    when = guard.attempt(user.username, client_host(request))
    try:
        with guard.hashing():
            users.change_password(db, db.merge(user), current_password, new_password)
        db.commit()
    except GosplanError as exc:
        db.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    guard.succeeded(user.username, client_host(request), when)
    request.session.clear()
    if "application/json" in request.headers.get("accept", ""):
        return Response('{"ok": true, "signed_out": true}', media_type="application/json")
    return RedirectResponse("/login?next=/me", status_code=303)


@reshow("/me/password")
def _password_again(request: Request, form: FormState) -> Response | None:
    """``/me`` again with what is wrong with the password change (never the passwords)."""
    from gosplan.web.deps import get_state, get_user

    state = get_state(request)
    user = get_user(request, state)
    if user is None:
        return None
    with Session(state.engine) as db:
        return render(
            request, "me.html", _me(user, db), user=user, form=form, status_code=form.status
        )


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, user: MaybeUser, token: str = "") -> Response:
    """The page where a one-time token (``gosplan users bootstrap-admin``) sets a password."""
    return render(request, "login.html", _page("setup", user, token=token[:200]), user=user)


@router.post(
    "/setup", dependencies=[Depends(check_csrf)], response_class=HTMLResponse, responses=REDIRECT
)
def setup(
    request: Request,
    db: Db,
    state: State,
    token: Annotated[str, Form(max_length=200)],
    password: Password,
) -> Response:
    request.app.state.limiter.hit(
        f"ip:{client_host(request)}", "setup", state.settings.login_attempts_per_client
    )
    try:
        with _guard(request).hashing():
            user = users.redeem_setup_token(db, token, password)
        db.commit()
    except GosplanError as exc:
        db.rollback()
        form = FormState(
            values={"token": token}, errors={_field_of(str(exc), "setup"): str(exc)}, status=400
        )
        return _again(request, "setup", form)
    start_session(request, db, user, state.settings.session_lifetime_hours)
    return RedirectResponse("/me", status_code=303)
