"""The application's database role on PostgreSQL: it may append to the history, never change it.

Two roles: the owner role runs the migrations and owns the tables (and so could drop the
history's triggers); the application's role — the one in the API's, workers' and CLI's
`TATULASU_DATABASE_URL` — gets SELECT and INSERT on the history tables and SELECT,
INSERT, UPDATE, DELETE on the others, and no UPDATE, DELETE or TRUNCATE on the history.
`app_role_statements` spells the GRANT/REVOKE statements for the current schema; run
them again after every migration that adds a table.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.errors import InvalidField
from workflow.schema import HISTORY_TABLES

MIGRATIONS_TABLE = "alembic_version"


def app_role_statements(conn: Connection, role: str) -> list[str]:
    """GRANT/REVOKE statements giving `role` the application's rights in the current schema."""
    if conn.dialect.name != "postgresql":
        raise InvalidField(
            "--database-url",
            "database roles are a PostgreSQL feature (on SQLite the triggers alone refuse"
            " UPDATE and DELETE of the history)",
        )
    found = conn.execute(
        sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise InvalidField("--role", f"there is no role {role!r}: create it first (CREATE ROLE)")
    if found.rolsuper:
        raise InvalidField("--role", f"{role!r} is a superuser: no GRANT can restrict it")
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    tables = conn.execute(
        sa.text(
            "SELECT tablename, tableowner, pg_has_role(:role, tableowner, 'MEMBER') AS owns"
            " FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"
        ),
        {"role": role, "schema": schema},
    ).all()
    if not tables:
        raise InvalidField("--database-url", f"schema {schema!r} has no tables: run `init` first")
    for table in tables:
        if table.owns:
            raise InvalidField(
                "--role",
                f"{role!r} is (or is a member of) {table.tableowner!r}, the owner of table"
                f" {table.tablename!r}: the application's role must not own the tables",
            )
    quote = conn.dialect.identifier_preparer.quote
    who, where = quote(role), quote(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
    ]
    for table in tables:
        name = f"{where}.{quote(table.tablename)}"
        if table.tablename in HISTORY_TABLES:
            rights = "SELECT, INSERT"
        elif table.tablename == MIGRATIONS_TABLE:
            rights = "SELECT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {rights} ON {name} TO {who}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    return statements


def grant_app_role(conn: Connection, role: str) -> list[str]:
    """Issue the statements of `app_role_statements`; returns them."""
    statements = app_role_statements(conn, role)
    for statement in statements:
        conn.exec_driver_sql(statement)
    return statements
