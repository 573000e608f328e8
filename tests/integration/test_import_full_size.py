"""A bailiff's file of 200,000 rows on the real PostgreSQL, all or nothing.

The import job runs in a process of its own (as a worker would) while this test plays
another client: it reads a case and refers a dispute through the API every moment, and
is answered while the import runs, no session of the database ever waiting for a lock
(sampled from `pg_stat_activity`: a request the import blocked would wait there until
its commit). No time limit is asserted: how long an answer takes on a loaded machine is
the benchmark's to measure (`bench/imports.py`), not a test's. One bad row: nothing is
stored. No bad row: all 200,000 cases open in one transaction without exhausting the
server's lock table (the default `max_locks_per_transaction`), and the job's memory
stays bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tatulasu.api import create_app
from tests.conftest import BIN_A, make_iin
from tests.e2e.api.conftest import OSKEMEN, add_people, enforcement_referral, wire
from workflow import import_jobs
from workflow.calendar import BusinessCalendar
from workflow.clock import SystemClock
from workflow.referral_rows import Referrer
from workflow.schema import audit_events, cases, parties, timers
from workflow.store import Store
from workflow.users import User

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 200_000
HEADER = (
    "enforcement_proceeding,proceeding_opened_on,centre,debtor_name,debtor_iin_bin,"
    "debtor_phone,creditor_name,creditor_iin_bin,creditor_email\n"
)
MAX_RSS_GROWTH_MB = 100


def big_file(bad_line: int | None = None) -> bytes:
    """200,000 referrals of the Oskemen centre; `bad_line` (the file's line) has a bad IIN."""
    iins = [make_iin(100 + 3 * k) for k in range(1000)]
    out = [HEADER]
    for i in range(ROWS):
        iin = "000000000000" if bad_line == i + 2 else iins[i % len(iins)]
        out.append(
            f"BIG-{i},01.03.2024,{OSKEMEN},Debtor {i},{iin},8 701 123 45 67,"
            f"Altai LLP,{BIN_A},debt@altai.kz\n"
        )
    return "".join(out).encode()


class Other:
    """Another client of the same API, asking every 0.2 s while the import runs, and a
    watcher of the database's sessions that notes every one found waiting for a lock."""

    def __init__(self, client: TestClient, token: str, case_id: int, store: Store) -> None:
        self.client, self.case_id, self.store = client, case_id, store
        self.auth = {"Authorization": f"Bearer {token}"}
        self.latencies: list[float] = []  # printed, never asserted
        self.answered_during = 0  # answers that came while the import still ran
        self.failures: list[str] = []
        self.lock_waits: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, daemon=True),
            threading.Thread(target=self._watch, daemon=True),
        ]

    def __enter__(self) -> Other:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(0.2):
            n += 1
            started = time.perf_counter()
            read = self.client.get(f"/cases/{self.case_id}", headers=self.auth)
            body = enforcement_referral(f"OTHER-{n}")
            wrote = self.client.post("/cases", json=body, headers=self.auth)
            self.latencies.append(time.perf_counter() - started)
            self.answered_during += not self._stop.is_set()
            for answer in (read, wrote):
                if answer.status_code >= 300:
                    self.failures.append(f"{answer.status_code} {answer.text[:200]}")

    def _watch(self) -> None:
        waiting = sa.text(
            "SELECT pid, left(query, 120) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        with self.store.engine.connect() as conn:
            while not self._stop.wait(0.05):
                self.samples += 1
                found = conn.execute(waiting).all()
                conn.rollback()  # a fresh snapshot of the activity each time
                self.lock_waits += [f"{pid}: {query}" for pid, query in found]


@pytest.fixture
def setting(pg_store: Store, calendar: BusinessCalendar) -> Iterator[tuple[TestClient, str, int]]:
    wired = wire(pg_store, SystemClock(), calendar)  # type: ignore[arg-type]
    tokens = add_people(wired)
    with TestClient(create_app(wired)) as client:
        auth = {"Authorization": f"Bearer {tokens['bailiff-vko']}"}
        first = client.post("/cases", json=enforcement_referral("FIRST-1"), headers=auth)
        assert first.status_code == 201, first.text
        yield client, tokens["bailiff-vko"], int(first.json()["case_id"])


def queue(store: Store, data: bytes) -> int:
    bailiff = User("bailiff-vko", "Bailiff East", "bailiff", region="VKO")
    with store.transaction() as conn:
        return import_jobs.submit(
            conn,
            Referrer(bailiff, "VKO"),
            data,
            filename="big.csv",
            partial=False,
            now=SystemClock().now(),
        )


def run_job_elsewhere(store: Store) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.import_runner", store.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def count(store: Store, table: sa.Table, where: sa.ColumnElement[bool] | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    with store.reading() as conn:
        return int(conn.execute(query).scalar_one())


def check_the_other_client(other: Other) -> None:
    assert other.failures == []
    assert other.answered_during >= 5, "the other client was not answered while the import ran"
    assert other.samples >= 20 and other.lock_waits == []
    print(f"\nthe other client's slowest answer: {max(other.latencies):.2f} s (not a limit)")


def check_memory(result: dict[str, object]) -> None:
    growth_mb = (int(result["rss_peak_kb"]) - int(result["rss_before_kb"])) / 1024  # type: ignore[call-overload]
    assert growth_mb <= MAX_RSS_GROWTH_MB, f"peak RSS grew by {growth_mb:.0f} MB"


def test_one_bad_row_in_200000_stores_nothing(
    pg_store: Store, setting: tuple[TestClient, str, int]
) -> None:
    client, token, case_id = setting
    job_id = queue(pg_store, big_file(bad_line=ROWS + 1))  # the very last row
    before = count(pg_store, cases)
    with Other(client, token, case_id, pg_store) as other:
        result = run_job_elsewhere(pg_store)
    assert (result["job"], result["status"]) == (job_id, "refused")
    assert (result["rows"], result["imported"], result["rejected"]) == (ROWS, 0, 1)
    assert count(pg_store, cases, cases.c.enforcement_proceeding.like("BIG-%")) == 0
    assert count(pg_store, cases) == before + len(other.latencies)  # only the other's
    with pg_store.reading() as conn:
        job = import_jobs.get(conn, job_id)
    assert job.errors == [
        {"line": ROWS + 1, "field": "debtor_iin_bin", "reason": job.errors[0]["reason"]}
    ]
    check_the_other_client(other)
    check_memory(result)


def test_200000_rows_open_in_one_transaction_without_exhausting_locks(
    pg_store: Store, setting: tuple[TestClient, str, int]
) -> None:
    client, token, case_id = setting
    with pg_store.reading() as conn:
        locks = conn.exec_driver_sql("SHOW max_locks_per_transaction").scalar_one()
    job_id = queue(pg_store, big_file())
    with Other(client, token, case_id, pg_store) as other:
        result = run_job_elsewhere(pg_store)
    assert (result["job"], result["status"]) == (job_id, "done"), result
    assert (result["rows"], result["imported"], result["rejected"]) == (ROWS, ROWS, 0)
    big = cases.c.enforcement_proceeding.like("BIG-%")
    assert count(pg_store, cases, big) == ROWS
    ids = sa.select(cases.c.id).where(big).scalar_subquery()
    assert count(pg_store, audit_events, audit_events.c.case_id.in_(ids)) == ROWS
    assert count(pg_store, parties, parties.c.case_id.in_(ids)) == 2 * ROWS
    assert count(pg_store, timers, timers.c.case_id.in_(ids)) > 0
    check_the_other_client(other)
    check_memory(result)
    print(f"\n200,000 rows in {result['seconds']} s; max_locks_per_transaction={locks}")
