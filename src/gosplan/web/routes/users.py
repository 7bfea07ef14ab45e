"""People and their roles: an administrator appoints delegates, planners, the commission
and further administrators, and issues one-time tokens for lost passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gosplan.errors import GosplanError
from gosplan.services import users
from gosplan.storage.users import ROLES, User
from gosplan.web.deps import Db, get_state, get_user, require_role
from gosplan.web.forms import FormState, reshow
from gosplan.web.render import REDIRECT, Ok, render, twin
from gosplan.web.security import check_csrf

router = APIRouter(tags=["people"])

Admin = Annotated[User, require_role("admin")]


class UserRow(BaseModel):
    username: str
    display_name: str
    role: str
    account: str | None
    enterprise: str | None


class UsersPage(BaseModel):
    users: list[UserRow]
    roles: list[str]
    token: str = ""
    token_for: str = ""


def _page(db: Session, **extra: str) -> UsersPage:
    return UsersPage(
        users=[
            UserRow(
                username=u.username,
                display_name=u.display_name,
                role=u.role,
                account=u.account,
                enterprise=u.enterprise,
            )
            for u in users.all_users(db)
        ],
        roles=list(ROLES),
        **extra,
    )


@twin(router, "/users", model=UsersPage)
def users_page(request: Request, db: Db, admin: Admin) -> Response:
    return render(request, "users.html", _page(db), user=admin)


@router.post(
    "/users/{username}/role",
    dependencies=[Depends(check_csrf)],
    response_model=Ok,
    responses=REDIRECT,
)
def appoint(
    username: str, request: Request, db: Db, admin: Admin, role: Annotated[str, Form(max_length=16)]
) -> Response:
    """Appoint ``username`` to ``role`` (their sessions end; the role applies at sign-in)."""
    try:
        users.set_role(db, admin, username[:64], role)
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if "application/json" in request.headers.get("accept", ""):
        return Response('{"ok": true}', media_type="application/json")
    return RedirectResponse("/users", status_code=303)


@reshow("/users/{username}/role")
@reshow("/users/{username}/setup-token")
def _users_again(request: Request, form: FormState) -> Response | None:
    """The people page again, saying what was refused and for whom."""
    state = get_state(request)
    admin = get_user(request, state)
    if admin is None or admin.role != "admin":
        return None
    form.values["username"] = str(request.path_params.get("username", ""))[:64]
    with Session(state.engine) as db:
        return render(
            request, "users.html", _page(db), user=admin, form=form, status_code=form.status
        )


@router.post(
    "/users/{username}/setup-token",
    dependencies=[Depends(check_csrf)],
    response_class=HTMLResponse,
)
def issue_token(username: str, request: Request, db: Db, admin: Admin) -> Response:
    """A one-time token with which ``username`` sets a new password (shown once)."""
    try:
        token = users.setup_token(db, username[:64])
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return render(
        request, "users.html", _page(db, token=token, token_for=username[:64]), user=admin
    )
