"""What the running totals of `/metrics` cost the write path: the engine with the triggers
of migration 0011 beside the same engine on a store whose triggers were dropped.

Two workloads, each on two fresh stores of the same schema (one keeps the triggers, the
other has them dropped), rounds alternating between the two: `record_consultation` (the
history's insert trigger alone fires) and opening a case and accepting it (the case's,
the history's and the outbox's triggers, and a change of state). SQLite, and PostgreSQL
when it is reachable (one client). The ratio is the share of the rate the totals keep.

    python -m bench.counters            # full run
    python -m bench.counters --quick    # a few seconds (smoke test)
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import postgres
from bench.common import Row, consultation, open_cases, parser, print_table, rate, sqlite_store
from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.migrations.counters import drop_statements
from workflow.store import Store


def without_triggers(store: Store) -> Store:
    with store.transaction() as conn:
        for statement in drop_statements(store.dialect):
            conn.exec_driver_sql(statement)
    return store


def consultations(engine: Engine, ids: list[int]) -> Callable[[], object]:
    position = 0

    def one() -> object:
        nonlocal position
        position += 1
        return engine.fire(consultation(ids[position % len(ids)]))

    return one


def openings(engine: Engine) -> Callable[[], object]:
    def one() -> object:
        (case_id,) = open_cases(engine, 1)
        return engine.fire(FireEvent(case_id, "accept", "coordinator-1", "coordinator"))

    return one


def measure(pair: tuple[Store, Store], n_cases: int, n_events: int, rounds: int) -> list[Row]:
    """Median rates, with triggers (ours) and without (reference), of both workloads."""
    engines = [Engine(store) for store in pair]
    work = {
        "record_consultation": [consultations(e, open_cases(e, n_cases)) for e in engines],
        "open + accept": [openings(e) for e in engines],
    }
    rows = []
    for name, (kept, dropped) in work.items():
        rate(min(100, n_events), kept)
        rate(min(100, n_events), dropped)
        with_totals, without = [], []
        for _ in range(rounds):
            with_totals.append(rate(n_events, kept))
            without.append(rate(n_events, dropped))
        rows.append(
            Row(
                f"{name}: events/s",
                statistics.median(with_totals),
                statistics.median(without),
                "events/s",
                "the totals' cost, read it",
            )
        )
    return rows


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n_cases, n_events, rounds = (20, 100, 1) if args.quick else (200, 2_000, 5)
    with tempfile.TemporaryDirectory() as tmp:
        pair = (
            sqlite_store(Path(tmp) / "kept.db"),
            without_triggers(sqlite_store(Path(tmp) / "dropped.db")),
        )
        rows = [
            Row(f"SQLite, {r.name}", r.ours, r.reference, r.unit, r.target)
            for r in measure(pair, n_cases, n_events, rounds)
        ]
        for store in pair:
            store.dispose()
    if postgres.reachable():
        rows += on_postgresql(n_cases, n_events // 4, rounds)
    else:
        print("PostgreSQL is not reachable: its rows are left out")
    print_table(
        f"The metrics' triggers on the write path, {n_events} events x {rounds} rounds"
        " (median), one writer",
        rows,
        "no triggers",
    )


def on_postgresql(
    n_cases: int,
    n_events: int,
    rounds: int,
    strip: Callable[[Store], Store] = without_triggers,
    suffix: str = "",
) -> list[Row]:
    """The pair on two fresh PostgreSQL databases, the second one `strip`ped."""
    names = (f"{postgres.OURS_DB}{suffix}_kept", f"{postgres.OURS_DB}{suffix}_dropped")
    stores = []
    try:
        for name in names:
            postgres.recreate_database(name)
            store = Store(postgres.database_url(name))
            store.migrate()
            stores.append(store)
        pair = (stores[0], strip(stores[1]))
        return [
            Row(f"PostgreSQL, {r.name}", r.ours, r.reference, r.unit, r.target)
            for r in measure(pair, n_cases, n_events, rounds)
        ]
    finally:
        for store in stores:
            store.dispose()
        for name in names:
            postgres.recreate_database(name, create=False)


if __name__ == "__main__":
    main()
