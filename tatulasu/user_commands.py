"""CLI commands for users: `users create | list | token | set-password | deactivate`.

The bearer token (for the API) is printed once, when it is made: only its sha256 is
stored, so a lost token is replaced (`users token`), never recovered. A person signs in
to the pages with a password (`users set-password`), stored as an Argon2id hash.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tatulasu import render
from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, Json, info, opened
from workflow import passwords, users

users_app = typer.Typer(help="Users of the HTTP API, their roles, scopes and bearer tokens.")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _show_token(user_id: str, token: str, json_out: bool) -> None:
    if json_out:
        render.print_json({"id": user_id, "token": token})
        return
    render.console().print(token)
    info(f"bearer token of {user_id!r}: shown once, keep it safe (only its hash is stored)")


@users_app.command("create")
@reports_errors
def create(
    id: Annotated[str, typer.Option("--id", help="Login of the user, e.g. coord-1.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[
        str,
        typer.Option(
            help="bailiff, coordinator, mediator, court, party, chamber, supervisor, admin."
        ),
    ],
    region: Annotated[str | None, typer.Option(help="Region code (scope), e.g. VKO.")] = None,
    centre: Annotated[str | None, typer.Option(help="Centre (scope of a centre's staff).")] = None,
    iin_bin: Annotated[
        str | None, typer.Option("--iin-bin", help="A party's IIN/BIN: he reads cases listing it.")
    ] = None,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option(help="+7XXXXXXXXXX")] = None,
    language: Annotated[str, typer.Option(help="kk, ru or en.")] = "kk",
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Create a user and print his bearer token (once)."""
    user = users.User(
        id=id, name=name, role=role, region=region, centre=centre, email=email,
        phone=phone, language=language, iin_bin=iin_bin,
    )  # fmt: skip
    with opened(database_url) as wired, wired.store.transaction() as conn:
        token = users.create(conn, user, wired.engine.clock.now())
    _show_token(id, token, json_out)


@users_app.command("list")
@reports_errors
def list_(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """The users, by role: scope and whether they are active (never their tokens)."""
    with opened(database_url) as wired, wired.store.reading() as conn:
        found = users.listing(conn, role)
    if json_out:
        render.print_json(found)
        return
    table = Table("id", "name", "role", "region", "centre", "IIN/BIN", "active")
    for u in found:
        table.add_row(
            escape(u.id), escape(u.name), u.role, u.region or "-",
            escape(u.centre or "-"), u.iin_bin or "-", "yes" if u.active else "no",
        )  # fmt: skip
    render.console().print(table)
    if not found:
        render.console().print("no users")


@users_app.command("token")
@reports_errors
def token(
    id: Annotated[str, typer.Argument(metavar="ID")],
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Replace a user's token (the old one stops working) and print the new one."""
    with opened(database_url) as wired, wired.store.transaction() as conn:
        made = users.issue_token(conn, id)
    _show_token(id, made, json_out)


@users_app.command("set-password")
@reports_errors
def set_password(
    id: Annotated[str, typer.Argument(metavar="ID")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set the password a person signs in to the pages with; his sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with opened(database_url) as wired, wired.store.transaction() as conn:
        passwords.set_password(conn, id, password)
    info(f"password of {id!r} set; his sessions on the pages have ended")


@users_app.command("deactivate")
@reports_errors
def deactivate(
    id: Annotated[str, typer.Argument(metavar="ID")],
    database_url: DatabaseUrl = None,
) -> None:
    """Stop a user: his token and page sessions no longer work; his history stays."""
    with opened(database_url) as wired, wired.store.transaction() as conn:
        users.deactivate(conn, id)
    info(f"user {id!r} deactivated")
