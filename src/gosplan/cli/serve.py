"""``gosplan serve`` (the web application) and ``gosplan get PATH`` (one page, in-process)."""

from __future__ import annotations

import click

from gosplan.cli._common import console, domain_errors
from gosplan.config import Settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--db", "database_url", default=None,
              help="Database URL (default: GOSPLAN_DATABASE_URL or sqlite:///gosplan.db).")
@click.option("--economy", default=None, help="Economy source (default: the embedded one).")
@click.option("--no-demo", is_flag=True, help="Do not seed the demonstration population.")
@domain_errors
def serve(host: str, port: int, database_url: str | None, economy: str | None,
          no_demo: bool) -> None:
    """Start the web application (SQLite file by default; demo population seeded)."""
    import uvicorn

    from gosplan.web.app import create_app

    overrides: dict[str, object] = {}
    if database_url:
        overrides["database_url"] = database_url
    if economy:
        overrides["economy"] = economy
    if no_demo:
        overrides["seed_demo"] = False
    settings = Settings(**overrides)  # type: ignore[arg-type]
    app = create_app(settings)
    console.print(f"gosplan is serving http://{host}:{port}/ (store: "
                  f"{settings.database_url.split('@')[-1]}); demo users' password: "
                  "demo-password")
    uvicorn.run(app, host=host, port=port, log_level="warning")


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
        raise click.BadParameter(f"{path!r} is not a path of the application; start it "
                                 "with /, e.g. /plan or /economy.json.", param_hint="PATH")
    settings = Settings(**({"database_url": database_url} if database_url else {}))  # type: ignore[arg-type]
    resp = inprocess.get(create_app(settings), path)
    click.echo(resp.text)
    if resp.status_code >= 400:
        raise SystemExit(1)


COMMANDS = [serve, get]
