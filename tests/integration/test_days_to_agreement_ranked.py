"""SQLite's median and 90th percentile of the days to agreement come from four ranked
rows now, not from every day count sorted in Python; the figures must not move.

The ranked query runs on both databases, so it is held to `percentile` over the sorted
days and, on PostgreSQL, to `percentile_cont`, for counts with and without ties.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from workflow import summary
from workflow.schema import cases
from workflow.store import Store

WHEN = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def _store_days(store: Store, days: list[float]) -> None:
    rows = [
        {"definition_version": 1, "state": "settled", "version": 1, "origin": "party",
         "procedure": "mediation", "region": "VKO", "centre": "c", "language": "kk",
         "subject": "", "enforcement_suspended": False, "opened_at": WHEN, "updated_at": WHEN,
         "extensions_used": 0, "audit_head": "0" * 64, "agreement_days": d, "agreed_at": WHEN}
        for d in days
    ]  # fmt: skip
    with store.transaction() as conn:
        if rows:
            conn.execute(sa.insert(cases), rows)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 101, 1000])
def test_the_ranked_figures_are_the_sorted_ones(store: Store, n: int) -> None:
    rng = random.Random(n)
    days = [float(rng.choice([rng.randint(0, 40), rng.random() * 60])) for _ in range(n)]
    _store_days(store, days)
    agreed = [cases.c.agreement_days.is_not(None), cases.c.region == "VKO"]
    with store.reading() as conn:
        ranked = summary._ranked_durations(conn, agreed)
        whole = summary.summary(conn, region="VKO").days_to_agreement
    assert ranked == summary._durations(sorted(days))
    assert whole == ranked  # percentile_cont on PostgreSQL, the ranks on SQLite
