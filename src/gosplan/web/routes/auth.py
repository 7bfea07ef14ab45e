"""Sign in, sign out, register (workers register themselves; other roles are appointed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import users
from gosplan.web.deps import Db, MaybeUser
from gosplan.web.render import REDIRECT, render, twin
from gosplan.web.security import check_csrf

router = APIRouter(tags=["people"])


class LoginPage(BaseModel):
    next: str = "/"
    error: str = ""
    mode: str = "login"


class Me(BaseModel):
    username: str
    role: str
    display_name: str
    account: str | None
    enterprise: str | None


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: MaybeUser, next: str = "/") -> Response:
    return render(request, "login.html", LoginPage(next=_safe_next(next)), user=user)


@router.post("/login", dependencies=[Depends(check_csrf)], response_class=HTMLResponse,
             responses=REDIRECT)
def login(request: Request, db: Db, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    user = users.authenticate(db, username, password)
    if user is None:
        return render(request, "login.html",
                      LoginPage(next=_safe_next(next), error="wrong username or password"),
                      status_code=401)
    db.commit()  # a rehashed password; no write lock may outlive the route
    request.session.clear()
    request.session["uid"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)],
             response_class=RedirectResponse, status_code=303)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, user: MaybeUser) -> Response:
    return render(request, "login.html", LoginPage(mode="register"), user=user)


@router.post("/register", dependencies=[Depends(check_csrf)], response_class=HTMLResponse,
             responses=REDIRECT)
def register(request: Request, db: Db, username: Annotated[str, Form()],
             password: Annotated[str, Form()],
             display_name: Annotated[str, Form()] = "") -> Response:
    try:
        user = users.register(db, username, password, role="worker", display_name=display_name)
        db.commit()
    except GosplanError as exc:
        return render(request, "login.html", LoginPage(mode="register", error=str(exc)),
                      status_code=400)
    request.session.clear()
    request.session["uid"] = user.id
    return RedirectResponse("/", status_code=303)


@twin(router, "/me", model=Me)
def me(request: Request, user: MaybeUser) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/me", status_code=303)
    return render(request, "me.html", Me(username=user.username, role=user.role,
                                         display_name=user.display_name,
                                         account=user.account, enterprise=user.enterprise),
                  user=user)
