"""The running counts on the case row agree with the history they summarise.

A year of the demo (real engine, simulated clock, sweeps firing reminders, escalations
and expiries) is recounted case by case from `audit_events`; the report built from the
counts is checked against one built from the recount; and migration 0004's backfill is
checked by taking the schema back to 0003 and up again.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tatulasu.demo.run import run_demo
from workflow import summary, tallies
from workflow.schema import cases
from workflow.store import Store, utc

COUNTS = ("consultations", "sessions", "reminders", "escalations", "terms_missed")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("tallies") / "demo.db"
    url = f"sqlite:///{path}"
    run_demo(url, cases=134, seed=7, progress=False)
    store = Store(url)
    yield store
    store.dispose()


def stored_and_recounted(store: Store) -> list[tuple[Any, dict[str, Any]]]:
    with store.reading() as conn:
        rows = conn.execute(sa.select(cases).order_by(cases.c.id)).all()
        return [(row, tallies.recount(conn, row.id)) for row in rows]


def assert_agree(store: Store) -> None:
    for row, recounted in stored_and_recounted(store):
        for name in COUNTS:
            assert getattr(row, name) == recounted[name], (row.id, name)
        if recounted["agreed_at"] is None:
            assert row.agreed_at is None and row.agreement_days is None, row.id
        else:
            assert utc(row.agreed_at) == utc(recounted["agreed_at"]), row.id
            days = tallies.days_between(row.opened_at, recounted["agreed_at"])
            assert row.agreement_days == pytest.approx(days, abs=1e-6), row.id


def test_every_case_counts_what_its_history_says(demo_store: Store) -> None:
    pairs = stored_and_recounted(demo_store)
    totals = Counter[str]()
    for row, _ in pairs:
        totals.update({name: getattr(row, name) for name in COUNTS})
    # The demo's year exercises every counter, so agreement below is not vacuous.
    assert all(totals[name] > 0 for name in COUNTS), totals
    assert_agree(demo_store)


def test_the_report_equals_one_built_from_the_history(demo_store: Store) -> None:
    pairs = stored_and_recounted(demo_store)
    with demo_store.reading() as conn:
        report = summary.summary(conn)
    assert report.consultations == sum(r["consultations"] for _, r in pairs)
    assert report.sessions == sum(r["sessions"] for _, r in pairs)
    assert report.reminders_sent == sum(r["reminders"] for _, r in pairs)
    assert report.escalations == sum(r["escalations"] for _, r in pairs)
    assert report.terms_missed == sum(r["terms_missed"] for _, r in pairs)
    days = sorted(
        (utc(r["agreed_at"]) - utc(row.opened_at)).total_seconds() / 86400
        for row, r in pairs
        if r["agreed_at"] is not None
    )
    assert report.days_to_agreement.count == len(days) > 0
    assert report.days_to_agreement.median == round(summary.percentile(days, 0.5) or 0, 1)
    assert report.days_to_agreement.p90 == round(summary.percentile(days, 0.9) or 0, 1)


def test_migration_0004_fills_the_counts_from_the_history(
    demo_store: Store, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    source = demo_store.url.removeprefix("sqlite:///")
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    store = Store(f"sqlite:///{copy}")
    try:
        store.downgrade("0003")
        with store.reading() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("cases")}
        assert not columns & set(COUNTS)
        store.migrate()
        assert_agree(store)
    finally:
        store.dispose()
