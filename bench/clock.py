"""The clock: due timers fired end to end by Celery workers, the sweep's cost, the lag.

1. End to end (PostgreSQL, Redis, real `tatulasu worker` and `beat` processes, a local
   SMTP server and SMS gateway): due timers per second from the first timer claimed to
   the last notification delivered, with 1 and 2 workers, against the engine's direct
   persisted event rate (`Engine.fire`, one client) measured in the same run.
2. The sweep's cost (SQLite and PostgreSQL): firing the same due timers with 10,000 and
   with 1,000,000 open timers stored; the due query must use the partial index.
3. Lag (PostgreSQL, 2 workers): from the moment a timer falls due to its notification
   being delivered, p50/p99, against the sweep interval + 2 s.

    python -m bench.clock            # full run (several minutes)
    python -m bench.clock --quick    # a smoke run
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa

from bench.common import Row, consultation, open_cases, parser, print_table, rate, sqlite_store
from bench.postgres import database_url, reachable, recreate_database
from tests.integration.clock.scenario import progress, seed_due_cases
from tests.integration.clock.sinks import sms_gateway, smtp_server
from workflow import timers as sweeping
from workflow.clock import SimulatedClock
from workflow.engine import Engine
from workflow.schema import outbox, timers
from workflow.store import Store

REDIS_URL = "redis://127.0.0.1:6379/14"
INTERVAL = 1.0


@contextmanager
def clock_processes(url: str, workers: int, smtp_port: int, sms_url: str) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env.update(
        TATULASU_DATABASE_URL=url,
        TATULASU_BROKER_URL=REDIS_URL,
        TATULASU_QUEUE=f"tatulasu-bench-{os.getpid()}-{time.monotonic_ns()}",
        TATULASU_SWEEP_INTERVAL_SECONDS=str(INTERVAL),
        TATULASU_SMTP_HOST="127.0.0.1",
        TATULASU_SMTP_PORT=str(smtp_port),
        TATULASU_SMS_GATEWAY_URL=sms_url,
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    logs = Path(tempfile.mkdtemp(prefix="tatulasu-bench-"))
    argv = [
        ["worker", "--concurrency", "1", "--loglevel", "WARNING", "--hostname", f"b{i}@%h"]
        for i in range(workers)
    ] + [["beat", "--loglevel", "WARNING", "--schedule", str(logs / "beat")]]
    procs = []
    for i, args in enumerate(argv):
        with (logs / f"{i}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tatulasu", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        yield
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait(store: Store, timeout: float, term: str | None = None, count: int = 0) -> None:
    """Until every due timer fired and every message settled (and `count` timers of
    `term` fired, for timers that fall due during the run)."""
    deadline = time.monotonic() + timeout
    while not (progress(store).done and _fired(store, term) >= count):
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done in {timeout} s: {progress(store)}")
        time.sleep(0.25)


def _fired(store: Store, term: str | None) -> int:
    if term is None:
        return 0
    query = sa.select(sa.func.count()).where(timers.c.term == term, timers.c.fired_at.is_not(None))
    with store.reading() as conn:
        return int(conn.execute(query).scalar_one())


def direct_rate(store: Store, n_events: int) -> float:
    """The engine's persisted event rate on this store, one client."""
    engine = Engine(store)
    ids = open_cases(engine, 8)
    commands = [consultation(i) for i in ids]
    counter = iter(range(n_events))
    return rate(n_events, lambda: engine.fire(commands[next(counter) % len(commands)]))


def end_to_end(workers: int, n_cases: int, n_direct: int) -> tuple[float, float]:
    """(due timers fired end to end per second, direct persisted events per second)."""
    name = f"tatulasu_bench_clock_{os.getpid()}"
    recreate_database(name)
    store = Store(database_url(name))
    try:
        store.migrate()
        seed_due_cases(store, n_cases)
        direct = direct_rate(store, n_direct)
        with (
            smtp_server() as (port, _mail),
            sms_gateway() as (url, _sms),
            clock_processes(store.url, workers, port, url),
        ):
            _wait(store, timeout=600)
        with store.reading() as conn:
            first = conn.execute(sa.select(sa.func.min(timers.c.fired_at))).scalar_one()
            last = conn.execute(sa.select(sa.func.max(outbox.c.sent_at))).scalar_one()
        fired = progress(store).fired
        return fired / (last - first).total_seconds(), direct
    finally:
        store.dispose()
        recreate_database(name, create=False)


# ---------------------------------------------------------------------------- sweep cost

_FILL = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
        "INSERT INTO timers (case_id, kind, term, event, payload, notify, due_at) "
        "SELECT :case_id, 'reminder', 'parked', 'remind', '{}', '', "
        "datetime('2090-01-01', '+' || i || ' seconds') FROM n"
    ),
    "postgresql": (
        "INSERT INTO timers (case_id, kind, term, event, payload, notify, due_at) "
        "SELECT :case_id, 'reminder', 'parked', 'remind', '{}', '', "
        "timestamptz '2090-01-01' + i * interval '1 second' FROM generate_series(1, :count) i"
    ),
}


