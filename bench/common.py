"""What every benchmark shares: a fresh store, opened cases, timing and the printed table.

Each benchmark prints one table whose rows put our number beside a reference measured in
the same run on the same machine, with the ratio; targets are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workflow.commands import FireEvent, OpenCase, PartyInput
from workflow.engine import Engine
from workflow.store import Store

PARTIES = (
    PartyInput("claimant", "Aigerim Sarsenova", "900101300017", email="a@example.kz"),
    PartyInput("respondent", "Bolat Nurlanov", "900101400013", phone="+77010000000"),
)


@dataclass(frozen=True)
class Row:
    """One line of a result table: ours beside the reference."""

    name: str
    ours: float
    reference: float
    unit: str
    target: str = ""
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.ours / self.reference if self.reference else float("inf")
        return self.reference / self.ours if self.ours else float("inf")


def print_table(title: str, rows: Sequence[Row], reference_name: str) -> None:
    """The table the smoke test looks for: ours, reference, ratio, target."""
    print(f"\n{title}")
    head = f"{'measure':<46} {'ours':>14} {reference_name:>14} {'ratio':>8}  target"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.name:<46} {_fmt(r.ours):>14} {_fmt(r.reference):>14} {r.ratio:>7.2f}x  {r.target}"
        )
    print(f"(units: {', '.join(sorted({r.unit for r in rows}))}; ratio > 1 means ours is better)")


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def rate(n: int, action: Callable[[], object]) -> float:
    """Calls per second of `action`, run `n` times with the garbage collector as usual."""
    start = time.perf_counter()
    for _ in range(n):
        action()
    return n / (time.perf_counter() - start)


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` takes."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def sqlite_store(path: Path) -> Store:
    """A fresh SQLite file (WAL) with the current schema."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(f"sqlite:///{path}")
    store.migrate()
    return store


def open_cases(engine: Engine, n: int, event: str = "refer") -> list[int]:
    """Open `n` cases through the engine (pre-trial after `accept` when asked)."""
    ids = []
    for i in range(n):
        applied = engine.open_case(
            OpenCase(
                event=event,
                actor="coordinator-1",
                role="coordinator",
                region="AST",
                centre="Astana Tatulasu centre",
                parties=PARTIES,
                subject=f"bench dispute {i}",
            )
        )
        ids.append(applied.case_id)
    return ids


def consultation(case_id: int) -> FireEvent:
    """The event the persisted benchmarks fire: recorded, no state change, no payload."""
    return FireEvent(
        case_id=case_id, event="record_consultation", actor="mediator-1", role="coordinator"
    )


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a run of a few seconds (smoke test)")
    return p


def round_robin(ids: Sequence[int], n: int) -> Iterable[int]:
    for i in range(n):
        yield ids[i % len(ids)]
