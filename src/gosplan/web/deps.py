"""Typed dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from gosplan.storage.base import session_scope
from gosplan.storage.users import User
from gosplan.web.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.gosplan
    return state


State = Annotated[AppState, Depends(get_state)]


def get_db(state: State) -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on error."""
    with session_scope(state.engine) as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def get_user(request: Request, state: State) -> User | None:
    """The signed-in user, loaded in a short session of its own (detached): a request never
    holds a pooled connection just for knowing who asks."""
    uid = request.session.get("uid")
    if uid is None:
        return None
    with Session(state.engine, expire_on_commit=False) as session:
        return session.get(User, int(uid))


MaybeUser = Annotated[User | None, Depends(get_user)]


def require_user(user: MaybeUser, request: Request) -> User:
    if user is None:
        wants_html = "text/html" in request.headers.get("accept", "")
        if wants_html:
            raise HTTPException(status_code=303,
                                headers={"Location": f"/login?next={request.url.path}"})
        raise HTTPException(status_code=401, detail="sign in first")
    return user


CurrentUser = Annotated[User, Depends(require_user)]


def require_role(*roles: str) -> Any:
    def dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status_code=403,
                                detail=f"this needs the role {' or '.join(roles)}; "
                                f"you are a {user.role}")
        return user

    return Depends(dep)
