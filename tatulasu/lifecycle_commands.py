"""`tatulasu lifecycle …`: the lifecycle for the people who answer for it.

`describe` writes the lifecycle in words (`tatulasu.lifecycle_text`): the text a lawyer
or a supervisor reads to check the engine against the law. Needs no database. The words
come from the pages' catalogues, imported when the command runs (the pages' package
brings the web server's libraries, which `--help` must not load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import states
from tatulasu.exits import reports_errors
from workflow.errors import InvalidField

LANGUAGES = ("kk", "ru", "en")  # tatulasu.web.i18n.LANGUAGES

lifecycle_app = typer.Typer(help="The lifecycle for lawyers and supervisors: in words.")


def register(app: typer.Typer) -> None:
    app.add_typer(lifecycle_app, name="lifecycle")


@lifecycle_app.command("describe")
@reports_errors
def describe(
    language: Annotated[str, typer.Option(help="kk, ru or en.")] = "ru",
    version: Annotated[
        int | None, typer.Option("--lifecycle-version", help="Default: the newest.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """The lifecycle in words: per stage who may do what, its term and its law, and what
    happens when the term runs out (Markdown)."""
    if language not in LANGUAGES:
        raise InvalidField("--language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    if version is not None and version not in states.versions():
        raise InvalidField("--lifecycle-version", f"there is no lifecycle version {version}")
    from tatulasu.lifecycle_text import describe as in_words

    lc = states.get(version) if version is not None else states.current()
    text = in_words(lc, language)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
