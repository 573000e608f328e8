"""Options and helpers shared by the CLI's command modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pydantic
import typer
from rich.console import Console

from tatulasu.settings import Settings
from tatulasu.wiring import App, build
from workflow.errors import InvalidField

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="TATULASU_DATABASE_URL",
        help="SQLAlchemy URL (default sqlite:///tatulasu.db).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Unmasked = Annotated[
    bool, typer.Option("--unmasked", help="Show names, IINs and contacts in full.")
]


def info(message: str) -> None:
    Console(stderr=True, highlight=False).print(message)


def settings_from(database_url: str | None) -> Settings:
    try:
        return Settings(database_url=database_url) if database_url else Settings()
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        name = "TATULASU_" + "_".join(str(p) for p in first["loc"]).upper()
        raise InvalidField(name, first["msg"]) from None


@contextmanager
def opened(database_url: str | None, *, must_exist: bool = True) -> Iterator[App]:
    """The wired application; refuses a database that `init` has not prepared."""
    settings = settings_from(database_url)
    if must_exist:
        require_initialised(settings.database_url)
    wired = build(settings)
    try:
        if must_exist and not wired.store.has_table("cases"):
            raise InvalidField("--database-url", "has no tatulasu tables: run `tatulasu init`")
        yield wired
    finally:
        wired.close()


def require_initialised(url: str) -> None:
    """Do not let a read create an empty SQLite file as a side effect."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:":
        path = Path(url.removeprefix(prefix))
        if not path.exists():
            raise InvalidField(
                "--database-url", f"{path} does not exist: run `tatulasu init` first"
            )
