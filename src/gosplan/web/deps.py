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
    """The signed-in user, detached: the one the session middleware found with the session
    (no further round trip), else loaded in a short session of its own; a request never
    holds a pooled connection just for knowing who asks."""
    uid = request.session.get("uid")
    if uid is None:
        return None
    from gosplan.web.security import USER_SCOPE_KEY
    from gosplan.web.session_cache import detached_user

    columns = request.scope.get(USER_SCOPE_KEY)
    if columns is not None and columns.get("id") == int(uid):
        return detached_user(columns)  # looked up (or cached) with the session itself
    with Session(state.engine, expire_on_commit=False) as session:
        return session.get(User, int(uid))


MaybeUser = Annotated[User | None, Depends(get_user)]


def require_user(user: MaybeUser, request: Request) -> User:
    if user is None:
        wants_html = "text/html" in request.headers.get("accept", "")
        if wants_html:
            raise HTTPException(
                status_code=303, headers={"Location": f"/login?next={request.url.path}"}
            )
        raise HTTPException(status_code=401, detail="sign in first")
    return user


CurrentUser = Annotated[User, Depends(require_user)]


def require_role(*roles: str) -> Any:
    def dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(
                status_code=403,
                detail=f"this needs the role {' or '.join(roles)}; you are a {user.role}",
            )
        return user

    return Depends(dep)


# --- numbers and JSON from the outside ----------------------------------------------------

#: integers a path, query or form may carry: what every integer column holds (PostgreSQL int4)
INT_LIMIT = 2**31 - 1
#: floats a form or query may carry (finite, and no more than this in magnitude)
FLOAT_LIMIT = 1e15


def _number_kind(annotation: Any) -> str | None:
    """'int' or 'float' for int/float parameters (also optional, or lists of them)."""
    import typing

    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    for arg in typing.get_args(annotation):
        kind = _number_kind(arg)
        if kind:
            return kind
    return None


def _numeric_fields(dependant: Any) -> list[tuple[str, str, str]]:
    """(location, name, kind) of every int/float parameter of a route, dependencies included."""
    out: list[tuple[str, str, str]] = []
    for loc, fields in (
        ("path", dependant.path_params),
        ("query", dependant.query_params),
        ("body", dependant.body_params),
    ):
        for f in fields:
            kind = _number_kind(f.field_info.annotation)
            if kind:
                out.append((loc, f.alias, kind))
    for sub in dependant.dependencies:
        out.extend(_numeric_fields(sub))
    return out


def _check_number(name: str, kind: str, raw: Any) -> None:
    import math

    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return
    text = str(raw).strip()
    try:
        value: float = int(text) if kind == "int" else float(text)
    except ValueError:
        if kind == "int":
            try:
                value = float(text)
            except ValueError:
                return  # not a number: the route's own validation names it
        else:
            return
    if isinstance(value, float) and not math.isfinite(value):
        raise HTTPException(
            status_code=422, detail=f"{name}: must be a finite number; got {text[:40]!r}"
        )
    limit = INT_LIMIT if kind == "int" else FLOAT_LIMIT
    if abs(value) > limit:
        raise HTTPException(
            status_code=422,
            detail=f"{name}: {text[:40]} is out of range (at most {limit:g} in magnitude)",
        )


async def bounded_numbers(request: Request) -> None:
    """App-wide: every int or float a route takes from the path, the query or a form is
    finite and within range (10^23 in a path is a 422 naming the field, never a 500)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    fields = getattr(route, "_gosplan_numeric", None)
    if fields is None:
        fields = _numeric_fields(dependant)
        route._gosplan_numeric = fields  # type: ignore[union-attr]
    if not fields:
        return
    form = None
    for loc, name, kind in fields:
        if loc == "path":
            values = [request.path_params.get(name)]
        elif loc == "query":
            values = list(request.query_params.getlist(name))
        else:
            ctype = request.headers.get("content-type", "")
            if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                continue
            if form is None:
                form = await request.form()
            values = list(form.getlist(name))
        for v in values:
            if v is not None:
                _check_number(name, kind, v)


def load_json(text: str | bytes, field: str, *, max_depth: int = 32) -> Any:
    """Parse JSON sent by a client, refusing nesting deeper than ``max_depth`` before
    parsing (no RecursionError) and non-finite numbers (``NaN``, ``Infinity``)."""
    import json

    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(status_code=422, detail=f"{field}: not UTF-8 text") from exc
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise HTTPException(
                    status_code=422, detail=f"{field}: JSON nested deeper than {max_depth} levels"
                )
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1

    def _no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    if not text.strip():
        raise HTTPException(status_code=422, detail=f"{field}: is empty; paste the JSON text")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise HTTPException(
            status_code=422, detail=f"{field}: not valid JSON ({json_problem(exc)})"
        ) from exc


#: what the JSON parser's messages mean, in words (its own text never reaches a page)
_JSON_WORDS = {
    "Expecting value": "no JSON value where one should start",
    "Extra data": "more text after the end of the JSON",
    "Expecting property name enclosed in double quotes": "a name in double quotes is missing",
    "Unterminated string starting at": "a text in quotes is not closed",
    "Expecting ',' delimiter": "a comma is missing",
    "Expecting ':' delimiter": "a colon is missing",
    "Invalid control character": "a line break or control character inside quotes",
    "Invalid \\escape": "a backslash that starts no valid escape",
}


def json_problem(exc: ValueError) -> str:
    """A JSON parse error in words, with the line and column where it was found."""
    import json

    if isinstance(exc, json.JSONDecodeError):
        words = next(
            (w for start, w in _JSON_WORDS.items() if exc.msg.startswith(start)),
            "text that is not JSON",
        )
        return f"{words}, at line {exc.lineno}, column {exc.colno}"
    return str(exc)
