"""Persisted events on PostgreSQL at 1 and 8 clients vs. pgbench TPC-B in the same run.

Each client (a thread, or a process: the GIL serialises Python threads) fires
`record_consultation` round-robin over its own cases, so clients never conflict; one event
is one transaction (BEGIN, SELECT case, UPDATE case, INSERT audit record, COMMIT). The
reference is `pgbench` (TPC-B-like: BEGIN, 3 UPDATEs, SELECT, INSERT, END) on a separate
database initialised with `pgbench -i -s 1`, at the same client counts for the same time.

    python -m bench.postgres                 # full run (10 s per measurement)
    python -m bench.postgres --quick         # a few seconds
    TATULASU_BENCH_PG=postgresql://user@host:5432 python -m bench.postgres

Exits with status 3 (and says so) when PostgreSQL cannot be reached.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from bench.common import Row, consultation, open_cases, parser, print_table
from workflow.engine import Engine
from workflow.store import Store

SERVER = os.environ.get("TATULASU_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
# One pair of databases per run, dropped at the end: runs (a smoke test beside a full run)
# must not drop each other's database.
OURS_DB = f"bench_tatulasu_{os.getpid()}"
REF_DB = f"pgbench_ref_{os.getpid()}"
UNREACHABLE = 3


@dataclass(frozen=True)
class Server:
    host: str
    port: str
    user: str

    @classmethod
    def parse(cls, url: str) -> Server:
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", str(parts.port or 5432), parts.username or "")

    def args(self) -> list[str]:
        return ["-h", self.host, "-p", self.port, *(["-U", self.user] if self.user else [])]


def database_url(name: str) -> str:
    return f"{SERVER.rstrip('/')}/{name}"


def recreate_database(name: str, create: bool = True) -> None:
    admin = sa.create_engine(
        Store(database_url("postgres")).url, isolation_level="AUTOCOMMIT", pool_size=1
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def reachable() -> bool:
    try:
        engine = sa.create_engine(
            Store(database_url("postgres")).url, connect_args={"connect_timeout": 3}
        )
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


# ---------------------------------------------------------------------------- ours


def _fire_until(engine: Engine, ids: list[int], start: float, stop: float) -> int:
    commands = [consultation(i) for i in ids]
    while time.perf_counter() < start:
        time.sleep(0.0005)
    n = 0
    while time.perf_counter() < stop:
        engine.fire(commands[n % len(commands)])
        n += 1
    return n


def run_threads(engine: Engine, groups: list[list[int]], seconds: float) -> float:
    counts = [0] * len(groups)
    start = time.perf_counter() + 0.2
    stop = start + seconds

    def work(i: int) -> None:
        counts[i] = _fire_until(engine, groups[i], start, stop)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(groups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def _process_worker(
    url: str, ids: list[int], start_wall: float, seconds: float, out: mp.Queue
) -> None:  # type: ignore[type-arg]
    store = Store(url, pool_size=1)
    engine = Engine(store)
    engine.fire(consultation(ids[0]))  # connect and warm up before the start
    delay = start_wall - time.time()
    start = time.perf_counter() + max(delay, 0.0)
    out.put(_fire_until(engine, ids, start, start + seconds))
    store.dispose()


def run_processes(url: str, groups: list[list[int]], seconds: float) -> float:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    start_wall = time.time() + 3.0  # time for every process to import and connect
    procs = [
        ctx.Process(target=_process_worker, args=(url, g, start_wall, seconds, out)) for g in groups
    ]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


# ---------------------------------------------------------------------------- pgbench


def pgbench_init(server: Server) -> None:
    recreate_database(REF_DB)
    subprocess.run(
        ["pgbench", *server.args(), "-i", "-s", "1", "-q", REF_DB],
        check=True,
        capture_output=True,
    )


def pgbench_tps(server: Server, clients: int, seconds: int) -> float:
    done = subprocess.run(
        [
            "pgbench",
            *server.args(),
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(seconds),
            REF_DB,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))


# ---------------------------------------------------------------------------- main


def _measure_all(server: Server, seconds: int, per_client: int, with_processes: bool) -> list[Row]:
    pgbench_init(server)
    recreate_database(OURS_DB)
    url = database_url(OURS_DB)
    store = Store(url, pool_size=8)
    store.migrate()
    engine = Engine(store)
    all_ids = open_cases(engine, per_client * 8)
    rows = []
    for clients in (1, 8):
        groups = [all_ids[i * per_client : (i + 1) * per_client] for i in range(clients)]
        run_threads(engine, groups, 0.3)  # warm the pool's connections
        threads = run_threads(engine, groups, seconds)
        ref = pgbench_tps(server, clients, seconds)
        rows.append(
            Row(
                f"{clients} client(s), threads: events/s vs pgbench tps",
                threads,
                ref,
                "tps",
                ">= 1.0x",
            )
        )
        if with_processes:
            procs = run_processes(url, groups, seconds)
            rows.append(
                Row(
                    f"{clients} client(s), processes: events/s vs pgbench tps",
                    procs,
                    ref,
                    "tps",
                    ">= 1.0x",
                )
            )
    store.dispose()
    return rows


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=int, default=None, help="length of each measurement")
    p.add_argument("--no-processes", action="store_true", help="threads only")
    args = p.parse_args()
    seconds = args.seconds or (1 if args.quick else 10)
    with_processes = not (args.quick or args.no_processes)
    if not reachable():
        print(f"PostgreSQL unreachable at {SERVER}: benchmark not run", file=sys.stderr)
        sys.exit(UNREACHABLE)
    server = Server.parse(SERVER)
    try:
        rows = _measure_all(server, seconds, 5 if args.quick else 50, with_processes)
    finally:
        for name in (OURS_DB, REF_DB):
            recreate_database(name, create=False)
    print_table(
        f"PostgreSQL, record_consultation, each client on its own cases, {seconds} s per "
        f"measurement; reference: pgbench -s 1 (TPC-B) same clients and time",
        rows,
        "pgbench",
    )


if __name__ == "__main__":
    main()