def sweep_seconds(store: Store, parked: int, due_cases: int) -> tuple[float, str]:
    """Seconds to fire the due timers of `due_cases` cases with `parked` open timers stored."""
    seed_due_cases(store, due_cases)
    engine = Engine(store, clock=SimulatedClock(datetime.now(UTC)))
    parking = open_cases(engine, 1)[0]
    with store.transaction() as conn:
        conn.execute(sa.text(_FILL[store.dialect]), {"case_id": parking, "count": parked})
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE timers")
    plan = _due_plan(store, engine.clock.now())
    start = time.perf_counter()
    while sweeping.sweep(engine, limit=500).fired:
        pass
    return time.perf_counter() - start, plan


def _due_plan(store: Store, now: datetime) -> str:
    """Whether the sweep's due query uses the partial index on open timers."""
    compiled = sweeping._DUE.compile(store.engine)
    params = compiled.construct_params({"now": now, "limit": 500})
    explain = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
    bound: object = (
        tuple(params[name] for name in compiled.positiontup or ()) if store.is_sqlite else params
    )
    with store.reading() as conn:
        rows = conn.exec_driver_sql(explain + str(compiled), bound).all()  # type: ignore[arg-type]
    text = " ".join(str(r[-1]) for r in rows)
    return "index" if "ix_timers_open_due" in text else f"NO INDEX: {text[:120]}"


def sweep_cost(dialect: str, small: int, large: int, due_cases: int) -> list[Row]:
    results = {}
    for parked in (small, large):
        if dialect == "sqlite":
            path = Path(tempfile.mkdtemp()) / "sweep.db"
            store = sqlite_store(path)
            results[parked] = sweep_seconds(store, parked, due_cases)
            store.dispose()
        else:
            name = f"tatulasu_bench_sweep_{os.getpid()}"
            recreate_database(name)
            store = Store(database_url(name))
            try:
                store.migrate()
                results[parked] = sweep_seconds(store, parked, due_cases)
            finally:
                store.dispose()
                recreate_database(name, create=False)
    (small_s, small_plan), (large_s, large_plan) = results[small], results[large]
    plans = large_plan if small_plan == large_plan else f"{small_plan} / {large_plan}"
    timers_fired = due_cases * 3
    return [
        Row(
            f"{dialect}: sweep {timers_fired} due, {large:,} vs {small:,} open ({plans})",
            large_s,
            small_s,
            "s",
            "ratio >= 0.67 (cost ratio <= 1.5)",
            higher_is_better=False,
        )
    ]


# ---------------------------------------------------------------------------- lag


def lag(n_cases: int, spread_seconds: float) -> tuple[float, float]:
    """(p50, p99) seconds from a timer's due moment to its notification's delivery."""
    name = f"tatulasu_bench_lag_{os.getpid()}"
    recreate_database(name)
    store = Store(database_url(name))
    try:
        store.migrate()
        seed_due_cases(store, 0)  # the officials
        engine = Engine(store)
        ids = open_cases(engine, n_cases)
        start = datetime.now(UTC) + timedelta(seconds=5)
        with store.transaction() as conn:
            conn.execute(
                timers.insert(),
                [
                    {
                        "case_id": case_id,
                        "kind": "reminder",
                        "term": "lag",
                        "event": "remind",
                        "payload": "{}",
                        "notify": "party",
                        "due_at": start + timedelta(seconds=spread_seconds * i / n_cases),
                    }
                    for i, case_id in enumerate(ids)
                ],
            )
        with (
            smtp_server() as (port, _mail),
            sms_gateway() as (url, _sms),
            clock_processes(store.url, 2, port, url),
        ):
            _wait(store, timeout=spread_seconds + 300, term="lag", count=n_cases)
        with store.reading() as conn:
            rows = conn.execute(
                sa.select(timers.c.due_at, sa.func.max(outbox.c.sent_at))
                .join(outbox, outbox.c.case_id == timers.c.case_id)
                .where(timers.c.term == "lag", outbox.c.event == "remind")
                .group_by(timers.c.id, timers.c.due_at)
            ).all()
        lags = sorted((sent - due).total_seconds() for due, sent in rows)
        return statistics.median(lags), lags[int(0.99 * (len(lags) - 1))]
    finally:
        store.dispose()
        recreate_database(name, create=False)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that `finally` stops the workers and drops databases


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parser(__doc__ or "").parse_args()
    if not reachable():
        print("PostgreSQL is unreachable: the clock benchmark needs it")
        raise SystemExit(3)
    n_cases, n_direct = (60, 300) if args.quick else (1000, 3000)
    small, large = (1_000, 20_000) if args.quick else (10_000, 1_000_000)
    rows = []
    for workers in (1, 2):
        e2e, direct = end_to_end(workers, n_cases, n_direct)
        rows.append(
            Row(f"due timers end to end, {workers} worker(s)", e2e, direct, "/s", ">= 0.5x")
        )
    print_table("Clock: timers fired end to end vs direct persisted events", rows, "direct")
    cost = sweep_cost("sqlite", small, large, 100) + sweep_cost("postgresql", small, large, 100)
    print_table("Sweep cost with many open timers (same due work)", cost, "few open")
    p50, p99 = lag(40 if args.quick else 300, 10 if args.quick else 30)
    budget = INTERVAL + 2
    print_table(
        "Lag from due to delivered (2 workers)",
        [
            Row("p50 lag", p50, budget, "s", "", higher_is_better=False),
            Row("p99 lag", p99, budget, "s", f"<= {budget:g} s (interval + 2 s)", False),
        ],
        "budget",
    )


if __name__ == "__main__":
    main()
