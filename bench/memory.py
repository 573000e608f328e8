"""Memory and event rate with few vs. many stored cases (SQLite): cases are rows, not objects.

Two files are filled in bulk (executemany of prepared rows: cases, parties, the opening
audit record with its real hash, and the open timers, cloned from one case opened through
the engine). Each file is then measured by a fresh process that opens the store and fires
`record_consultation` on cases drawn at random from the whole file, reporting the event
rate and its resident memory (RSS). Rule 2 of the design says neither should depend on
the number of cases: the target is a rate drop below 20 % and no RSS growth.

    python -m bench.memory                    # 10,000 vs 1,000,000 cases
    python -m bench.memory --cases 200000     # 10,000 vs 200,000
    python -m bench.memory --quick            # 1,000 vs 20,000, a few seconds
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import Row, consultation, open_cases, parser, print_table, rss_mb, sqlite_store
from workflow import audit
from workflow.audit import GENESIS, record_hash
from workflow.engine import Engine
from workflow.schema import audit_events, cases, parties, timers
from workflow.store import Store

CHUNK = 20_000


def _template(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every stored row of one case opened through the engine."""
    case_id = open_cases(Engine(store), 1)[0]
    with store.reading() as conn:
        return {
            t.name: [
                {k: v for k, v in r._mapping.items() if t is cases or k != "id"}
                for r in conn.execute(sa.select(t).where(col == case_id))
            ]
            for t, col in (
                (cases, cases.c.id),
                (parties, parties.c.case_id),
                (audit_events, audit_events.c.case_id),
                (timers, timers.c.case_id),
            )
        }


def _clone(tpl: dict[str, list[dict[str, Any]]], first: int, n: int) -> Iterator[dict[str, Any]]:
    """Rows of cases first..first+n-1, table by table, each chunk ready for executemany."""
    (case,) = tpl["cases"]
    (opening,) = tpl["audit_events"]
    for start in range(first, first + n, CHUNK):
        ids = range(start, min(start + CHUNK, first + n))
        batch: dict[str, list[dict[str, Any]]] = {t: [] for t in tpl}
        for i in ids:
            digest = record_hash(
                GENESIS,
                case_id=i,
                seq=1,
                event=opening["event"],
                actor=opening["actor"],
                role=opening["role"],
                at=opening["at"],
                from_state=opening["from_state"],
                to_state=opening["to_state"],
                payload=opening["payload"],
            )
            # The row says what its opening record says (audit verify replays it).
            batch["cases"].append({**case, "id": i, "audit_head": digest})
            batch["audit_events"].append({**opening, "case_id": i, "hash": digest})
            for name in ("parties", "timers"):
                batch[name].extend({**r, "case_id": i} for r in tpl[name])
        yield batch


def _driver_rows(
    store: Store, table: sa.Table, rows: list[dict[str, Any]]
) -> tuple[str, list[tuple[Any, ...]]]:
    """The INSERT as the driver sees it, and rows with SQLAlchemy's bind processing done.

    Only ids, subjects and hashes differ between clones, so the type processing of the
    template's values is done once here rather than once per row by `conn.execute`.
    """
    dialect = store.engine.dialect
    keys = list(rows[0])
    sql = str(table.insert().compile(dialect=dialect, column_keys=keys))
    procs = [table.c[k].type.bind_processor(dialect) for k in keys]
    return sql, [
        tuple(p(r[k]) if p is not None else r[k] for k, p in zip(keys, procs, strict=True))
        for r in rows
    ]


def fill(path: Path, n: int) -> float:
    """A file with `n` stored cases; returns the seconds the bulk insert took."""
    store = sqlite_store(path)
    tpl = _template(store)
    started = time.perf_counter()
    with store.transaction() as conn:
        for batch in _clone(tpl, 2, n - 1):
            for table in (cases, parties, audit_events, timers):
                sql, rows = _driver_rows(store, table, batch[table.name])
                conn.exec_driver_sql(sql, rows)
    with store.reading() as conn:  # the cloned rows are what the engine would have stored
        report = audit.verify(conn, case_ids=[1, 2, n // 2, n])
        assert report.ok and report.cases == 4, report
    store.dispose()
    return time.perf_counter() - started


def measure(path: Path, n_cases: int, n_events: int) -> dict[str, float]:
    """In a fresh process: the event rate on random cases and the RSS."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.memory",
            "--measure",
            str(path),
            "--cases",
            str(n_cases),
            "--events",
            str(n_events),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure_here(path: Path, n_cases: int, n_events: int) -> None:
    store = Store(f"sqlite:///{path}")
    engine = Engine(store)
    pick = random.Random(7)
    ids = [pick.randint(1, n_cases) for _ in range(n_events)]
    for i in ids[:200]:  # warm the code paths, not the data
        engine.fire(consultation(i))
    rss_before = rss_mb()
    started = time.perf_counter()
    for i in ids[200:]:
        engine.fire(consultation(i))
    rate = (len(ids) - 200) / (time.perf_counter() - started)
    store.dispose()
    print(json.dumps({"rate": rate, "rss_before": rss_before, "rss_after": rss_mb()}))


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--cases", type=int, default=None, help="cases in the large file")
    p.add_argument("--events", type=int, default=None, help="events fired per file")
    p.add_argument("--measure", type=Path, default=None, help=argparse_hidden())
    args = p.parse_args()
    if args.measure is not None:
        _measure_here(args.measure, args.cases, args.events)
        return
    small = 1_000 if args.quick else 10_000
    large = args.cases or (20_000 if args.quick else 1_000_000)
    n_events = args.events or (700 if args.quick else 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in (small, large):
            path = Path(tmp) / f"cases_{n}.db"
            seconds = fill(path, n)
            size = sum(f.stat().st_size for f in Path(tmp).glob(f"cases_{n}.db*")) / 1e6
            print(
                f"filled {n:,} cases in {seconds:.1f} s ({n / seconds:,.0f} cases/s), "
                f"file {size:,.0f} MB",
                flush=True,
            )
            results[n] = measure(path, n, n_events)
            path.unlink()
    few, many = results[small], results[large]
    print_table(
        f"SQLite, record_consultation on random cases, {n_events:,} events per file; "
        f"ours: {large:,} cases stored, reference: {small:,}",
        [
            Row("events/s", many["rate"], few["rate"], "events/s", "drop < 20 % (ratio > 0.8)"),
            Row(
                "RSS MB after the events",
                many["rss_after"],
                few["rss_after"],
                "MB",
                "no growth (ratio ~1)",
                False,
            ),
            Row(
                "RSS MB growth during the events",
                many["rss_after"] - many["rss_before"],
                few["rss_after"] - few["rss_before"],
                "MB",
                "",
                False,
            ),
        ],
        f"{small:,} cases",
    )


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
