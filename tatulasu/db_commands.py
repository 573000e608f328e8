"""`tatulasu db`: the database's roles and rights (PostgreSQL deployments)."""

from __future__ import annotations

from typing import Annotated

import typer

from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, info, opened

db_app = typer.Typer(help="The database's roles and rights (PostgreSQL).")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("grant-app-role")
@reports_errors
def grant_app_role(
    role: Annotated[str, typer.Option(help="The role the application connects as.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the statements, do not run them.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Give the application's role its rights: append to the history, never change it.

    Run as the owner role (the one migrations run as), in the schema of
    TATULASU_DATABASE_URL, after `init` and after every upgrade.
    """
    from workflow.grants import app_role_statements, grant_app_role

    with opened(database_url) as wired, wired.store.transaction() as conn:
        if dry_run:
            for statement in app_role_statements(conn, role):
                typer.echo(statement + ";")
            return
        statements = grant_app_role(conn, role)
    for statement in statements:
        info(statement)
    info(f"granted {role!r} the application's rights ({len(statements)} statements)")
