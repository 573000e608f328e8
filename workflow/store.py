"""The database: one SQLAlchemy engine, write transactions, and driver errors translated.

SQLite (the embedded default) runs in WAL mode and takes the write lock when a write
transaction begins (`BEGIN IMMEDIATE`), so two writers never deadlock on a lock upgrade.
PostgreSQL runs at READ COMMITTED; the engine's optimistic version check does the rest.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from workflow.errors import (
    ConcurrentInsert,
    ConstraintViolated,
    HistoryIsAppendOnly,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
    TatulasuError,
)
from workflow.schema import HISTORY_TABLES

DEFAULT_URL = "sqlite:///tatulasu.db"
BACKENDS = ("sqlite", "postgresql")
SUPPORTED = "tatulasu supports SQLite (sqlite:///FILE) and PostgreSQL (postgresql://USER@HOST/DB)"


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored instant is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for a plain `postgresql://` URL."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """Owns the connection pool; hands out transactions."""

    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False, pool_size: int = 10) -> None:
        check_url(url)
        self.url = normalize_url(url)
        try:
            self.engine = self._create_engine(echo, pool_size)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
            # An unknown driver (`sqlite+foo`) or one not installed (`postgresql+psycopg2`).
            raise StoreMisconfigured(
                f"database URL {shown_url(url)!r} cannot be used ({exc}); {SUPPORTED}"
            ) from exc
        self.dialect = self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self, echo: bool, pool_size: int) -> Engine:
        if self.url.startswith("sqlite"):
            engine = sa.create_engine(
                self.url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
            )
            _setup_sqlite(engine)
            return engine
        return sa.create_engine(
            self.url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with translate_errors(), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection (no write lock on SQLite)."""
        with translate_errors(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.info["read_only"] = True
            try:
                yield conn
            finally:
                conn.rollback()
                conn.info.pop("read_only", None)

    def has_table(self, name: str) -> bool:
        """Whether the schema has this table (a database `init` has not prepared has none)."""
        with self.reading() as conn:
            return sa.inspect(conn).has_table(name)

    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema to an Alembic revision (the newest by default)."""
        self._alembic("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to an older Alembic revision (operators and tests)."""
        self._alembic("downgrade", revision)

    def _alembic(self, action: str, revision: str) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with translate_errors(), self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def _lower(text: str | None) -> str | None:
    return None if text is None else str(text).lower()


def _setup_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for writes (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        # SQLite's lower() folds ASCII only; Python's folds Kazakh and Russian letters too,
        # as PostgreSQL's does (a centre searched in any case, `workflow.search.contains`).
        dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

    def _do_begin(pooled: Any) -> None:
        # `pooled` is the pool's proxy: its `info` is the `Connection.info` that `reading()`
        # marks. Overriding the dialect's (no-op) do_begin instead of listening to the
        # engine's "begin" event keeps SQLAlchemy's error wrapping of a failed BEGIN and
        # spares every statement the engine-event dispatch (a third of the per-event cost).
        sql = "BEGIN" if pooled.info.get("read_only") else "BEGIN IMMEDIATE"
        pooled.driver_connection.execute(sql)

    engine.dialect.do_begin = _do_begin  # type: ignore[method-assign,assignment]


def check_url(url: str) -> None:
    """Refuse a URL that is malformed or names a backend other than SQLite or PostgreSQL.

    Checked before SQLAlchemy sees it, which would otherwise fail later and in its own
    words (`ArgumentError`, or `ModuleNotFoundError: MySQLdb` for a `mysql://` URL).
    """
    try:
        backend = sa.make_url(normalize_url(url)).get_backend_name()
    except (sa.exc.ArgumentError, ValueError):
        raise StoreMisconfigured(
            f"database URL {shown_url(url)!r} is not a valid URL; {SUPPORTED}"
        ) from None
    if backend not in BACKENDS:
        raise StoreMisconfigured(
            f"database URL {shown_url(url)!r} names the {backend!r} backend; {SUPPORTED}"
        )


def shown_url(url: str) -> str:
    """The URL with its password hidden, fit to print even when it does not parse."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver exceptions into ours at the boundary: none of SQLAlchemy's or the
    driver's classes leaves it, so callers catch only the tree of `workflow.errors`."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise _translated(exc, exc.orig, isinstance(exc, sa.exc.IntegrityError)) from exc
    except sa.exc.TimeoutError as exc:  # every pooled connection busy for too long
        raise StoreUnavailable(f"database unavailable: {_first_line(exc)}") from exc
    except _raw_driver_errors() as exc:  # psycopg's own, from a COPY below SQLAlchemy
        raise _translated(exc, exc, isinstance(exc, _raw_driver_errors(integrity=True))) from exc


def _translated(exc: Exception, orig: BaseException | None, integrity: bool) -> TatulasuError:
    if _refused_by_history(orig):
        return HistoryIsAppendOnly(f"the history is append-only: {_first_line(exc)}")
    if integrity:
        return _integrity(exc, orig)
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) and _is_unreachable(exc):
        return StoreUnavailable(f"database unavailable: {_first_line(exc)}")
    return StoreError(f"database error: {_first_line(exc)}")


def _integrity(exc: Exception, orig: BaseException | None) -> TatulasuError:
    """A unique key another command took first is a conflict; any other broken
    constraint (a foreign key, NOT NULL, CHECK) is the store's refusal of a bad write."""
    if _is_unique_violation(orig):
        return ConcurrentInsert(f"another command wrote the same row first: {_first_line(exc)}")
    return ConstraintViolated(f"the database refused the write: {_first_line(exc)}")


_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def _is_unique_violation(orig: BaseException | None) -> bool:
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL's unique_violation
        return True
    return getattr(orig, "sqlite_errorname", None) in _SQLITE_UNIQUE


def _raw_driver_errors(*, integrity: bool = False) -> tuple[type[Exception], ...]:
    """psycopg's error classes once it is loaded (a PostgreSQL store); else none."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return ()
    return (psycopg.IntegrityError,) if integrity else (psycopg.Error,)


def _refused_by_history(orig: BaseException | None) -> bool:
    """A trigger of migration 0005 said no, or the application's role lacks the right."""
    text = str(orig)
    if "is append-only:" in text:
        return True
    denied = getattr(orig, "sqlstate", None) == "42501"  # insufficient_privilege
    return denied and any(f"table {name}" in text for name in HISTORY_TABLES)


_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "server closed",
    "terminating",
    "timeout expired",
    "failed to resolve host",
    "could not translate host name",
)


def _is_unreachable(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return exc.connection_invalidated or any(word in text for word in _UNREACHABLE)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
