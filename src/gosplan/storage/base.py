"""Engine, sessions and migrations shared by every storage module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Insert, MetaData, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from gosplan.errors import StorageError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


#: a pooled PostgreSQL connection idle longer than this is pinged before it is handed out
PING_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection only when it has been idle for ``PING_IDLE_S`` seconds.

    ``pool_pre_ping`` sends a ``SELECT 1`` before every checkout: a round trip for each of a
    page's several checkouts (a tenth of a page's cost under load, issue 16). A connection
    used a moment ago is alive; one idle for a while may have been cut (a restart of the
    server, a proxy's timeout), so it is pinged and, if dead, replaced before any request
    sees it (SQLAlchemy retries the checkout on ``DisconnectionError``)."""
    import time

    from sqlalchemy import exc

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            dbapi_conn.rollback()
        except Exception as e:  # any failure: this connection is gone
            raise exc.DisconnectionError() from e


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> Engine:
    """An engine for ``url``.  SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL a
    pool of ``pool_size`` connections (+ ``max_overflow`` at a peak) per process, each pinged
    before use only after it was idle (:data:`PING_IDLE_S`)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800
    )
    _ping_when_idle(engine)
    return engine


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error (nothing half-written)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the store at ``url`` to the newest schema (every branch).

    The URL is checked first (:func:`check_url`): a folder, a text file, a
    truncated store or another database is refused before anything is written.
    """
    from alembic import command

    check_url(url)
    command.upgrade(alembic_config(url), revision)


# --------------------------------------------------------------------------- opening a store
#: the databases gosplan stores in
BACKENDS = ("sqlite", "postgresql")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _shown(url: str) -> str:
    """A URL fit for a message: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL that does not parse is shown as given
        return url


def _upgrade_hint(url: str) -> str:
    return f"`gosplan db upgrade --url {_shown(url)}`"


def check_url(url: str) -> URL:
    """Parse a store URL and check what it points at, without creating or changing anything.

    Refused with a :class:`StorageError` that says why: text that is no URL,
    a database other than SQLite or PostgreSQL (or a missing driver), a SQLite
    path that is a folder, lies in a missing folder, is not a SQLite database
    (e.g. a text file) or is shorter than its own header says (truncated).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(url, str) or not url.strip():
        raise StorageError(
            "the database URL is empty; use sqlite:///FILE or postgresql://USER@HOST/DB."
        )
    try:
        parsed = make_url(normalise_url(url.strip()))
    except ArgumentError:
        raise StorageError(
            f"database URL {url!r} is not a URL; use sqlite:///FILE (e.g. "
            f"sqlite:///gosplan.db) or postgresql://USER@HOST/DB."
        ) from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise StorageError(
            f"database URL {_shown(url)!r}: {backend!r} is not supported; "
            f"gosplan stores in SQLite (sqlite:///FILE) or PostgreSQL "
            f"(postgresql://USER@HOST/DB)."
        )
    try:
        parsed.get_dialect()
    except Exception as exc:  # a missing DBAPI driver, named in the message
        raise StorageError(
            f"database URL {_shown(url)!r}: its driver cannot be loaded ({exc})."
        ) from None
    if backend == "sqlite":
        _check_sqlite_file(parsed)
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL (None for an in-memory database)."""
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(db)


def _check_sqlite_file(url: URL) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise StorageError(
            f"database URL {str(url)!r} names the folder {str(path)!r}, not a "
            f"file; give a file, e.g. sqlite:///{path / 'gosplan.db'}."
        )
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise StorageError(
                f"database URL {str(url)!r}: the folder {str(parent)!r} does not exist."
            )
        return
    size = path.stat().st_size
    if size == 0:
        return  # SQLite treats an empty file as an empty database
    with path.open("rb") as fh:
        head = fh.read(100)
    if not head.startswith(_SQLITE_MAGIC):
        raise StorageError(
            f"{str(path)!r} is not a SQLite database (it does not start with "
            f"SQLite's header; is it another kind of file?). Check --db or "
            f"GOSPLAN_DATABASE_URL."
        )
    damaged = (
        f"{str(path)!r} is a damaged SQLite database: {{}}. Restore it from a copy or "
        f"point --db at another store."
    )
    if len(head) < 100:
        raise StorageError(damaged.format(f"only {size} bytes, shorter than its header"))
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        raise StorageError(damaged.format(f"its header gives an impossible page size {page}"))
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages may still live in the write-ahead log
    if size % page:
        raise StorageError(
            damaged.format(
                f"{size} bytes is not a whole number of its {page}-byte pages (truncated?)"
            )
        )
    pages = int.from_bytes(head[28:32], "big")
    valid = head[92:96] == head[24:28]
    if valid and pages and size < pages * page:
        raise StorageError(
            damaged.format(
                f"{size} bytes where its header counts {pages} pages "
                f"of {page} bytes ({pages * page} bytes): truncated"
            )
        )


def schema_heads(url: str) -> set[str]:
    """The migration heads (one per area) the newest schema carries."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def schema_versions(engine: Engine) -> set[str]:
    """The migration revisions a store carries (empty for a store never migrated)."""
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("alembic_version"):
        return set()
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}


