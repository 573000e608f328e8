"""`tatulasu import FILE`: a bailiff's CSV file of referrals, with a progress bar.

The same import as `POST /referrals/import`: every row is checked first; by default a
file with a bad row imports nothing, with `--partial` the good rows are imported. The
bad rows are listed with their line numbers either way, and the exit code says whether
everything was imported (0) or rows were refused (2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tatulasu import render
from tatulasu.exits import BAD_INPUT, fail, reports_errors
from tatulasu.options import DatabaseUrl, Json, info, opened
from workflow import users
from workflow.engine import Engine
from workflow.errors import InvalidField
from workflow.referral_import import ImportReport, import_referrals
from workflow.referral_rows import Referrer
from workflow.users import User


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)


@reports_errors
def import_file(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV file (columns: README).")],
    actor: Annotated[
        str, typer.Option(help="The registered bailiff who refers the disputes (his id).")
    ],
    region: Annotated[
        str | None, typer.Option(help="Region of rows without one (and the only one allowed).")
    ] = None,
    centre: Annotated[str | None, typer.Option(help="Centre of rows without one.")] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Import the good rows even if some are bad.")
    ] = False,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Refer enforcement disputes from a bailiff's CSV file."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"FILE: cannot read {file}: {exc.strerror}", BAD_INPUT) from None
    with opened(database_url) as wired:
        with wired.store.reading() as conn:
            bailiff = users.by_id(conn, actor)
        referrer = referrer_for(bailiff, actor, region, centre)
        if json_out:
            report = import_referrals(wired.engine, data, referrer, partial=partial)
        else:
            report = _with_progress(wired.engine, data, referrer, partial)
    if json_out:
        render.print_json(report.to_dict())
    else:
        _show(report)
    if report.rejected:
        raise typer.Exit(BAD_INPUT)


def referrer_for(
    bailiff: User | None, actor: str, region: str | None, centre: str | None
) -> Referrer:
    """The import runs as a registered, active bailiff, within his region and centre.

    The same rule as `POST /referrals/import`, where the bailiff is the token's user:
    rows default to his region (and centre, if he has one, else `--centre`); every row is
    checked by `workflow.scopes.may_open`, as `POST /cases` checks a referral.
    """
    if bailiff is None or not bailiff.active or bailiff.role != "bailiff":
        raise InvalidField(
            "--actor",
            f"{actor!r} is not an active bailiff: register him with "
            "`tatulasu users create --role bailiff --region …`",
        )
    for option, given, his in (("--region", region, bailiff.region),
                               ("--centre", centre, bailiff.centre)):  # fmt: skip
        if given is not None and his is not None and given != his:
            raise InvalidField(option, f"{given!r} is not bailiff {actor!r}'s ({his})")
    return Referrer(bailiff, region=bailiff.region or region, centre=bailiff.centre or centre)


def _with_progress(engine: Engine, data: bytes, referrer: Referrer, partial: bool) -> ImportReport:
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=render.console(), transient=False) as bar:
        task = bar.add_task("checking", total=None)

        def advance(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        return import_referrals(engine, data, referrer, partial=partial, progress=advance)


def _show(report: ImportReport) -> None:
    for error in report.errors:
        info(f"[bold red]line {error.line}:[/] {escape(error.field)}: {escape(error.reason)}")
    if report.ignored_columns:
        info(f"ignored columns: {escape(', '.join(report.ignored_columns))}")
    if report.rejected and not report.partial:
        info(f"{report.rejected} of {report.rows} rows are bad: nothing imported (see --partial)")
        return
    render.console().print(
        f"imported {report.imported} of {report.rows} rows; {report.rejected} refused"
    )
