"""Unmasked reads in the CLI: `show/history --unmasked --reason`, and `audit access-log`.

The CLI has no users: whoever runs it holds the database. An unmasked read still says
why (`--reason`) and who (`--actor`, by default the login name), and is appended to the
same access log as the API's and the pages' (channel `cli`, role `operator`).
"""

from __future__ import annotations

import getpass
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, info, opened
from tatulasu.wiring import App
from workflow import access_log
from workflow.errors import InvalidField
from workflow.schema import cases

CLI_ROLE = "operator"
Reason = Annotated[
    str | None,
    typer.Option("--reason", help="Why you need personal data in full (required with --unmasked)."),
]
Reader = Annotated[
    str | None,
    typer.Option("--actor", help="Who reads, for the access log (default: your login name)."),
]


def reason_for(unmasked: bool, reason: str | None) -> str | None:
    """The reason of an unmasked read (refused without one), or None for a masked read."""
    if not unmasked:
        return None
    return access_log.require_reason(reason, "--reason")


def record(wired: App, reason: str, actor: str | None, action: str, case_id: int) -> None:
    """Append the CLI's unmasked read of a case (and the case's region) to the access log."""
    who = (actor or "").strip() or login_name()
    if len(who) > 80:
        raise InvalidField("--actor", "is longer than 80 characters")
    entry = access_log.Access(
        actor=who, role=CLI_ROLE, channel="cli", action=action, scope=f"case {case_id}",
        reason=reason, case_id=case_id,
    )  # fmt: skip
    with wired.store.transaction() as conn:
        region = conn.execute(sa.select(cases.c.region).where(cases.c.id == case_id)).scalar()
        access_log.record(conn, replace(entry, region=region), wired.engine.clock.now())


def login_name() -> str:
    """Who runs the command: his login name, or "unknown"."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the passwd file
        return "unknown"


def register(audit_app: typer.Typer) -> None:
    audit_app.command("access-log")(export)


@reports_errors
def export(
    region: Annotated[
        str | None, typer.Option(help="Only the reads of this region's cases and exports.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here (default: stdout).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Who saw personal data in full, when, which case or export, and why."""
    if format not in ("jsonl", "csv"):
        raise InvalidField("--format", f"{format!r} is not one of jsonl, csv")
    with opened(database_url) as wired, wired.store.reading() as conn:
        entries = list(access_log.entries(conn, region))
    writer = access_log.csv_lines if format == "csv" else access_log.jsonl
    text = "".join(writer(iter(entries)))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidField("--output", f"cannot write {output}: {exc.strerror}") from None
    info(f"wrote {len(entries)} access-log entries to {output}")
