"""For tests that tamper with the history on purpose, to prove `audit verify` catches it.

The history's triggers (migration 0005) refuse UPDATE and DELETE, so such a test first
does what an attacker with DDL rights on the database would: it removes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import HISTORY_TABLES


def drop_append_only_guard(conn: Connection) -> None:
    """Disable (PostgreSQL) or drop (SQLite) the triggers that keep the history append-only."""
    for table in HISTORY_TABLES:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for action in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def tamper(url: str, *statements: str) -> None:
    """Run raw SQL on the database at `url` after removing the guard."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            drop_append_only_guard(conn)
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
