"""Real processes for the clock: Celery workers and beats on Redis, over PostgreSQL.

Each test that needs a broker gets a `redis-server` of its own on a free port, so a test
may flush it (or kill it) without touching the shared server on 6379.

The workers and beats are `python -m tatulasu worker|beat` subprocesses, each in its own
process group so a test can kill one with everything it forked (`kill -9`). Terms are
made to fall due by opening the cases with a simulated clock set weeks in the past: the
workers then run on the real clock and find every timer due.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.conftest import unavailable
from tests.integration.clock.sinks import Deliveries, free_port, sms_gateway, smtp_server


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    """A Redis server of the test's own: flushing it touches nobody else's data."""
    if shutil.which("redis-server") is None:
        unavailable("Redis", "`redis-server` is not installed (apt-get install redis-server)")
    return subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def broker_url(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """A fresh `redis-server` on a free port, stopped after the test (never the shared
    127.0.0.1:6379, which other tests and people use)."""
    port = free_port()
    server = _start_redis(port)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError as exc:
                if server.poll() is not None or time.monotonic() > deadline:
                    unavailable("Redis", f"redis-server on port {port} did not start ({exc})")
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(10)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Deliveries]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def sms() -> Iterator[tuple[str, Deliveries]]:
    with sms_gateway() as gateway:
        yield gateway


@dataclass
class Processes:
    """Workers and beats started by a test; all stopped when it ends."""

    env: dict[str, str]
    logs: Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        name = f"{args[0]}-{len(self.running)}"
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tatulasu", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.running.append(proc)
        return proc

    def worker(self) -> subprocess.Popen[bytes]:
        n = len(self.running)
        return self.start("worker", "--concurrency", "1", "--hostname", f"w{n}@%h")

    def beat(self) -> subprocess.Popen[bytes]:
        return self.start("beat", "--schedule", str(self.logs / f"beat-{len(self.running)}"))

    def start_clock(self, workers: int, beats: int = 1) -> Processes:
        for _ in range(workers):
            self.worker()
        for _ in range(beats):
            self.beat()
        return self

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """kill -9 the process and everything it forked."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def tail(self) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


def clock_env(
    database_url: str, smtp_port: int, sms_url: str, broker: redis.Redis | None = None, **extra: str
) -> dict[str, str]:
    """The settings of the clock's processes; `broker` is the test's own Redis (none: the
    embedded clock)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    if broker is not None:
        env["TATULASU_BROKER_URL"] = broker_url(broker)
    env.update(
        TATULASU_DATABASE_URL=database_url,
        # A queue of its own: workers left over from an interrupted run cannot take its tasks.
        TATULASU_QUEUE=f"tatulasu-test-{uuid.uuid4().hex[:8]}",
        TATULASU_SWEEP_INTERVAL_SECONDS="1",
        TATULASU_SWEEP_BATCH="100",
        TATULASU_SMTP_HOST="127.0.0.1",
        TATULASU_SMTP_PORT=str(smtp_port),
        TATULASU_SMS_GATEWAY_URL=sms_url,
        TATULASU_DISPATCH_LEASE_SECONDS="5",
        TATULASU_DISPATCH_BACKOFF_SECONDS="1",
    )
    env.update(extra)
    return env


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Processes]]:
    made: list[Processes] = []

    def make(env: dict[str, str]) -> Processes:
        procs = Processes(env, tmp_path)
        made.append(procs)
        return procs

    yield make
    for procs in made:
        procs.stop_all()


def wait_until(check: Callable[[], bool], timeout: float, procs: Processes, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}\n{procs.tail()}")
