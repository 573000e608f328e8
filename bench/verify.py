"""`audit verify` with the projection replay vs. hashing the same records alone (SQLite).

The history is made once by the demo (a year of centres: cases, sessions, reminders,
escalations, terms that ran out, agreements, all through the real engine, business
calendar and timer sweep), then cloned with new case ids — each copy's chains hashed
again, the case id being part of every record — until the file holds the events asked
for. Then, in alternating rounds on the same file:

- ours: `audit.verify` — every chain hashed and linked, every case replayed through the
  engine's decisions and compared with its row, its parties and its open timers;
- reference: the same records read in the same order and hashed (`record_hash`),
  nothing else.

Both sides are one thread reading an in-process SQLite file that the page cache holds:
the time reported is the process's CPU time, which other work on a shared machine
disturbs less than the wall clock (printed too).

    python -m bench.verify                      # 1,000,000 events
    python -m bench.verify --events 200000
    python -m bench.verify --quick              # ~10,000 events, a few seconds
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import Row, parser, peak_rss_mb, print_table
from bench.memory import _driver_rows
from tatulasu.demo.run import run_demo
from workflow import audit
from workflow.audit import GENESIS, record_hash
from workflow.schema import audit_events, cases, parties, timers
from workflow.store import Store

TABLES = (cases, parties, audit_events, timers)
FIELDS = ("event", "actor", "role", "at", "from_state", "to_state", "payload")


def _template(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the demo's cases, parties, history and timers, in storage order."""
    with store.reading() as conn:
        return {
            t.name: [
                {k: v for k, v in r._mapping.items() if t is cases or k != "id"}
                for r in conn.execute(sa.select(t).order_by(t.c.id))
            ]
            for t in TABLES
        }


def _copies(tpl: dict[str, list[dict[str, Any]]], copies: int) -> Iterator[dict[str, list[Any]]]:
    """Rows of copies 1..copies-1 of the template (copy 0 is the demo's own file).

    A copy's records keep the template's storage order (cases interleaved as they were
    written day by day), with the hashes computed for the copy's case ids.
    """
    step = max(c["id"] for c in tpl["cases"])
    for k in range(1, copies):
        offset = k * step
        heads: dict[int, str] = {}
        records = []
        for r in tpl["audit_events"]:
            case_id = r["case_id"] + offset
            prev = heads.get(case_id, GENESIS)
            digest = record_hash(prev, case_id=case_id, seq=r["seq"], **{f: r[f] for f in FIELDS})
            heads[case_id] = digest
            records.append({**r, "case_id": case_id, "prev_hash": prev, "hash": digest})
        yield {
            "cases": [
                {**c, "id": c["id"] + offset, "audit_head": heads[c["id"] + offset]}
                for c in tpl["cases"]
            ],
            "parties": [{**p, "case_id": p["case_id"] + offset} for p in tpl["parties"]],
            "audit_events": records,
            "timers": [{**t, "case_id": t["case_id"] + offset} for t in tpl["timers"]],
        }


def build(path: Path, events: int, demo_cases: int) -> tuple[int, float]:
    """The file: the demo, then as many copies as `events` needs; (events, seconds)."""
    url = f"sqlite:///{path}"
    run_demo(url, cases=demo_cases, progress=False)
    store = Store(url)
    started = time.perf_counter()
    tpl = _template(store)
    copies = max(1, math.ceil(events / len(tpl["audit_events"])))
    for batch in _copies(tpl, copies):
        with store.transaction() as conn:
            for table in TABLES:
                sql, rows = _driver_rows(store, table, batch[table.name])
                conn.exec_driver_sql(sql, rows)
    store.dispose()
    return copies * len(tpl["audit_events"]), time.perf_counter() - started


def hash_alone(store: Store) -> int:
    """The reference: the records in verify's order, each hashed, nothing else."""
    n = 0
    e = audit_events.c
    query = (
        sa.select(e.prev_hash, e.case_id, e.seq, e.event, e.actor, e.role, e.at, e.from_state)
        .add_columns(e.to_state, e.payload)
        .order_by(e.case_id, e.id)
        .execution_options(yield_per=2_000)
    )
    with store.reading() as conn:
        for r in conn.execute(query):
            record_hash(
                r[0],
                case_id=r[1],
                seq=r[2],
                event=r[3],
                actor=r[4],
                role=r[5],
                at=r[6],
                from_state=r[7],
                to_state=r[8],
                payload=r[9],
            )
            n += 1
    return n


def verify_all(store: Store) -> int:
    with store.reading() as conn:
        report = audit.verify(conn)
    assert report.ok, report.breaks[:3]
    return report.events


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--events", type=int, default=1_000_000, help="history records to verify")
    args = p.parse_args()
    events, demo_cases, rounds = (10_000, 40, 1) if args.quick else (args.events, 134, 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "verify.db"
        started = time.perf_counter()
        stored, cloning = build(path, events, demo_cases)
        built = time.perf_counter() - started
        store = Store(f"sqlite:///{path}")
        with store.reading() as conn:
            n_cases = conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()
        hash_alone(store)  # warm the page cache for both sides
        ours_s, ref_s, wall = [], [], []
        rss_before = peak_rss_mb()
        for _ in range(rounds):
            for side, times in ((hash_alone, ref_s), (verify_all, ours_s)):
                cpu, t = time.process_time(), time.perf_counter()
                assert side(store) == stored
                times.append(time.process_time() - cpu)
                wall.append(time.perf_counter() - t)
        rss_after = peak_rss_mb()
        store.dispose()
    ours, ref = statistics.median(ours_s), statistics.median(ref_s)
    print_table(
        f"audit verify over {stored:,} events in {n_cases:,} cases (SQLite, CPU time of the"
        f" process, {rounds} rounds, median)",
        [
            Row(
                "events/s (verify + replay vs hashing alone)",
                stored / ours,
                stored / ref,
                "events/s",
                ">= 1/3 of hashing alone",
            ),
            Row("seconds", ours, ref, "s", "<= 3x", higher_is_better=False),
            Row(
                "microseconds per event",
                1e6 * ours / stored,
                1e6 * ref / stored,
                "us",
                higher_is_better=False,
            ),
        ],
        "hash alone",
    )
    rounded = [round(x, 2) for x in ours_s], [round(x, 2) for x in ref_s]
    print(f"CPU seconds per round, ours: {rounded[0]}; hash alone: {rounded[1]}")
    print(f"wall seconds (hash alone, ours, ...): {[round(x, 2) for x in wall]}")
    print(f"file built in {built:.0f} s (cloning {cloning:.0f} s); peak RSS {rss_before:.0f} MB"
          f" before the rounds, {rss_after:.0f} MB after")  # fmt: skip


if __name__ == "__main__":
    main()
