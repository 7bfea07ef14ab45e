"""Tables of the public log: entries, complete-subtree hashes, signed tree heads.

Every table here is append-only: triggers installed by the ``control``
migrations abort any UPDATE or DELETE (the one counter row in
``publiclog_state`` excepted, whose value the verifier recomputes anyway).
Queries live in :mod:`gosplan.services.publiclog`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.storage.base import Base

#: tables whose rows may never change or disappear (triggers enforce it)
APPEND_ONLY_TABLES = (
    "publiclog_entry",
    "publiclog_node",
    "publiclog_tree_head",
    "publiclog_cosignature",
)


class LogEntry(Base):
    """One leaf of the log.  ``payload_json`` is the canonical JSON that was hashed."""

    __tablename__ = "publiclog_entry"

    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    payload_json: Mapped[str] = mapped_column(Text, nullable=False)
    #: ISO 8601 UTC time of the append, exactly as hashed
    logged_at: Mapped[str] = mapped_column(String(32), nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload_json)
        return value

    def to_public(self) -> dict[str, Any]:
        """The entry as published: index, kind, payload, time (what the leaf hash covers)."""
        return {
            "index": self.index,
            "kind": self.kind,
            "payload": self.payload,
            "time": self.logged_at,
        }

    def __repr__(self) -> str:
        return f"LogEntry(index={self.index}, kind={self.kind!r})"


class LogNode(Base):
    """Hash of the complete subtree over leaves ``[pos * 2**level, (pos + 1) * 2**level)``."""

    __tablename__ = "publiclog_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    pos: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class LogState(Base):
    """The single counter row (``id = 1``): how many entries the log holds."""

    __tablename__ = "publiclog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)


class StoredTreeHead(Base):
    """A signed tree head, kept so later verifiers can check the log never forked."""

    __tablename__ = "publiclog_tree_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)  # ms since the epoch
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    #: the checkpoint origin (C2SP tlog-checkpoint); ``None`` for heads signed in the
    #: older gosplan format (``signature`` over size, timestamp and root)
    origin: Mapped[str | None] = mapped_column(String(255), nullable=True)


class StoredCosignature(Base):
    """A witness's ``cosignature/v1`` on a signed tree head (C2SP tlog-cosignature)."""

    __tablename__ = "publiclog_cosignature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_head_id: Mapped[int] = mapped_column(
        ForeignKey("publiclog_tree_head.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(4), nullable=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)  # seconds
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)


PG_FUNCTION = "gosplan_control_append_only"


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """Statements installing triggers that abort UPDATE and DELETE on ``table``.

    ``dialect`` is ``"sqlite"`` or ``"postgresql"``; the error names the table
    and the refused operation.
    """
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
        ]
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
        ]
    raise ValueError(f"no append-only triggers for the {dialect!r} dialect")


def pg_function_ddl() -> str:
    """The PostgreSQL trigger function the append-only triggers call."""
    return (
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"
    )


def drop_append_only_ddl(dialect: str, table: str) -> list[str]:
    """The inverse of :func:`append_only_ddl` (for downgrades)."""
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]
