"""`tatulasu serve`: the HTTP API, and the clock in-process when there is no broker.

With `TATULASU_BROKER_URL` unset this one process is the whole system on one machine:
the API plus a thread that fires due timers and sends due notifications. With a broker,
the Celery workers and beat do that, and `serve` only answers HTTP. `--workers N` runs
N HTTP processes under uvicorn's supervisor; the embedded clock, if any, stays in the
supervising process, so there is still exactly one.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tatulasu.exits import reports_errors
from tatulasu.options import DatabaseUrl, info, opened
from tatulasu.wiring import dispatcher_for, heads_export_from


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="HTTP worker processes (each with its own pool); the clock stays in this one.",
        ),
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); run the clock in-process without a broker."""
    import uvicorn

    from tasks.embedded import EmbeddedClock
    from tatulasu.api import create_app

    with opened(database_url) as wired:
        settings = wired.settings
        clock = None
        if settings.broker_url is None:
            heads_export = heads_export_from(settings)
            clock = EmbeddedClock(
                wired.engine,
                dispatcher_for(settings, wired.engine),
                interval=settings.sweep_interval_seconds,
                batch=settings.sweep_batch,
                heads_export=heads_export,
            )
            clock.start()
            info(f"embedded clock: sweeping every {settings.sweep_interval_seconds:g} s")
            if heads_export is not None:
                info(
                    f"signed heads to {heads_export.directory}"
                    f" every {heads_export.every_minutes:g} min"
                )
        # X-Forwarded-Proto/-For only from the proxies named in the settings (uvicorn
        # would otherwise believe any request from 127.0.0.1).
        proxies = settings.forwarded_allow_ips
        try:
            if workers == 1:
                uvicorn.run(
                    create_app(wired), host=host, port=port, log_level=log_level,
                    proxy_headers=proxies is not None, forwarded_allow_ips=proxies,
                )  # fmt: skip
            else:
                # Worker processes build the app from the environment (asgi.py), so the
                # database chosen here travels to them as TATULASU_DATABASE_URL.
                os.environ["TATULASU_DATABASE_URL"] = settings.database_url
                uvicorn.run(
                    "tatulasu.api.asgi:from_environment",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level=log_level,
                    proxy_headers=proxies is not None,
                    forwarded_allow_ips=proxies,
                )
        finally:
            if clock is not None:
                clock.stop()
