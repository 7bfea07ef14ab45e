"""Alembic environment: URL from the config built by gosplan.storage.base.alembic_config."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlalchemy import pool

import gosplan.storage as storage_pkg
from gosplan.storage.base import Base, make_engine

# import every storage module so its tables are on Base.metadata
for mod in pkgutil.iter_modules(storage_pkg.__path__):
    if mod.name not in ("base", "migrations"):
        importlib.import_module(f"gosplan.storage.{mod.name}")

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url)
    if url.startswith("sqlite"):
        engine.pool = pool.NullPool(engine.pool._creator)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
