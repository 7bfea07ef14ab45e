"""``gosplan db upgrade``: create or migrate the store."""

from __future__ import annotations

import click

from gosplan.cli._common import console, domain_errors
from gosplan.config import Settings
from gosplan.storage.base import upgrade


@click.group("db")
def command() -> None:
    """The store: SQLite file by default, PostgreSQL via GOSPLAN_DATABASE_URL."""


@command.command("upgrade")
@click.option("--url", default=None, help="Database URL (default: GOSPLAN_DATABASE_URL).")
@domain_errors
def upgrade_cmd(url: str | None) -> None:
    """Apply every migration (all branches) to the store."""
    target = url or Settings().database_url
    upgrade(target)
    console.print(f"store at {target.split('@')[-1]} is at the newest schema")
