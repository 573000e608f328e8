"""The clock without a broker: the same sweep and dispatcher on a thread in-process.

With no broker configured, `tatulasu serve` is still a complete single-machine system:
this thread fires due timers and sends due messages every `interval` seconds, with the
same code the Celery tasks run, and writes signed heads every N minutes when a heads
export is configured (the first one when it starts). A second thread runs queued import
jobs (`workflow.import_jobs`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from tasks.app import run_dispatch, run_sweep
from tasks.dispatch import Dispatcher
from tasks.heads_export import HeadsExport, export_signed_heads
from workflow import import_jobs
from workflow.engine import Engine
from workflow.errors import TatulasuError

log = logging.getLogger(__name__)


class EmbeddedClock:
    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        interval: float,
        batch: int = 200,
        heads_export: HeadsExport | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.interval = interval
        self.batch = batch
        self.heads_export = heads_export
        self._next_export = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tatulasu-clock", daemon=True)
        # Import jobs on a lane of their own: a file of 200,000 rows does not hold up
        # the reminders.
        self._imports = threading.Thread(
            target=self._run_imports, name="tatulasu-imports", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        self._imports.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._imports.join(timeout)

    def _run_imports(self) -> None:
        while not self._stop.is_set():
            try:
                import_jobs.run_due(self.engine)
            except TatulasuError:
                log.exception("import job failed; trying again in %s s", self.interval)
            self._stop.wait(self.interval)

    def tick(self) -> tuple[int, int]:
        """One round: (timers fired, messages handled)."""
        fired = run_sweep(self.engine, self.batch, budget_seconds=self.interval)
        handled = run_dispatch(self.dispatcher, self.batch, budget_seconds=self.interval)
        return fired, handled

    def export_heads_if_due(self) -> Path | None:
        """Write signed heads when the export is configured and its time has come."""
        if self.heads_export is None or time.monotonic() < self._next_export:
            return None
        self._next_export = time.monotonic() + self.heads_export.every_seconds
        return export_signed_heads(self.engine, self.heads_export)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except TatulasuError:
                log.exception("clock tick failed; trying again in %s s", self.interval)
            try:
                written = self.export_heads_if_due()
            except (TatulasuError, OSError, ValueError):
                log.exception("writing the signed heads failed; trying again next time")
            else:
                if written is not None:
                    log.info("signed heads written to %s", written)
            self._stop.wait(self.interval)
