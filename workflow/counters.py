"""The running totals the database keeps for `/metrics`: read without counting a table.

Triggers keep them (`workflow/migrations/counters.py`): cases by state, history records
by event, outbox messages by status, terms missed. On PostgreSQL the changes first land
in `metric_deltas` (many writers, no shared row to lock) and a total is the sum of its
row and its deltas; `fold` adds the deltas to the totals now and then (the clock's sweep
does it), so that a read stays short. Both reads and folds see whole transactions only:
a total is never half of an event.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import metric_counts, metric_deltas

# Held by the one fold that runs at a time (two folds could lock the totals' rows in
# different orders and deadlock); a fold that finds it taken leaves the work to the other.
FOLD_LOCK = 0x7461_7475_6C61_0001

Totals = dict[str, dict[str, int]]


def totals(conn: Connection) -> Totals:
    """Every running total: `totals(conn)["cases"]["in_mediation"]`."""
    both = sa.union_all(
        sa.select(metric_counts.c.metric, metric_counts.c.label, metric_counts.c.n),
        sa.select(metric_deltas.c.metric, metric_deltas.c.label, metric_deltas.c.n),
    ).subquery()
    summed = sa.select(both.c.metric, both.c.label, sa.func.sum(both.c.n)).group_by(
        both.c.metric, both.c.label
    )
    found: Totals = defaultdict(dict)
    for metric, label, n in conn.execute(summed):
        found[str(metric)][str(label)] = int(n)
    return found


def fold(conn: Connection) -> int:
    """Add the pending deltas to the totals (PostgreSQL; SQLite has none); totals changed."""
    if conn.dialect.name != "postgresql":
        return 0
    if not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(FOLD_LOCK))).scalar_one():
        return 0
    return int(conn.execute(_FOLD).rowcount or 0)


# One statement: the deltas deleted are the deltas added (rows a concurrent writer commits
# meanwhile are not in this statement's snapshot, so they wait for the next fold).
_FOLD = sa.text(
    "WITH moved AS (DELETE FROM metric_deltas RETURNING metric, label, n)"
    " INSERT INTO metric_counts (metric, label, n)"
    " SELECT metric, label, sum(n) FROM moved GROUP BY metric, label"
    " ON CONFLICT (metric, label) DO UPDATE SET n = metric_counts.n + EXCLUDED.n"
)
