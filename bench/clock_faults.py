"""Copies sent twice after a fault: a worker killed mid-batch, the database cut for 5 s.

PostgreSQL, a Redis server of its own (`redis-server` on a free port), real `tatulasu
worker` and `tatulasu beat` processes, a local SMTP server and SMS gateway that count
every attempt by message key. Referrals opened three weeks in the past give every case a
reminder and two escalations due at once, so the workers have full batches to send.

1. kill -9: one worker sends alone; when 100 messages have reached the sinks it is
   killed with everything it forked, and a fresh worker takes over.
2. database cut: two workers reach PostgreSQL through a TCP proxy; when 100 messages
   have reached the sinks the proxy drops every connection and refuses new ones for 5 s.

"Duplicates" are attempts beyond the first of a key the sinks delivered: what an SMTP
relay that does not de-duplicate by Message-ID would hand people twice. The reference is
the messages the sinks had received when the fault struck. The lease is 10 s (longer
than the cut, as a deployment's 60 s is).

    python -m bench.clock_faults            # 300 cases (1,800 messages) per scenario
    python -m bench.clock_faults --quick    # 100 cases, a smoke run
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from bench.common import Row, parser, print_table
from bench.postgres import database_url, reachable, recreate_database
from tests.integration.clock.pgproxy import PgProxy
from tests.integration.clock.scenario import progress, seed_due_cases
from tests.integration.clock.sinks import Deliveries, free_port, sms_gateway, smtp_server
from workflow.store import Store

LEASE_SECONDS = 10
CUT_SECONDS = 5.0
STRIKE_AT = 100


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis on a free port (never the shared one): its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


class Clock:
    """Workers and a beat, each in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.logs = Path(tempfile.mkdtemp(prefix="tatulasu-faults-"))
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{len(self.procs)}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tatulasu", *args, "--loglevel", "WARNING"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def worker(self) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        return self.start("worker", "--concurrency", "1", "--hostname", f"f{n}@%h")

    def beat(self) -> None:
        self.start("beat", "--schedule", str(self.logs / "beat"))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _env(url: str, broker: str, smtp_port: int, sms_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env.update(
        TATULASU_DATABASE_URL=url,
        TATULASU_BROKER_URL=broker,
        TATULASU_QUEUE=f"tatulasu-faults-{os.getpid()}",
        TATULASU_SWEEP_INTERVAL_SECONDS="1",
        TATULASU_SMTP_HOST="127.0.0.1",
        TATULASU_SMTP_PORT=str(smtp_port),
        TATULASU_SMS_GATEWAY_URL=sms_url,
        TATULASU_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
        TATULASU_DISPATCH_BACKOFF_SECONDS="1",
    )
    return env


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done in {timeout} s: {what}")
        time.sleep(0.05)


def scenario(n_cases: int, fault: str) -> tuple[int, int, int]:
    """(duplicates at the sinks, messages received when the fault struck, messages)."""
    name = f"tatulasu_bench_faults_{os.getpid()}"
    recreate_database(name)
    store = Store(database_url(name))
    try:
        store.migrate()
        seed_due_cases(store, n_cases)
        with (
            smtp_server() as (port, mail),
            sms_gateway() as (sms_url, sms),
            redis_server() as broker,
            PgProxy() as proxy,
        ):
            url = store.url
            if fault == "cut":
                url = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
            clock = Clock(_env(url, broker, port, sms_url))
            try:
                received = _run(clock, store, proxy, fault, (mail, sms))
            finally:
                clock.stop()
        state = progress(store)
        return mail.duplicates + sms.duplicates, received, state.messages
    finally:
        store.dispose()
        recreate_database(name, create=False)


def _run(
    clock: Clock, store: Store, proxy: PgProxy, fault: str, sinks: tuple[Deliveries, ...]
) -> int:
    def received() -> int:
        return sum(sum(s.attempts.values()) for s in sinks)

    if fault == "kill":
        doomed = clock.worker()
        clock.beat()
        _until(lambda: received() >= STRIKE_AT, 300, "the first messages")
        clock.kill(doomed)
        struck = received()
        clock.worker()
    else:
        clock.worker()
        clock.worker()
        clock.beat()
        _until(lambda: received() >= STRIKE_AT, 300, "the first messages")
        cut = threading.Thread(target=proxy.outage, args=(CUT_SECONDS,))
        cut.start()
        struck = received()
        cut.join()
    _until(lambda: progress(store).done, 600, "every timer and message")
    return struck


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parser(__doc__ or "").parse_args()
    if not reachable():
        print("PostgreSQL is unreachable: the fault benchmark needs it")
        raise SystemExit(3)
    n_cases = 100 if args.quick else 300
    rows = []
    for fault, title in (("kill", "kill -9 mid-batch"), ("cut", f"database cut {CUT_SECONDS:g} s")):
        duplicates, struck, messages = scenario(n_cases, fault)
        rows.append(
            Row(
                f"{title}: duplicates of {messages:,} messages",
                duplicates,
                struck,
                "messages",
                "<= one group (8) per killed worker" if fault == "kill" else "0",
                higher_is_better=False,
            )
        )
    print_table("Clock under faults: copies sent twice", rows, "received")


if __name__ == "__main__":
    main()
