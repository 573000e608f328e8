"""The Celery app: a beat schedule that runs the sweep and the dispatcher every few seconds.

Beat also asks for queued import jobs (a bailiff's large file, `workflow.import_jobs`);
a worker runs one to its end, so give workers two processes or more (the default is one
per core), or reminders wait while a file of 200,000 rows is opened.

When TATULASU_HEADS_EXPORT_DIR and _EVERY_MINUTES are set, beat also has the workers
write the chains' signed heads to that directory every N minutes (`tasks.heads_export`).

Celery only carries "run the sweep now" and "run the dispatcher now"; which timers are
due and which messages are pending is read from the database each time. So losing Redis,
a task, a worker or a beat loses nothing, and two beats started by mistake only make the
sweep run more often: the database still fires each timer once.

Tasks ack late and are rejected when their worker dies, so a killed worker's task is
run again by another. Each process builds its own engine on first use (never across a
fork).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from tasks.dispatch import Dispatcher
from tasks.heads_export import HeadsExport, export_signed_heads
from workflow import counters, import_jobs
from workflow.engine import Engine
from workflow.errors import StoreError
from workflow.timers import sweep

log = logging.getLogger(__name__)

SWEEP = "tatulasu.sweep"
DISPATCH = "tatulasu.dispatch"
IMPORTS = "tatulasu.imports"
EXPORT_HEADS = "tatulasu.export_heads"
# A database that is briefly unreachable: retry with backoff (1, 2, 4 … 30 s).
RETRY_ON_STORE_ERRORS: dict[str, Any] = {
    "autoretry_for": (StoreError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 20,
}


@dataclass(frozen=True)
class ClockConfig:
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "tatulasu"
    sweep_interval_seconds: float = 5.0
    batch: int = 200
    # Signed heads written to a directory on a schedule (None: off).
    heads_export: HeadsExport | None = None


class Runtime:
    """What a worker process needs, built lazily after the fork."""

    def __init__(
        self,
        engine_factory: Callable[[], Engine],
        dispatcher_factory: Callable[[Engine], Dispatcher],
    ) -> None:
        self._engine_factory = engine_factory
        self._dispatcher_factory = dispatcher_factory
        self._engine: Engine | None = None
        self._dispatcher: Dispatcher | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            self._dispatcher = self._dispatcher_factory(self.engine)
        return self._dispatcher

    def reset(self) -> None:
        """Forget connections inherited from the parent process."""
        self._engine = None
        self._dispatcher = None


def run_sweep(engine: Engine, batch: int, budget_seconds: float) -> int:
    """Fire due timers in batches until none is due or the time budget is spent.

    First the running totals of `/metrics` take in what changed since the last sweep
    (PostgreSQL; `workflow.counters.fold`), so that a scrape never reads a long backlog.
    """
    if not engine.store.is_sqlite:  # SQLite's triggers add to the totals directly
        with engine.store.transaction() as conn:
            counters.fold(conn)
    fired, deadline = 0, time.monotonic() + budget_seconds
    while True:
        result = sweep(engine, limit=batch)
        fired += result.fired
        if result.fired + result.skipped + len(result.refused) < batch:
            return fired
        if time.monotonic() > deadline:
            return fired


def run_dispatch(dispatcher: Dispatcher, batch: int, budget_seconds: float) -> int:
    """Send due messages in batches until none is due or the time budget is spent."""
    handled, deadline = 0, time.monotonic() + budget_seconds
    while True:
        result = dispatcher.run_once(limit=batch)
        handled += result.handled
        if result.handled + result.lost_lease == 0 or time.monotonic() > deadline:
            return handled


def create_app(config: ClockConfig, runtime: Runtime) -> Celery:
    app = Celery("tatulasu", broker=config.broker_url)
    interval = config.sweep_interval_seconds
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=config.queue,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 300},
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": interval, "options": {"expires": interval * 2}},
            "dispatch": {
                "task": DISPATCH,
                "schedule": interval,
                "options": {"expires": interval * 2},
            },
            "imports": {
                "task": IMPORTS,
                "schedule": interval,
                "options": {"expires": interval * 2},
            },
        },
    )

    # shared=False: the tasks run this app's runtime; an app built later in the same
    # process (a test) must not be handed them as Celery's shared tasks.
    @app.task(name=SWEEP, shared=False, **RETRY_ON_STORE_ERRORS)  # type: ignore[untyped-decorator]
    def sweep_task() -> int:
        fired = run_sweep(runtime.engine, config.batch, budget_seconds=interval)
        if fired:
            dispatch_task.delay()
        return fired

    @app.task(name=DISPATCH, shared=False, **RETRY_ON_STORE_ERRORS)  # type: ignore[untyped-decorator]
    def dispatch_task() -> int:
        return run_dispatch(runtime.dispatcher, config.batch, budget_seconds=interval)

    @app.task(name=IMPORTS, shared=False, **RETRY_ON_STORE_ERRORS)  # type: ignore[untyped-decorator]
    def imports_task() -> int:
        """Run queued import jobs (a long one holds this worker process until it ends)."""
        return import_jobs.run_due(runtime.engine, budget_seconds=interval)

    def _after_fork(**_kwargs: Any) -> None:
        runtime.reset()

    if config.heads_export is not None:
        _schedule_heads_export(app, config.heads_export, runtime)
    worker_process_init.connect(_after_fork, weak=False)
    return app


def _schedule_heads_export(app: Celery, export: HeadsExport, runtime: Runtime) -> None:
    every = export.every_seconds
    app.conf.beat_schedule["export-heads"] = {
        "task": EXPORT_HEADS,
        "schedule": every,
        "options": {"expires": every},
    }

    @app.task(name=EXPORT_HEADS, shared=False, **RETRY_ON_STORE_ERRORS)  # type: ignore[untyped-decorator]
    def export_heads_task() -> str:
        path = export_signed_heads(runtime.engine, export)
        log.info("signed heads written to %s", path)
        return str(path)
