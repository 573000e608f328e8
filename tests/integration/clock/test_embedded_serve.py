"""`tatulasu serve` without a broker is a whole system: it reminds and escalates by itself.

With `--workers 2` the HTTP work is shared by two processes, and the clock still runs
once: every timer fires once and every notice is sent once.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.clock.conftest import Processes, clock_env, wait_until
from tests.integration.clock.scenario import progress, seed_due_cases
from tests.integration.clock.sinks import Deliveries, free_port
from workflow import audit
from workflow.store import Store


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_no_broker_fires_due_terms_and_sends_the_notices(
    workers: int,
    tmp_path: Path,
    smtp: tuple[int, Deliveries],
    sms: tuple[str, Deliveries],
    processes: Callable[[dict[str, str]], Processes],
) -> None:
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    store = Store(url)
    store.migrate()
    seed_due_cases(store, 20)
    env = clock_env(url, smtp[0], sms[0])  # no broker: serve runs the clock itself
    port = free_port()
    procs = processes(env)
    server = procs.start(
        "serve", "--port", str(port), "--log-level", "warning", "--workers", str(workers)
    )

    wait_until(lambda: progress(store).done, 120, procs, "the embedded clock")
    state = progress(store)
    assert state.timers == 60 and state.fired_events == 60
    assert smtp[1].count() + sms[1].count() == state.messages
    wait_until(lambda: healthy(port), 60, procs, "the HTTP workers")
    for _ in range(2 * workers):
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200, health.text
    with store.reading() as conn:
        assert audit.verify(conn).ok
    store.dispose()

    os.killpg(server.pid, signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.wait(30) in (0, -signal.SIGTERM)
    assert "Traceback" not in procs.tail()


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False
