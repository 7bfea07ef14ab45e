"""People who sign in, with roles; passwords hashed with Argon2id (argon2-cffi)."""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gosplan.errors import StorageError, ValidationError
from gosplan.storage.users import ROLES, User, utcnow

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
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        display_name=display_name or username,
        account=account,
        enterprise=enterprise,
    )
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


class NotEnrolled(ValidationError):
    """The person is not in the electorate (not enrolled, no labour account)."""


def may_vote(user: User) -> bool:
    """Whether the person is in the electorate: enrolled by a registrar, or holding a labour
    account.  Self-registration alone gives a public, non-voting account."""
    return user.enrolled_at is not None or user.account is not None


def electorate(session: Session) -> int:
    """How many people may vote now."""
    return int(
        session.scalar(
            select(func.count(User.id)).where(
                or_(User.enrolled_at.is_not(None), User.account.is_not(None))
            )
        )
        or 0
    )


def enrol(session: Session, registrar: User, username: str, now: dt.datetime | None = None) -> User:
    """A registrar enrols a person as a voter (a public event); nobody enrols themselves."""
    if registrar.role != "registrar":
        raise PermissionDenied(
            f"{registrar.username} is not a registrar: only registrars enrol voters."
        )
    person = by_username(session, (username or "").strip().lower())
    if person is None:
        raise ValidationError(f"`username`: no person {username!r} to enrol.")
    if person.id == registrar.id:
        raise PermissionDenied("`username`: a registrar does not enrol themselves.")
    if person.enrolled_at is not None:
        return person
    person.enrolled_at = now or utcnow()
    person.enrolled_by = registrar.username
    session.flush()
    from gosplan.services import publiclog

    publiclog.append(
        session, "people.enrolled", {"person": person.username, "by": registrar.username}
    )
    return person


class PermissionDenied(ValidationError):
    """The acting person's role or relation to the subject does not allow the action."""


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def count(session: Session) -> int:
    return len(session.scalars(select(User.id)).all())


def set_password(session: Session, user: User, password: str) -> None:
    """Give ``user`` a new password and end every session they have (the caller commits)."""
    from gosplan.storage import sessions as store

    if len(password) < 8:
        raise ValidationError("password: a password must have at least 8 characters.")
    if len(password) > 1024:
        raise ValidationError("password: at most 1024 characters.")
    user.password_hash = _hasher.hash(password)
    session.add(user)
    store.end_sessions(session, user.id)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change one's own password: the current one must match; every session ends."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise ValidationError("current_password: that is not your current password.") from None
    set_password(session, user, new)


def set_role(session: Session, admin: User, username: str, role: str) -> User:
    """An administrator appoints ``username`` to ``role``; nobody changes their own role."""
    if admin.role != "admin":
        raise ValidationError(f"only an administrator appoints roles; you are a {admin.role}.")
    if role not in ROLES:
        raise ValidationError(f"role: {role!r} is not one of {ROLES}.")
    user = by_username(session, username.strip().lower())
    if user is None:
        raise ValidationError(f"username: no user {username!r}.")
    if user.id == admin.id:
        raise ValidationError("username: nobody changes their own role; ask another administrator.")
    before = user.role
    user.role = role
    from gosplan.services import publiclog
    from gosplan.storage import sessions as store

    store.end_sessions(session, user.id)  # the new role applies from their next sign-in
    # public: who holds which office, and who appointed them (never a password or session)
    publiclog.append(
        session,
        "people.role_changed",
        {"username": user.username, "from": before, "to": role, "by": admin.username},
    )
    session.flush()
    return user


def bootstrap_admin(
    session: Session, username: str, *, display_name: str = "", token_hours: float = 24.0
) -> tuple[User, str]:
    """The first administrator of a store that has none: created with no usable password and
    a one-time setup token (the caller prints it; it is good once, for ``token_hours``)."""
    import secrets

    from gosplan.storage import sessions as store

    if session.scalar(select(User.id).where(User.role == "admin")) is not None:
        raise StorageError(
            "this store has an administrator already; an administrator "
            "appoints the next ones (/users)."
        )
    user = register(
        session, username, secrets.token_urlsafe(32), role="admin", display_name=display_name
    )
    user.password_hash = "!" + user.password_hash  # no password signs in until it is set
    token = store.create_setup_token(session, user.id, token_hours * 3600)
    from gosplan.services import publiclog

    publiclog.append(
        session,
        "people.role_changed",
        {"username": user.username, "from": None, "to": "admin", "by": "bootstrap"},
    )
    return user, token


def setup_token(session: Session, username: str, *, token_hours: float = 24.0) -> str:
    """A one-time token with which ``username`` sets a new password (lost passwords)."""
    from gosplan.storage import sessions as store

    user = by_username(session, username.strip().lower())
    if user is None:
        raise ValidationError(f"username: no user {username!r}.")
    return store.create_setup_token(session, user.id, token_hours * 3600)


def redeem_setup_token(session: Session, token: str, password: str) -> User:
    """Set the password of the token's user and use the token up."""
    from gosplan.storage import sessions as store

    if len(password) < 8:
        raise ValidationError("password: a password must have at least 8 characters.")
    uid = store.consume_setup_token(session, token)
    user = session.get(User, uid) if uid is not None else None
    if user is None:
        raise ValidationError(
            "token: unknown, used or expired; ask for a new one (`gosplan users setup-token NAME`)."
        )
    set_password(session, user, password)
    return user


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
