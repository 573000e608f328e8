"""Moving open cases to a newer lifecycle version, beside the engine's direct event rate.

A store is filled with open version 1 cases (half referred, half accepted: pre-trial,
whose term the move restarts, so its timers are replaced), then the engine's direct
event rate (`record_consultation`, one transaction each) is measured on the same store,
and `workflow.moves.move_cases` moves every open case to version 2 (one transaction
per case, recorded in its history). SQLite (WAL), and PostgreSQL when reachable; a
sample of the moved cases is checked by `audit verify`. Target: cases/s ≥ 0.5× the
direct event rate.

    python -m bench.migrate            # 100,000 open cases per database
    python -m bench.migrate --quick    # 400 (smoke test)
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from bench import postgres
from bench.common import PARTIES, Row, consultation, parser, print_table, rate, sqlite_store
from workflow import audit, moves
from workflow.commands import FireEvent, OpenCase
from workflow.engine import Engine
from workflow.store import Store

BATCH = 1_000


def fill(store: Store, n: int) -> list[int]:
    """`n` open version 1 cases, half of them accepted (pre-trial); their ids."""
    engine = Engine(store, opens_version=1)
    ids: list[int] = []
    for start in range(0, n, BATCH):
        cmds = [
            OpenCase(
                event="refer", actor="coordinator-1", role="coordinator", region="AST",
                centre="Astana Tatulasu centre", parties=PARTIES, subject=f"dispute {i}",
            )
            for i in range(start, min(n, start + BATCH))
        ]  # fmt: skip
        with store.transaction() as conn:
            ids += [done.case_id for done in engine.open_cases_in(conn, cmds)]
    for case_id in ids[::2]:
        engine.fire(FireEvent(case_id, "accept", "coordinator-1", "coordinator"))
    return ids


def measure(store: Store, n_cases: int, n_events: int, label: str) -> list[Row]:
    ids = fill(store, n_cases)
    engine = Engine(store)
    sample = random.Random(1).sample(ids, min(len(ids), n_events))
    position = 0

    def one() -> object:
        nonlocal position
        position += 1
        return engine.fire(consultation(sample[position % len(sample)]))

    rate(min(100, n_events), one)  # warm
    direct = rate(n_events, one)
    started = time.perf_counter()
    report = moves.move_cases(engine, 1, 2, "bench")
    seconds = time.perf_counter() - started
    assert len(report.moved) == n_cases and not report.unplaced, report.unplaced[:3]
    with store.reading() as conn:
        checked = audit.verify(conn, case_ids=ids[:: max(1, n_cases // 200)], decider=engine)
    assert checked.ok, checked.breaks[:3]
    return [
        Row(
            f"{label}, {n_cases:,} open cases moved: cases/s",
            n_cases / seconds,
            direct,
            "/s",
            "≥ 0.5× the direct event rate",
        )
    ]


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--cases", type=int, help="open cases per database (default 100,000)")
    args = p.parse_args()
    n_cases, n_events = (400, 200) if args.quick else (args.cases or 100_000, 5_000)
    with tempfile.TemporaryDirectory() as tmp:
        store = sqlite_store(Path(tmp) / "migrate.db")
        try:
            report(measure(store, n_cases, n_events, "SQLite"))
        finally:
            store.dispose()
    if not postgres.reachable():
        print("PostgreSQL is not reachable: its rows are left out")
        return
    name = f"{postgres.OURS_DB}_migrate"
    postgres.recreate_database(name)
    store = Store(postgres.database_url(name))
    try:
        store.migrate()
        report(measure(store, n_cases, n_events, "PostgreSQL"))
    finally:
        store.dispose()
        postgres.recreate_database(name, create=False)


def report(rows: list[Row]) -> None:
    """Each database's table as soon as it is measured (a full run takes a while)."""
    print_table(
        "Moving open cases from lifecycle version 1 to 2, one transaction per case",
        rows,
        "direct events/s",
    )


if __name__ == "__main__":
    main()
