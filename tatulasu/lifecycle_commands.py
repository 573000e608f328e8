"""`tatulasu lifecycle …`: the lifecycle for the people who answer for it.

`describe` writes the lifecycle in words (`tatulasu.lifecycle_text`): the text a lawyer
or a supervisor reads to check the engine against the law. Needs no database. The words
come from the pages' catalogues, imported when the command runs (the pages' package
brings the web server's libraries, which `--help` must not load).

`migrate` moves open cases to a newer version by the rules its file declares
(`workflow/moves.py`), each case on the record; `--dry-run` says what would change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import states
from tatulasu.access_commands import Reader, login_name
from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, Json, opened
from workflow import moves
from workflow.errors import InvalidField

LANGUAGES = ("kk", "ru", "en")  # tatulasu.web.i18n.LANGUAGES

lifecycle_app = typer.Typer(
    help="The lifecycle for lawyers and supervisors: in words; open cases moved to a new version."
)
CASES_SHOWN = 50  # a run over more cases prints its rules, not every case


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


@lifecycle_app.command("migrate")
@reports_errors
def migrate(
    from_version: Annotated[int, typer.Option("--from", help="The version cases are on.")],
    to_version: Annotated[int, typer.Option("--to", help="The version to move them to.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; write nothing.")
    ] = False,
    case: Annotated[
        list[int] | None, typer.Option("--case", help="Only this case (may be repeated).")
    ] = None,
    actor: Reader = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Move open cases to a newer lifecycle version, by the rules its file declares.

    One transaction per case, recorded in the case's history (who, when, from, to, the
    rule); closed cases stay on their version; a case no rule places is listed and left
    as it is (exit code 1 then).
    """
    moves.check_versions(from_version, to_version)
    who = (actor or "").strip() or login_name()
    with opened(database_url) as wired:
        report = moves.move_cases(
            wired.engine, from_version, to_version, who, case_ids=case, dry_run=dry_run
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    if report.unplaced:
        raise typer.Exit(1)


def _print_report(report: moves.MoveReport) -> None:
    console = Console(highlight=False)
    verb = "would move" if report.dry_run else "moved"
    console.print(
        f"Version {report.from_version} -> {report.to_version}: {verb} {len(report.moved)}"
        f" open case(s); {len(report.unplaced)} not placed"
        + (f"; {report.closed} closed, left as they are" if report.closed else "")
    )
    if report.moved:
        table = Table("rule", "from", "to", "terms", "cases")
        for rule, source, target, terms, n in report.by_rule():
            table.add_row(rule, source, target, terms or "none", str(n))
        console.print(table)
    if len(report.moved) <= CASES_SHOWN:
        for m in report.moved:
            console.print(
                f"case {m.case_id}: {m.from_state} -> {m.to_state} (rule {m.rule},"
                f" terms {m.terms or 'none'})"
            )
    for refused in report.unplaced:
        console.print(f"not placed: {refused}")
