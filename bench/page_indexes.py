"""What the pages' indexes of migration 0013 cost the write path: the engine on a store
that has them beside the same engine on a store whose two indexes were dropped.

`ix_cases_report` holds the state and the tallies, which most events change, and
`ix_cases_region_due` the running term's end: each such event now rewrites their entries.
The workloads are `bench.counters`' (`record_consultation`, and opening a case and
accepting it), rounds alternating between the two stores; SQLite, and PostgreSQL when it
is reachable (one client). The ratio is the share of the rate kept with the indexes.

    python -m bench.page_indexes            # full run
    python -m bench.page_indexes --quick    # a few seconds
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import counters, postgres
from bench.common import Row, parser, print_table, sqlite_store
from workflow.store import Store

INDEXES = ("ix_cases_report", "ix_cases_region_due")
TARGET = "the indexes' cost, read it"


def without_indexes(store: Store) -> Store:
    with store.transaction() as conn:
        for name in INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    return store


def _rows(label: str, pair: tuple[Store, Store], n_cases: int, n_events: int, rounds: int
          ) -> list[Row]:  # fmt: skip
    return [
        Row(f"{label}, {r.name}", r.ours, r.reference, r.unit, TARGET)
        for r in counters.measure(pair, n_cases, n_events, rounds)
    ]


def _sqlite(n_cases: int, n_events: int, rounds: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        pair = (
            sqlite_store(Path(tmp) / "kept.db"),
            without_indexes(sqlite_store(Path(tmp) / "dropped.db")),
        )
        try:
            return _rows("SQLite", pair, n_cases, n_events, rounds)
        finally:
            for store in pair:
                store.dispose()


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n_cases, n_events, rounds = (20, 100, 1) if args.quick else (200, 2_000, 5)
    rows = _sqlite(n_cases, n_events, rounds)
    if postgres.reachable():
        found = counters.on_postgresql(n_cases, n_events // 4, rounds, without_indexes, "_idx")
        rows += [Row(r.name, r.ours, r.reference, r.unit, TARGET) for r in found]
    else:
        print("PostgreSQL is not reachable: its rows are left out")
    print_table(
        f"The pages' indexes (0013) on the write path, {n_events} events x {rounds} rounds"
        " (median), one writer",
        rows,
        "no 0013 indexes",
    )


if __name__ == "__main__":
    main()
