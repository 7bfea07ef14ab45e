"""Storage: SQLAlchemy 2.0 over SQLite (default) or PostgreSQL, migrations with Alembic.

Each capability keeps its tables in its own module (``storage/<area>.py``)
on the shared :class:`Base`, and its migrations on its own Alembic branch
(``branch_labels=("<area>",)``, ``down_revision=None`` for the first);
``gosplan db upgrade`` applies every head.
"""

from gosplan.storage.base import Base, make_engine, session_scope, upgrade

__all__ = ["Base", "make_engine", "session_scope", "upgrade"]
