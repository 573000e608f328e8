"""CLI commands of the clock: `worker`, `beat`, `dispatch`, `outbox`.

`worker` and `beat` start Celery on the broker (`TATULASU_BROKER_URL`, default Redis on
127.0.0.1); `dispatch --once` and `sweep --once` do one round in this process, which is
what the embedded mode does on a timer.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from tatulasu import render
from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, Json, info, opened
from tatulasu.settings import Settings
from tatulasu.wiring import celery_app, dispatcher_for, sink_channels
from workflow import failed_notices
from workflow.audit import format_instant
from workflow.errors import InvalidField
from workflow.privacy import mask_contact
from workflow.schema import outbox

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "void")

outbox_app = typer.Typer(help="See and retry the notifications waiting, sent or failed.")


def register(app: typer.Typer) -> None:
    from tatulasu.serve_command import serve

    app.command()(serve)
    app.command()(worker)
    app.command()(beat)
    app.command()(dispatch)
    app.add_typer(outbox_app, name="outbox")


@reports_errors
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Celery node name.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Run a Celery worker: it fires due timers and sends notifications."""
    settings = checked_settings(database_url)
    app = celery_app(settings)
    node = hostname or f"tatulasu-{os.getpid()}@%h"
    app.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", f"--hostname={node}"]
    )


@reports_errors
def beat(
    schedule: Annotated[str, typer.Option(help="Beat's schedule state file.")] = (
        "celerybeat-schedule"
    ),
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    database_url: DatabaseUrl = None,
) -> None:
    """Run the one beat: it asks the workers to sweep and dispatch every few seconds."""
    settings = checked_settings(database_url)
    celery_app(settings).start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


@reports_errors
def dispatch(
    once: Annotated[bool, typer.Option("--once", help="One round and stop.")] = True,
    limit: Annotated[int, typer.Option(min=1, help="Messages per round.")] = 200,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Send the notifications that are due, in this process."""
    with opened(database_url) as wired:
        result = dispatcher_for(wired.settings, wired.engine).run_once(limit=limit)
    if json_out:
        render.print_json(result)
        return
    render.console().print(
        f"sent {result.sent}, retrying {result.retried}, failed {result.failed}, "
        f"waiting for a sink {result.waiting}, void {result.voided}"
    )
    for line in result.errors:
        info(f"failed: {line}")


@outbox_app.command("list")
@reports_errors
def outbox_list(
    status: Annotated[
        str | None, typer.Option(help="pending, sending, sent, failed or void.")
    ] = None,
    case: Annotated[int | None, typer.Option(help="Only this case's messages.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """The newest notifications with their attempts, errors and receipts.

    A pending message whose channel has no sink configured here is shown as waiting for
    a sink, and counted by channel.
    """
    from tasks.reach import waiting_counts, waiting_rows

    if status is not None and status not in OUTBOX_STATUSES:
        raise InvalidField("--status", f"{status!r} is not one of {', '.join(OUTBOX_STATUSES)}")
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(outbox.c.status == status)
    if case is not None:
        query = query.where(outbox.c.case_id == case)
    with opened(database_url) as wired, wired.store.reading() as conn:
        channels = sink_channels(wired.settings)
        found = conn.execute(query).all()
        waits = waiting_rows(conn, found, channels)
        rows = [_message(r, r.id in waits) for r in found]
        by_status = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
        counts: dict[str, int] = {status: n for status, n in conn.execute(by_status)}
        waiting = dict(sorted(waiting_counts(conn, channels).items()))
    if json_out:
        render.print_json({"counts": counts, "waiting_for_sink": waiting, "messages": rows})
        return
    render.outbox_table(rows, counts, waiting)


@outbox_app.command("retry")
@reports_errors
def outbox_retry(
    message_id: Annotated[int, typer.Argument(help="The failed message's id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Send a failed message again, with a fresh round of attempts (as an admin's retry)."""
    from tatulasu.access_commands import login_name

    with opened(database_url) as wired, wired.store.transaction() as conn:
        now = wired.engine.clock.now()
        failed_notices.retry(conn, [message_id], f"cli:{login_name()}", now)
    info(f"message {message_id} will be sent again")


def checked_settings(database_url: str | None) -> Settings:
    """The settings, once the database answers with tatulasu's tables.

    A worker builds its engine only when a task arrives, and beat never does: without
    this check a wrong URL would start them anyway and fail in every task, in the log.
    """
    with opened(database_url) as wired:
        return wired.settings


def _message(row: Any, waiting: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "seq": row.seq,
        "event": row.event,
        "recipient": row.recipient,
        "channel": row.channel,
        "address": mask_contact(row.address),
        "language": row.language,
        "status": row.status,
        "waiting_for_sink": waiting,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "sent_at": _iso(row.sent_at),
        "receipt": row.receipt,
        "last_error": row.last_error,
    }


def _iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None
