"""The clock with real parts: Celery workers and beat on Redis, PostgreSQL, SMTP, SMS.

Every scenario ends with the same proof: each timer fired exactly once (one history
event per timer), every notification reached its sink exactly once by key, and the
history verifies. The sinks also count the attempts a relay that does not de-duplicate
by key would deliver twice: none, but for at most one group of results per worker
killed (`Policy.settle_every`).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable

import pytest
import redis

from tasks.dispatch import Policy
from tests.integration.clock.conftest import Processes, clock_env, wait_until
from tests.integration.clock.pgproxy import PgProxy
from tests.integration.clock.scenario import progress, seed_due_cases
from tests.integration.clock.sinks import Deliveries
from workflow import audit
from workflow.store import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

Smtp = tuple[int, Deliveries]
Sms = tuple[str, Deliveries]
MakeProcesses = Callable[[dict[str, str]], Processes]


def _assert_exactly_once(store: Store, smtp: Smtp, sms: Sms) -> None:
    state = progress(store)
    assert state.fired == state.timers == state.fired_events
    assert smtp[1].count() + sms[1].count() == state.messages
    assert smtp[1].refused == sms[1].refused == 0
    with store.reading() as conn:
        report = audit.verify(conn)
    assert report.ok, report.breaks[:3]


def test_a_thousand_cases_get_every_reminder_and_escalation_exactly_once_with_two_workers(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    seed_due_cases(pg_store, 1000)
    procs = processes(clock_env(pg_store.url, smtp[0], sms[0], broker)).start_clock(workers=2)
    wait_until(lambda: progress(pg_store).done, 300, procs, "every timer and message")
    state = progress(pg_store)
    assert state.timers == 3000
    _assert_exactly_once(pg_store, smtp, sms)
    assert smtp[1].duplicates == sms[1].duplicates == 0


def test_a_worker_killed_mid_batch_loses_nothing_and_delivers_nothing_twice(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    seed_due_cases(pg_store, 300)
    procs = processes(clock_env(pg_store.url, smtp[0], sms[0], broker))
    doomed = procs.worker()
    procs.start_clock(workers=1)
    wait_until(lambda: smtp[1].count() > 100, 120, procs, "the batch to be under way")
    procs.kill(doomed)
    procs.worker()  # a replacement
    wait_until(lambda: progress(pg_store).done, 300, procs, "every timer and message")
    _assert_exactly_once(pg_store, smtp, sms)
    assert smtp[1].duplicates + sms[1].duplicates <= Policy().settle_every


def test_redis_flushed_mid_batch_loses_nothing_the_database_is_the_truth(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    seed_due_cases(pg_store, 300)
    procs = processes(clock_env(pg_store.url, smtp[0], sms[0], broker)).start_clock(workers=2)
    wait_until(lambda: smtp[1].count() > 100, 120, procs, "the batch to be under way")
    broker.flushall()  # every queued task and every beat message gone (the test's own Redis)
    wait_until(lambda: progress(pg_store).done, 300, procs, "every timer and message")
    _assert_exactly_once(pg_store, smtp, sms)


def test_postgresql_unreachable_for_a_few_seconds_tasks_retry_and_finish(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    seed_due_cases(pg_store, 300)
    with PgProxy() as proxy:
        url = pg_store.url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        # A lease longer than the outage: the results kept meanwhile are not sent again.
        env = clock_env(url, smtp[0], sms[0], broker, TATULASU_DISPATCH_LEASE_SECONDS="10")
        procs = processes(env).start_clock(workers=2)
        wait_until(lambda: smtp[1].count() > 100, 120, procs, "the batch to be under way")
        proxy.outage(seconds=4)
        wait_until(lambda: progress(pg_store).done, 300, procs, "every timer and message")
    _assert_exactly_once(pg_store, smtp, sms)
    assert smtp[1].duplicates == sms[1].duplicates == 0


def test_two_beats_started_by_mistake_fire_no_timer_twice(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    seed_due_cases(pg_store, 300)
    procs = processes(clock_env(pg_store.url, smtp[0], sms[0], broker)).start_clock(workers=2)
    procs.beat()
    wait_until(lambda: progress(pg_store).done, 300, procs, "every timer and message")
    _assert_exactly_once(pg_store, smtp, sms)
    assert smtp[1].duplicates == sms[1].duplicates == 0


def test_a_worker_stops_cleanly_on_sigterm(
    pg_store: Store, broker: redis.Redis, smtp: Smtp, sms: Sms, processes: MakeProcesses
) -> None:
    procs = processes(clock_env(pg_store.url, smtp[0], sms[0], broker))
    proc = procs.worker()
    wait_until(lambda: "ready" in procs.tail(), 60, procs, "the worker to be ready")
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        assert proc.wait(30) == 0
    except subprocess.TimeoutExpired:
        pytest.fail(f"worker did not stop on SIGTERM\n{procs.tail()}")
