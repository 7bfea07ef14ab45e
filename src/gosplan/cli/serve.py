"""``gosplan serve`` (the web application), ``gosplan get PATH`` (one page, in-process) and
``gosplan users`` (the first administrator, one-time tokens, ending sessions)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import click

from gosplan.cli._common import console, domain_errors
from gosplan.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _settings(database_url: str | None, **overrides: object) -> Settings:
    if database_url:
        overrides["database_url"] = database_url
    return Settings(**overrides)  # type: ignore[arg-type]


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--db",
    "database_url",
    default=None,
    help="Database URL (default: GOSPLAN_DATABASE_URL or sqlite:///gosplan.db).",
)
@click.option("--economy", default=None, help="Economy source (default: the embedded one).")
@click.option(
    "--demo",
    is_flag=True,
    help="Seed the demonstration population (published password) into an empty "
    "store. Never on a real store.",
)
@click.option(
    "--no-demo",
    is_flag=True,
    hidden=True,
    help="Accepted for old scripts: an empty store is the default now.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (uvicorn workers). Sessions, rate limits and sign-in "
    "throttles live in the store, so they hold across processes; use PostgreSQL.",
)
@domain_errors
def serve(
    host: str,
    port: int,
    database_url: str | None,
    economy: str | None,
    demo: bool,
    no_demo: bool,
    workers: int,
) -> None:
    """Start the web application (SQLite file by default; an empty store unless --demo)."""
    import uvicorn
    from sqlalchemy.orm import Session

    from gosplan.services import users
    from gosplan.web.app import create_app

    overrides: dict[str, object] = {}
    if economy:
        overrides["economy"] = economy
    if demo and not no_demo:
        overrides["seed_demo"] = True
    settings = _settings(database_url, **overrides)
    if settings.cookie_secure is None and host not in LOOPBACK:
        # off loopback the cookie must only travel over HTTPS (a TLS proxy in front);
        # GOSPLAN_COOKIE_SECURE=false to allow plain HTTP on a trusted network
        settings = settings.model_copy(update={"cookie_secure": True})
        overrides["cookie_secure"] = True
    app = create_app(settings)  # migrates the store and seeds it when asked, once
    with Session(app.state.gosplan.engine) as s:
        empty = users.count(s) == 0
    store = settings.database_url.split("@")[-1]
    console.print(
        f"gosplan is serving http://{host}:{port}/ (store: {store}; "
        f"{workers} process{'es' if workers > 1 else ''})"
    )
    if settings.seed_demo:
        console.print("demonstration users' password: demo-password (docs/web.md)")
    elif empty:
        console.print(
            "This store has no users yet. Make its first administrator with "
            "`gosplan users bootstrap-admin NAME`; it prints a one-time token "
            "to set the password at /setup."
        )
    if workers > 1 and settings.database_url.startswith("sqlite"):
        console.print(
            "[yellow]several processes on one SQLite file take turns to write; "
            "use PostgreSQL (--db) for a server that scales out[/yellow]"
        )
    if workers == 1:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return
    app.state.gosplan.engine.dispose()
    if database_url:
        overrides["database_url"] = database_url
    for name, value in overrides.items():
        if name != "seed_demo":
            os.environ[f"GOSPLAN_{name.upper()}"] = _env_value(value)
    uvicorn.run(
        "gosplan.web.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


#: seconds an idle keep-alive connection stays open: longer than clients and balancers keep
#: theirs (httpx 5 s, nginx 60 s), so that the server never closes a connection a client is
#: just reusing (uvicorn's own 5 s raced httpx's 5 s: "server disconnected", issue 16)
KEEP_ALIVE_S = 65


@click.command("get")
@click.argument("path")
@click.option("--db", "database_url", default=None, help="Database URL.")
@domain_errors
def get(path: str, database_url: str | None) -> None:
    """Render one page in-process (no server), e.g. gosplan get /economy.json.

    The application is driven through ASGI directly (no HTTP client needed);
    redirects are followed; a 4xx or 5xx answer exits with status 1.
    """
    from gosplan.web import inprocess
    from gosplan.web.app import create_app

    if not path.startswith("/"):
        raise click.BadParameter(
            f"{path!r} is not a path of the application; start it "
            "with /, e.g. /plan or /economy.json.",
            param_hint="PATH",
        )
    resp = inprocess.get(create_app(_settings(database_url)), path)
    click.echo(resp.text)
    if resp.status_code >= 400:
        raise SystemExit(1)


@click.group("users")
def users_group() -> None:
    """People who sign in: the first administrator, one-time tokens, ending sessions."""


def _store(database_url: str | None) -> Engine:
    from gosplan.storage.base import make_engine, upgrade

    settings = _settings(database_url)
    upgrade(settings.database_url)
    return make_engine(settings.database_url)


@users_group.command("bootstrap-admin")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--db", "database_url", default=None, help="Database URL.")
@click.option(
    "--hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(0.1, 168),
    help="How long the one-time token stays good.",
)
@click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")
@domain_errors
def bootstrap_admin(
    username: str, display_name: str, database_url: str | None, hours: float, as_json: bool
) -> None:
    """Make the first administrator of a store that has none; print a one-time token.

    The administrator sets a password with the token at /setup (good once, for --hours),
    then appoints planners, delegates and the commission at /users.
    """
    from gosplan.services import users
    from gosplan.storage.base import session_scope

    engine = _store(database_url)
    with session_scope(engine) as s:
        user, token = users.bootstrap_admin(
            s, username, display_name=display_name, token_hours=hours
        )
        name = user.username
    engine.dispose()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "username": name,
                    "role": "admin",
                    "token": token,
                    "setup_path": f"/setup?token={token}",
                    "hours": hours,
                }
            )
        )
        return
    console.print(f"administrator {name!r} made. One-time token (good once, for {hours:g} h):")
    click.echo(token)
    console.print(f"Set the password at /setup?token={token}")


@users_group.command("setup-token")
@click.argument("username")
@click.option("--db", "database_url", default=None, help="Database URL.")
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(0.1, 168))
@click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")
@domain_errors
def setup_token(username: str, database_url: str | None, hours: float, as_json: bool) -> None:
    """A one-time token with which USERNAME sets a new password (lost password)."""
    from gosplan.services import users
    from gosplan.storage.base import session_scope

    engine = _store(database_url)
    with session_scope(engine) as s:
        token = users.setup_token(s, username, token_hours=hours)
    engine.dispose()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "username": username,
                    "token": token,
                    "setup_path": f"/setup?token={token}",
                }
            )
        )
        return
    click.echo(token)


@users_group.command("end-sessions")
@click.argument("username")
@click.option("--db", "database_url", default=None, help="Database URL.")
@click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")
@domain_errors
def end_sessions(username: str, database_url: str | None, as_json: bool) -> None:
    """Sign USERNAME out everywhere (every session in the store ends)."""
    from gosplan.errors import ValidationError
    from gosplan.services import users
    from gosplan.storage import sessions
    from gosplan.storage.base import session_scope

    engine = _store(database_url)
    with session_scope(engine) as s:
        user = users.by_username(s, username.strip().lower())
        if user is None:
            raise ValidationError(f"username: no user {username!r}.")
        n = sessions.end_sessions(s, user.id)
    engine.dispose()
    click.echo(
        json.dumps({"ok": True, "username": username, "ended": n})
        if as_json
        else f"{n} session(s) of {username} ended"
    )


COMMANDS = [serve, get, users_group]