def open_store(url: str, *, create: bool = True, echo: bool = False) -> Engine:
    """An engine on the store at ``url``, after checking that it can be used.

    With ``create`` (commands that write) a missing store is created and an
    older one migrated to the newest schema.  Without it (commands that only
    read) nothing is created or migrated: a missing store, or one not at the
    newest schema, is a :class:`StorageError` suggesting ``gosplan db upgrade``.
    A URL that is no URL, another database, a folder, a text file or a
    truncated store is refused before anything is touched.
    """
    from sqlalchemy.exc import SQLAlchemyError

    parsed = check_url(url)
    if not create and parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None and (not path.exists() or path.stat().st_size == 0):
            raise StorageError(
                f"there is no store at {str(path)!r}, so there is nothing to read (a typo in "
                f"--db?). A new store is made by {_upgrade_hint(url)} or by a command that "
                f"writes."
            )
    engine = make_engine(url, echo=echo)
    try:
        have = schema_versions(engine)
        heads = schema_heads(url)
        if have != heads:
            if not create:
                what = "was never set up" if not have else "is at an older schema"
                raise StorageError(
                    f"the store at {_shown(url)!r} {what}; bring it to the "
                    f"newest schema with {_upgrade_hint(url)}."
                )
            upgrade(url)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(
            f"the store at {_shown(url)!r} cannot be used: {describe_db_error(exc)}"
        ) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def describe_db_error(exc: BaseException) -> str:
    """The database's own words for an error, without SQLAlchemy's links and SQL."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rows_insert(model: type[Base], rows: Sequence[Mapping[str, Any]]) -> Insert:
    """An ``INSERT`` of ``rows`` (dicts by attribute name, all with the same keys) whose
    compiled form SQLAlchemy can cache: one row as ``VALUES``; several (PostgreSQL only)
    as ``SELECT unnest(:array), …`` with one array per column, so the statement is the same
    whatever the number of rows. A multi-row ``VALUES`` has no cache key and was compiled
    anew for every filing (2.7 ms of CPU each under load)."""
    from sqlalchemy import ARRAY, bindparam, func, insert, inspect, select

    if len(rows) == 1:
        return insert(model).values(dict(rows[0]))
    mapper = inspect(model)
    keys = list(rows[0])
    columns = [mapper.attrs[k].columns[0] for k in keys]
    table: Any = mapper.local_table
    arrays = [
        func.unnest(
            bindparam(f"{table.name}_{c.name}_rows", [r[k] for r in rows], type_=ARRAY(c.type)),
            type_=c.type,
        )
        for k, c in zip(keys, columns, strict=True)
    ]
    return insert(table).from_select([c.name for c in columns], select(*arrays))
