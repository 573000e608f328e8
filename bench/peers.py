"""Persisted events beside peer engines: pgbench, DBOS Transact, SpiffWorkflow (issue 13).

Each system runs in this process, in the same run, on the same PostgreSQL server, each in
a database of its own that the run creates and drops. Ours is `Engine.fire` of
`record_consultation`, as `bench.postgres` measures it (its code is reused).

    uv run --locked --extra test --extra bench python -m bench.peers            # full
    uv run --locked --extra test --extra bench python -m bench.peers --quick    # seconds
    TATULASU_BENCH_PG=postgresql://user@host:5432 ... python -m bench.peers

Without the `bench` extra (dbos, spiffworkflow) it says which extra to install and exits
with status 0; when PostgreSQL cannot be reached it exits with status 3.

What one event persists, in one system each (the count of rows is printed after the
tables, from the databases, divided by the events counted):

- tatulasu: one transaction (BEGIN, SELECT the case, UPDATE the case row under its version
  with its tallies, INSERT the hash-chained history record, COMMIT); a statement trigger
  adds one `metric_deltas` row. The pool's pre-ping (`SELECT 1`, autocommit) is a second,
  read-only transaction in PostgreSQL's count. `record_consultation` leaves the case in
  its state, so its timers and outbox are left as they are (an event that moves the case
  also replaces its timers and writes its notices, in the same transaction).
- pgbench TPC-B (`-s 1`): one transaction of 3 UPDATEs, a SELECT and an INSERT.
- DBOS Transact 3.4: a dispute is a `@DBOS.workflow()` looping on `DBOS.recv(topic)` and
  recording each event with a `@DBOS.step()`; the client sends with `DBOS.send`. Per
  event: the send's transaction (a `notifications` row; its trigger NOTIFYs), the recv's
  durable timeout (an `operation_outputs` row), the recv's consume (the message marked
  consumed and recorded as an `operation_outputs` row, one transaction) and the step's
  output (an `operation_outputs` row): four writing transactions, with reads, ownership
  checks and advisory locks in transactions of their own around them (the run prints how
  many transactions PostgreSQL counted). An event counts once its step is recorded (see
  `bench.peers_dbos`).
- SpiffWorkflow 3.2: one transaction per event: SELECT the case's row, restore the
  workflow with Spiff's JSON serializer (the spec is stored once, by name), complete the
  ready user task, serialize, UPDATE the row under its version: one JSON row of ~4 KB.

Fair configuration: the same server and its settings for all (`synchronous_commit` as the
server has it, on by default: every commit waits for its WAL flush; `fsync` on); the same
number of clients, 1 and 8, each a thread of this process (pgbench: its own C process,
`-j 2`), each client on its own cases so that clients never conflict; one event in flight
per client; the same length of each measurement (10 s, `--seconds`) after a warm-up (our
pool's connections, DBOS's first 0.5 s, Spiff's connections and spec opened before the
clock starts). The Python peers keep their defaults (DBOS: its pool of 20 with pre-ping,
LISTEN/NOTIFY; Spiff: psycopg 3 with its statement preparation). Ours is measured before
and after the peers of each client count and the mean is shown, with both rounds.
The events differ where the systems do: Spiff's event completes a user task (the case
moves), ours records a consultation (the case stays; a moving event of ours does more:
its timers and notices too), DBOS's records a step.

DBOS is also measured pipelined, with 8 events in flight per client (each client on 8
disputes of its own, the next event of a dispute sent once its last one is recorded): it
does not wait for each event before the next, so it uses more concurrency than the others
get; the row is shown for reference.

Targets (printed, never asserted): at 8 clients ours >= 10x DBOS and >= 2x SpiffWorkflow
per persisted event, and >= 1.0x pgbench.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from bench.common import Row, open_cases, parser, print_table
from bench.postgres import (
    OURS_DB,
    REF_DB,
    SERVER,
    UNREACHABLE,
    Server,
    database_url,
    pgbench_init,
    pgbench_tps,
    reachable,
    recreate_database,
    run_threads,
)
from workflow.engine import Engine
from workflow.store import Store

EXTRA = "bench"
PEER_MODULES = ("dbos", "SpiffWorkflow")
DBOS_DB = f"peers_dbos_{OURS_DB.rsplit('_', 1)[1]}"
SPIFF_DB = f"peers_spiff_{OURS_DB.rsplit('_', 1)[1]}"
PIPELINE = 8


def missing_peers() -> list[str]:
    return [name for name in PEER_MODULES if importlib.util.find_spec(name) is None]


@dataclass
class Tally:
    """Events counted per system over the whole run (warm-ups included), for rows/event."""

    events: dict[str, float] = field(default_factory=dict)
    # Rows written before the clock (opening the cases) and by the harness (closing DBOS's
    # workflows), taken off the counts.
    setup_rows: dict[str, int] = field(default_factory=dict)
    # Transactions each system's database committed while it ran (pg_stat_database).
    commits: dict[str, int] = field(default_factory=dict)

    def committed(self, system: str, database: str, since: int) -> None:
        self.commits[system] = self.commits.get(system, 0) + _commits(database) - since

    def add(self, system: str, rate: float, seconds: float) -> float:
        self.events[system] = self.events.get(system, 0.0) + rate * seconds
        return rate


@dataclass
class Block:
    """The measurements at one client count."""

    clients: int
    ours: list[float]
    pgbench: float
    dbos: float
    dbos_pipelined: float
    spiff: float

    def rows(self) -> list[Row]:
        ours = sum(self.ours) / len(self.ours)
        at_8 = self.clients == 8
        return [
            Row("vs pgbench TPC-B -s 1 (tps)", ours, self.pgbench, "events/s", ">= 1.0x"),
            Row(
                "vs DBOS Transact, 1 event in flight/client",
                ours,
                self.dbos,
                "events/s",
                ">= 10x" if at_8 else "(>= 10x at 8)",
            ),
            Row(
                f"vs DBOS Transact, {PIPELINE} in flight/client",
                ours,
                self.dbos_pipelined,
                "events/s",
                "for reference",
            ),
            Row(
                "vs SpiffWorkflow, one JSON row per case",
                ours,
                self.spiff,
                "events/s",
                ">= 2x" if at_8 else "(>= 2x at 8)",
            ),
        ]


def _groups(ids: list[int], clients: int, per_client: int) -> list[list[int]]:
    return [ids[i * per_client : (i + 1) * per_client] for i in range(clients)]


def _count(url: str, sql: str) -> int:
    engine = sa.create_engine(Store(url).url)
    with engine.connect() as conn:
        value = int(conn.exec_driver_sql(sql).scalar_one())
    engine.dispose()
    return value


def _commits(database: str) -> int:
    """Transactions the database has committed, as its statistics say once the sessions
    that ran them have closed (a closing session flushes its counts; give it a moment)."""
    time.sleep(0.5)
    return _count(
        database_url("postgres"),
        f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'",
    )


def _measure(server: Server, seconds: int, per_client: int, tally: Tally) -> list[Block]:
    from bench import peers_dbos, peers_spiff

    pgbench_init(server)
    for name in (OURS_DB, DBOS_DB, SPIFF_DB):
        recreate_database(name)
    store = Store(database_url(OURS_DB), pool_size=8)
    store.migrate()
    engine = Engine(store)
    ours_ids = open_cases(engine, per_client * 8)
    tally.setup_rows["deltas"] = _count(database_url(OURS_DB), "SELECT count(*) FROM metric_deltas")
    store.dispose()  # so that the statistics hold the opening, counted apart
    store = Store(database_url(OURS_DB), pool_size=8)
    engine = Engine(store)
    ours_since = _commits(OURS_DB)
    spiff_url = database_url(SPIFF_DB)
    peers_spiff.setup(spiff_url, per_client * 8)
    spiff_ids = list(range(per_client * 8))

    def ours(groups: list[list[int]]) -> float:
        tally.add("ours", run_threads(engine, groups, 0.3), 0.3)  # warm the pool
        return tally.add("ours", run_threads(engine, groups, seconds), seconds)

    blocks = []
    next_dispute = 0
    for clients in (1, 8):
        groups = _groups(ours_ids, clients, per_client)
        first = ours(groups)
        ref = pgbench_tps(server, clients, seconds)
        spiff_groups = _groups(spiff_ids, clients, per_client)
        since = _commits(SPIFF_DB)
        spiff = tally.add("spiff", peers_spiff.run(spiff_url, spiff_groups, seconds), seconds)
        tally.committed("spiff", SPIFF_DB, since)
        since = _commits(DBOS_DB)
        with peers_dbos.launched(database_url(DBOS_DB)):
            dbos, used = peers_dbos.run(clients, 1, seconds, next_dispute)
            next_dispute += used
            piped, used = peers_dbos.run(clients, PIPELINE, seconds, next_dispute)
            next_dispute += used
        tally.committed("dbos", DBOS_DB, since)
        second = ours(groups)
        blocks.append(Block(clients, [first, second], ref, dbos, piped, spiff))
    store.dispose()
    tally.committed("ours", OURS_DB, ours_since)
    tally.events["dbos"] = float(peers_dbos.ACKS.total)
    tally.setup_rows["workflows"] = next_dispute  # one CLOSE message, recv and sleep each
    return blocks


def _persisted(tally: Tally) -> list[str]:
    """Rows each system's tables gained per counted event, read from the databases."""
    ours_url, dbos_url, spiff_url = (database_url(n) for n in (OURS_DB, DBOS_DB, SPIFF_DB))
    n_ours = _count(ours_url, "SELECT count(*) FROM cases")
    history = _count(ours_url, "SELECT count(*) FROM audit_events") - n_ours
    deltas = _count(ours_url, "SELECT count(*) FROM metric_deltas") - tally.setup_rows["deltas"]
    updates = _count(spiff_url, "SELECT sum(version - 1) FROM spiff_cases")
    closes = tally.setup_rows["workflows"]
    notes = _count(dbos_url, "SELECT count(*) FROM dbos.notifications") - closes
    outputs = _count(dbos_url, "SELECT count(*) FROM dbos.operation_outputs") - 2 * closes

    def per(rows: int, system: str) -> str:
        return f"{rows / max(tally.events[system], 1.0):.2f}"

    def commits(system: str) -> str:
        return f"{per(tally.commits[system], system)} transactions committed"

    return [
        f"  tatulasu: {commits('ours')} (one is the pool's pre-ping);"
        f" {per(history, 'ours')} history records and"
        f" {per(deltas, 'ours')} metric delta rows inserted, the case row updated",
        f"  DBOS: {commits('dbos')} (its launch and background polling included); "
        f"{per(notes, 'dbos')} notifications and {per(outputs, 'dbos')} operation_outputs"
        " rows inserted, the message marked consumed",
        f"  SpiffWorkflow: {commits('spiff')}; {per(updates, 'spiff')} JSON row updates",
        "  pgbench TPC-B: 1 transaction; 1 row inserted, 3 rows updated",
    ]


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=int, default=None, help="length of each measurement")
    args = p.parse_args()
    missing = missing_peers()
    if missing:
        print(
            f"peers benchmark not run: the `{EXTRA}` extra is not installed "
            f"(missing: {', '.join(missing)}); install it with "
            f"`uv run --locked --extra test --extra {EXTRA} python -m bench.peers`"
        )
        return
    seconds = args.seconds or (1 if args.quick else 10)
    if not reachable():
        print(f"PostgreSQL unreachable at {SERVER}: benchmark not run", file=sys.stderr)
        sys.exit(UNREACHABLE)
    tally = Tally()
    try:
        blocks = _measure(Server.parse(SERVER), seconds, 5 if args.quick else 50, tally)
        persisted = _persisted(tally)
    finally:
        for name in (OURS_DB, REF_DB, DBOS_DB, SPIFF_DB):
            recreate_database(name, create=False)
    for block in blocks:
        print_table(
            f"PostgreSQL, {block.clients} client(s) (threads; pgbench -j 2), {seconds} s each; "
            "ours: Engine.fire(record_consultation) events/s",
            block.rows(),
            "reference",
        )
        rounds = " / ".join(f"{r:,.0f}" for r in block.ours)
        print(f"ours, the rounds before and after the peers: {rounds}")
    print("\nPer event counted (rows found in the databases after the run / events counted):")
    print("\n".join(persisted))


if __name__ == "__main__":
    main()
