"""Import jobs: queued, claimed with a lease, run to a verdict, resumed when a runner dies."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import BIN_A, Desk, make_iin
from workflow import import_jobs, referral_import
from workflow.engine import Engine
from workflow.errors import StoreUnavailable
from workflow.referral_rows import Referrer
from workflow.schema import audit_events, cases
from workflow.schema import import_jobs as jobs_table
from workflow.users import User

HEADER = (
    "enforcement_proceeding,proceeding_opened_on,centre,debtor_name,debtor_iin_bin,"
    "creditor_name,creditor_iin_bin"
)
BAILIFF = User("bailiff-7", "B", "bailiff", region="VKO")


def _file(n: int, bad: set[int] = frozenset(), prefix: str = "EP") -> bytes:  # type: ignore[assignment]
    rows = []
    for i in range(n):
        iin = "123" if i in bad else make_iin(300 + i)
        rows.append(
            f"{prefix}-{i},01.03.2024,Oskemen Tatulasu centre,Debtor {i},{iin},Altai LLP,{BIN_A}"
        )
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _submit(desk: Desk, data: bytes, partial: bool = False) -> int:
    desk.register("bailiff-7", role="bailiff")
    with desk.store.transaction() as conn:
        return import_jobs.submit(
            conn,
            Referrer(BAILIFF, "VKO"),
            data,
            filename="referrals.csv",
            partial=partial,
            now=desk.engine.clock.now(),
        )


def _count(desk: Desk, table: sa.Table = cases) -> int:
    with desk.store.reading() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _report(desk: Desk, job_id: int) -> list[dict[str, str]]:
    with desk.store.reading() as conn:
        text = import_jobs.report(conn, job_id)
    assert text is not None
    return list(csv.DictReader(io.StringIO(text)))


def _job(desk: Desk, job_id: int) -> import_jobs.JobView:
    with desk.store.reading() as conn:
        return import_jobs.get(conn, job_id)


def test_a_good_file_runs_to_done_with_a_report_naming_each_case(desk: Desk) -> None:
    job_id = _submit(desk, _file(1200))
    assert _job(desk, job_id).status == "queued"
    assert import_jobs.run_due(desk.engine) == 1
    job = _job(desk, job_id)
    assert (job.status, job.rows, job.imported, job.rejected) == ("done", 1200, 1200, 0)
    assert job.finished_at is not None and job.errors == []
    assert _count(desk) == 1200 and _count(desk, audit_events) == 1200
    lines = _report(desk, job_id)
    assert len(lines) == 1200 and {r["status"] for r in lines} == {"imported"}
    with desk.store.reading() as conn:
        stored = dict(conn.execute(sa.select(cases.c.enforcement_proceeding, cases.c.id)).all())
        data = conn.execute(sa.select(jobs_table.c.data)).scalar_one()
    assert all(stored[r["enforcement_proceeding"]] == int(r["case_id"]) for r in lines)
    assert data is None  # the file is not kept once the job has ended
    assert import_jobs.run_due(desk.engine) == 0  # nothing runs twice


def test_bad_rows_refuse_the_file_naming_the_first_hundred_and_reporting_all(desk: Desk) -> None:
    bad = set(range(0, 300, 2))  # 150 bad rows
    job_id = _submit(desk, _file(300, bad))
    import_jobs.run_due(desk.engine)
    job = _job(desk, job_id)
    assert (job.status, job.rows, job.imported, job.rejected) == ("refused", 300, 0, 150)
    assert len(job.errors) == referral_import.MAX_ERRORS and job.errors_total == 150
    assert job.errors[0] == {
        "line": 2,
        "field": "debtor_iin_bin",
        "reason": job.errors[0]["reason"],
    }
    assert _count(desk) == 0
    lines = _report(desk, job_id)
    assert sorted(int(r["line"]) for r in lines) == sorted(i + 2 for i in bad)


def test_partial_opens_the_good_rows_and_reports_the_bad(desk: Desk) -> None:
    job_id = _submit(desk, _file(40, {3, 30}), partial=True)
    import_jobs.run_due(desk.engine)
    job = _job(desk, job_id)
    assert (job.status, job.imported, job.rejected) == ("done", 38, 2)
    assert _count(desk) == 38
    lines = _report(desk, job_id)
    assert [r["line"] for r in lines[:2]] == ["5", "32"]  # the rejected ones come first


def test_a_file_that_cannot_be_read_fails_saying_why(desk: Desk) -> None:
    job_id = _submit(desk, b"proceeding;debtor\nEP-1;X\n")
    import_jobs.run_due(desk.engine)
    job = _job(desk, job_id)
    assert job.status == "failed" and "missing column(s)" in job.detail
    assert _count(desk) == 0


def test_a_bailiff_deactivated_before_his_file_ran_opens_nothing(desk: Desk) -> None:
    job_id = _submit(desk, _file(3))
    with desk.store.transaction() as conn:
        conn.execute(sa.text("UPDATE users SET active = false WHERE id = 'bailiff-7'"))
    import_jobs.run_due(desk.engine)
    job = _job(desk, job_id)
    assert job.status == "failed" and "no longer an active user" in job.detail
    assert _count(desk) == 0


def test_a_claimed_job_is_not_claimed_again_until_its_lease_ends(desk: Desk) -> None:
    job_id = _submit(desk, _file(5))
    assert import_jobs.claim(desk.engine) == job_id
    assert import_jobs.claim(desk.engine) is None
    desk.clock.advance(import_jobs.LEASE + timedelta(seconds=1))
    assert import_jobs.claim(desk.engine) == job_id  # the first runner died
    import_jobs.run(desk.engine, job_id)
    assert _job(desk, job_id).status == "done" and _count(desk) == 5


def test_a_runner_that_dies_while_opening_leaves_nothing_and_the_job_runs_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _submit(desk, _file(1200))
    real = Engine.open_cases_in
    calls = {"n": 0}

    def dies_on_the_second_batch(self: Engine, conn: Any, cmds: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise StoreUnavailable("database unavailable: the connection was lost")
        return real(self, conn, cmds)

    monkeypatch.setattr(Engine, "open_cases_in", dies_on_the_second_batch)
    with pytest.raises(StoreUnavailable):
        import_jobs.run_due(desk.engine)
    assert _count(desk) == 0  # the first batch was rolled back with the rest
    assert _job(desk, job_id).status in import_jobs.RUNNING
    monkeypatch.setattr(Engine, "open_cases_in", real)
    assert import_jobs.run_due(desk.engine) == 0  # its lease still holds
    desk.clock.advance(import_jobs.LEASE + timedelta(seconds=1))
    assert import_jobs.run_due(desk.engine) == 1
    job = _job(desk, job_id)
    assert (job.status, job.imported) == ("done", 1200)
    assert _count(desk) == 1200


def test_a_partial_job_cut_off_while_opening_is_failed_not_run_twice(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _submit(desk, _file(1200), partial=True)
    real = Engine.open_cases_in
    calls = {"n": 0}

    def dies_on_the_third_batch(self: Engine, conn: Any, cmds: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise StoreUnavailable("database unavailable: the connection was lost")
        return real(self, conn, cmds)

    monkeypatch.setattr(Engine, "open_cases_in", dies_on_the_third_batch)
    assert import_jobs.claim(desk.engine) == job_id
    with pytest.raises(StoreUnavailable):
        import_jobs.run(desk.engine, job_id)
    with desk.store.transaction() as conn:  # as the progress writes (once a second) leave it
        conn.execute(jobs_table.update().values(status="opening", opened=1000))
    opened = _count(desk)
    assert opened == 1000  # two batches of 500 committed
    monkeypatch.setattr(Engine, "open_cases_in", real)
    desk.clock.advance(import_jobs.LEASE + timedelta(seconds=1))
    assert import_jobs.run_due(desk.engine) == 0
    job = _job(desk, job_id)
    assert job.status == "failed" and "interrupted after 1000 rows" in job.detail
    assert _count(desk) == opened
    # The same file again, partial: only the missing rows open; the others are open twins.
    again = _submit(desk, _file(1200), partial=True)
    import_jobs.run_due(desk.engine)
    job = _job(desk, again)
    assert (job.imported, job.rejected) == (200, 1000) and _count(desk) == 1200


def test_a_preview_checks_every_row_and_opens_nothing(desk: Desk) -> None:
    desk.register("bailiff-7", role="bailiff")
    bad: list[referral_import.RowOutcome] = []
    summary = referral_import.run_import(
        desk.engine, _file(30, {4, 9}), Referrer(BAILIFF, "VKO"), bad.append, check_only=True
    )
    assert (summary.rows, summary.rejected, summary.imported) == (30, 2, 0)
    assert [o.line for o in bad] == [6, 11] and _count(desk) == 0


def test_a_file_rolled_back_in_its_third_batch_reports_no_row_as_opened(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened rows are reported batch by batch; a late refusal takes them back."""
    desk.refer_enforcement("EP-1100")  # a twin the check does not see (patched below)
    monkeypatch.setattr(referral_import, "_refuse_open_twins", lambda conn, batch: batch)
    job_id = _submit(desk, _file(1200))
    import_jobs.run_due(desk.engine)
    job = _job(desk, job_id)
    assert (job.status, job.imported, job.rejected) == ("refused", 0, 1)
    assert job.errors[0]["line"] == 1102 and job.errors[0]["field"] == "enforcement_proceeding"
    assert [r["status"] for r in _report(desk, job_id)] == ["rejected"]
    assert _count(desk) == 1
