"""People who sign in, with roles; passwords hashed with Argon2id (argon2-cffi)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.errors import StorageError, ValidationError
from gosplan.storage.users import ROLES, User

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,62}$")


def register(
    session: Session,
    username: str,
    password: str,
    *,
    role: str = "worker",
    display_name: str = "",
    account: str | None = None,
    enterprise: str | None = None,
) -> User:
    """Create a user; the caller's transaction commits it."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            f"username {username!r} must be 2–63 characters: lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit."
        )
    if role not in ROLES:
        raise ValidationError(f"role {role!r} is not one of {ROLES}.")
    if len(password) < 8:
        raise ValidationError("a password must have at least 8 characters.")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise StorageError(f"username {username!r} is taken.")
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                display_name=display_name or username, account=account, enterprise=enterprise)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches, else None (no hint which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _hasher.hash(password)  # same cost either way: no timing oracle on usernames
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def count(session: Session) -> int:
    return len(session.scalars(select(User.id)).all())
