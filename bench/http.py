"""The HTTP API: firing events through uvicorn, and the supervisor report at scale.

1. `tatulasu serve` (uvicorn, one and two worker processes) on PostgreSQL; `wrk` with 8
   connections POSTs `record_consultation` events round-robin over 400 cases for N
   seconds; against the engine's direct persisted rate with 8 client threads. Rounds
   alternate the engine and the servers (3 rounds of 10 s; medians are reported).
   Latency percentiles are wrk's.
2. The supervisor report (`workflow.summary.summary`) over 1,000,000 stored events
   against a plain `SELECT count(*) FROM audit_events` in the same run (median of 5).

    python -m bench.http            # full run
    python -m bench.http --quick    # a smoke run
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import Row, open_cases, parser, print_table
from bench.postgres import database_url, reachable, recreate_database, run_threads
from tests.integration.clock.sinks import free_port
from workflow import summary, users
from workflow.engine import Engine
from workflow.store import Store

CENTRE = "Astana Tatulasu centre"
WRK_THREADS = 2
WORKERS = (1, 2)  # uvicorn processes of `tatulasu serve --workers`
_LUA = """
local ids = {%(ids)s}
local threads = {}
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local body = '{"event": "record_consultation", "payload": {}}'
-- thread t of n fires at the cases whose position is t modulo n: no two threads ever aim
-- at the same case (that would be a correct 409, not what is measured here)
setup = function(thread)
  thread:set("first", #threads)
  table.insert(threads, thread)
end
init = function(args)
  i = first
  step = %(threads)d
end
request = function()
  local id = ids[i + 1]
  i = (i + step) %% #ids
  return wrk.format("POST", "/cases/" .. id .. "/events", headers, body)
end
"""


def _serve(url: str, port: int, logs: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env.update(TATULASU_DATABASE_URL=url, TATULASU_BROKER_URL="redis://127.0.0.1:6379/15")
    with (logs / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tatulasu", "serve", "--port", str(port), "--log-level",
             "warning", "--workers", str(workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError((logs / "serve.log").read_text(errors="replace")[-2000:])


def _wrk(port: int, script: Path, seconds: int) -> dict[str, float]:
    done = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", "-c8", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        found[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    found["errors"] = float(errors.group(1)) if errors else 0.0
    return found


def http_fire(seconds: int, rounds: int) -> list[Row]:
    name = f"tatulasu_bench_http_{os.getpid()}"
    recreate_database(name)
    store = Store(database_url(name), pool_size=8)
    logs = Path(tempfile.mkdtemp(prefix="tatulasu-http-"))
    try:
        store.migrate()
        engine = Engine(store)
        ids = open_cases(engine, 400)
        with store.transaction() as conn:
            token = users.create(
                conn,
                users.User("coord-bench", "Coordinator", "coordinator", "AST", CENTRE),
                datetime.now(UTC),
            )
        groups = [ids[i::8] for i in range(8)]
        script = logs / "fire.lua"
        script.write_text(
            _LUA % {"ids": ",".join(map(str, ids)), "token": token, "threads": WRK_THREADS}
        )
        ports = {workers: free_port() for workers in WORKERS}
        servers: list[subprocess.Popen[bytes]] = []
        direct: list[float] = []
        measured: dict[int, list[dict[str, float]]] = {workers: [] for workers in WORKERS}
        try:
            for workers, port in ports.items():
                servers.append(_serve(store.url, port, logs, workers))
            # Rounds alternate the reference and the servers, so that a slower minute of
            # a shared machine weighs on both sides; each side reports its median round.
            for _ in range(rounds):
                direct.append(run_threads(engine, groups, seconds))
                for workers, port in ports.items():
                    measured[workers].append(_wrk(port, script, seconds))
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
        reference = statistics.median(direct)
        print(f"engine, 8 threads, events/s by round: {[round(d) for d in direct]}")
        rows = []
        for workers, runs in measured.items():
            print(f"wrk, {workers} worker(s), by round: {runs}")
            middle = sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]
            rows += [
                Row(f"events/s over HTTP, {workers} worker(s), vs engine", middle["rps"],
                    reference, "/s", ">= 0.5x"),
                Row(f"  latency p50 (ms), {workers} worker(s)", middle["p50"],
                    middle["p50"], "ms", "reported"),
                Row(f"  latency p99 (ms), {workers} worker(s)", middle["p99"],
                    middle["p99"], "ms", "reported"),
                Row(f"  non-2xx answers, {workers} worker(s)",
                    sum(run["errors"] for run in runs), 0, "answers", "0"),
            ]  # fmt: skip
        with store.reading() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
        print(f"audit events stored: {stored}")
        return rows
    finally:
        store.dispose()
        recreate_database(name, create=False)


_FILL_CASES = """
INSERT INTO cases (definition_version, state, version, origin, procedure, region, centre,
    language, subject, enforcement_suspended, opened_at, updated_at, extensions_used,
    audit_head)
SELECT 1, (ARRAY['settled','settled','settled','settled','judgment','returned_to_bailiff',
               'withdrawn','in_mediation'])[1 + mod(i, 8)],
       {per_case}, (ARRAY['party','court','bailiff','centre'])[1 + mod(i, 4)],
       'mediation_professional', (ARRAY['VKO','KAR','AST','ALA'])[1 + mod(i, 4)],
       'Centre ' || mod(i, 40), 'kk', '', false,
       timestamptz '2025-01-01' + mod(i, 365) * interval '1 day',
       timestamptz '2025-01-01' + mod(i, 365) * interval '1 day', 0, repeat('0', 64)
FROM generate_series(1, {cases}) i
"""
_FILL_EVENTS = """
INSERT INTO audit_events (case_id, seq, event, actor, role, at, from_state, to_state,
    payload, prev_hash, hash)
SELECT c.id, s, (ARRAY['refer','accept','record_consultation','record_consultation',
                       'remind','record_session','escalate','reach_agreement','remind',
                       'record_delivery'])[s],
       CASE WHEN s IN (5, 7, 9, 10) THEN 'system' ELSE 'user-' || mod(c.id, 100) END,
       CASE WHEN s IN (5, 7, 9, 10) THEN 'system' ELSE 'coordinator' END,
       c.opened_at + s * interval '2 days', 'x', 'y',
       CASE WHEN s = 7 THEN '{{"term":"acceptance","due_at":"' || c.id || '"}}' ELSE '{{}}' END,
       repeat('0', 64), md5(c.id::text || s::text) || md5(s::text)
FROM cases c CROSS JOIN generate_series(1, {per_case}) s
"""


def report_vs_count(n_cases: int, per_case: int) -> list[Row]:
    name = f"tatulasu_bench_report_{os.getpid()}"
    recreate_database(name)
    store = Store(database_url(name))
    try:
        # The history is written at revision 0003, before the cases carried their
        # tallies; migration 0004 then fills them from it, as on a live upgrade.
        store.migrate("0003")
        params = {"cases": n_cases, "per_case": per_case}
        with store.transaction() as conn:
            conn.exec_driver_sql(_FILL_CASES.format(**params))
            conn.exec_driver_sql(_FILL_EVENTS.format(**params))
        started = time.perf_counter()
        store.migrate()
        print(f"migration 0004 filled the tallies of {n_cases:,} cases in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        with store.reading() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
            report = summary.summary(conn)
            count_s = _median(
                lambda: conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
            )
            report_s = _median(lambda: summary.summary(conn))
            scoped_s = _median(lambda: summary.summary(conn, region="VKO", centre="Centre 4"))
        print(
            f"events stored: {stored:,}; report: {report.cases:,} cases, reconciled "
            f"{report.reconciled:,}, consultations {report.consultations:,}"
        )
        return [
            Row(f"report over {stored:,} events vs count(*) (s)", report_s, count_s, "s",
                "ratio >= 0.5 (report <= 2x count)", higher_is_better=False),
            Row("report for one region and centre vs count(*) (s)", scoped_s, count_s, "s",
                "ratio >= 0.5", higher_is_better=False),
        ]  # fmt: skip
    finally:
        store.dispose()
        recreate_database(name, create=False)


def _median(action: object) -> float:
    assert callable(action)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    if not reachable():
        print("PostgreSQL is unreachable: the HTTP benchmark needs it")
        raise SystemExit(3)
    seconds, rounds = (3, 1) if args.quick else (10, 3)
    print_table("HTTP: firing events through uvicorn", http_fire(seconds, rounds), "reference")
    n_cases = 2_000 if args.quick else 100_000
    print_table("Supervisor report vs count(*)", report_vs_count(n_cases, 10), "count(*)")


if __name__ == "__main__":
    main()
