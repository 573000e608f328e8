"""Import jobs: a bailiff's large file, checked and opened in the background, with progress.

`submit` stores the file as a queued job and returns at once; a runner (the clock's
import lane: the embedded clock thread, or the Celery beat's `tatulasu.imports` task)
`claim`s the oldest due job with a lease, like the outbox, and `run`s it through
`workflow.referral_import.run_import`. Progress (rows checked, rows opened) is written
as the job goes, in short transactions of its own, and read back with `get`.

Finishing is atomic with the work: an all-or-nothing job's last batch, its report and
its `done` status commit in the one transaction that opens every row, so a runner that
dies mid-file leaves nothing opened and the job is claimed again when its lease ends. A
`partial` job commits batch by batch; one interrupted while opening is not run again
(it would meet its own rows) but marked failed, saying how far it got — the same file
uploaded again opens only the rows still missing, the others being open twins.

The answer names at most `MAX_ERRORS` bad rows; the downloadable report (`report`) has
one line per rejected row, then one per opened row with its case.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import spreadsheet, users
from workflow.engine import Engine
from workflow.errors import InvalidField, InvalidInput, NotFound, TatulasuError
from workflow.referral_import import ImportSummary, RowOutcome, run_import
from workflow.referral_rows import Referrer
from workflow.schema import import_jobs
from workflow.store import utc
from workflow.users import User

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3
RUNNING = ("checking", "opening")
FINISHED = ("done", "refused", "failed")
REPORT_HEADER = ("line", "status", "enforcement_proceeding", "case_id", "field", "reason")


@dataclass(frozen=True)
class JobView:
    """What the bailiff (and his supervisor) read about an import job."""

    id: int
    actor: str
    region: str | None
    status: str
    partial: bool
    filename: str
    size: int
    rows: int
    checked: int
    opened: int
    imported: int
    rejected: int
    errors: list[dict[str, Any]]
    errors_total: int
    detail: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def submit(
    conn: Connection,
    referrer: Referrer,
    data: bytes,
    *,
    filename: str,
    partial: bool,
    now: datetime,
) -> int:
    """Queue a file; its id. Nothing is checked here but what the upload itself checked."""
    bailiff = referrer.bailiff
    return int(
        conn.execute(
            import_jobs.insert()
            .values(
                actor=bailiff.id,
                role=bailiff.role,
                region=referrer.region,
                centre=referrer.centre,
                partial=partial,
                filename=filename[:200],
                size=len(data),
                data=data,
                status="queued",
                rows=0,
                checked=0,
                opened=0,
                imported=0,
                rejected=0,
                attempts=0,
                detail="",
                errors="[]",
                created_at=now,
            )
            .returning(import_jobs.c.id)
        ).scalar_one()
    )


_VIEW_COLUMNS = [c for c in import_jobs.c if c.name not in ("data", "report")]


def get(conn: Connection, job_id: int) -> JobView:
    row = conn.execute(sa.select(*_VIEW_COLUMNS).where(import_jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound("import", job_id)
    return _view(row)


def mine(conn: Connection, user: User, limit: int = 20) -> list[JobView]:
    """A bailiff's latest jobs (a supervisor's: his region's; an admin's: all)."""
    query = sa.select(*_VIEW_COLUMNS).order_by(import_jobs.c.id.desc()).limit(limit)
    if user.role == "supervisor":
        query = query.where(import_jobs.c.region == user.region)
    elif user.role != "admin":
        query = query.where(import_jobs.c.actor == user.id)
    return [_view(r) for r in conn.execute(query)]


def may_read(user: User, job: JobView) -> bool:
    """The bailiff who sent it, a supervisor of its region, an admin."""
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return job.region is not None and job.region == user.region
    return user.id == job.actor


def report(conn: Connection, job_id: int) -> str | None:
    """The job's report as CSV text (None until the job has finished)."""
    return conn.execute(
        sa.select(import_jobs.c.report).where(import_jobs.c.id == job_id)
    ).scalar_one_or_none()


def _view(row: Any) -> JobView:
    stored = json.loads(row.errors)
    errors = stored.get("first", []) if isinstance(stored, dict) else stored
    total = stored.get("total", len(errors)) if isinstance(stored, dict) else len(errors)

    def at(moment: datetime | None) -> datetime | None:
        return utc(moment) if moment is not None else None

    return JobView(
        id=row.id,
        actor=row.actor,
        region=row.region,
        status=row.status,
        partial=bool(row.partial),
        filename=row.filename,
        size=row.size,
        rows=row.rows,
        checked=row.checked,
        opened=row.opened,
        imported=row.imported,
        rejected=row.rejected,
        errors=errors,
        errors_total=total,
        detail=row.detail,
        created_at=utc(row.created_at),
        started_at=at(row.started_at),
        finished_at=at(row.finished_at),
    )


# ---------------------------------------------------------------------------- running


def claim(engine: Engine) -> int | None:
    """Lease the oldest job due to run (queued, or whose runner's lease ran out)."""
    now = engine.clock.now()
    with engine.store.transaction() as conn:
        # A partial job cut off while opening has committed some rows: not run again.
        conn.execute(
            import_jobs.update()
            .where(
                import_jobs.c.status == "opening",
                import_jobs.c.partial,
                import_jobs.c.lease_until < now,
            )
            .values(
                status="failed",
                finished_at=now,
                data=None,
                detail=sa.literal("interrupted after ")
                + sa.cast(import_jobs.c.opened, sa.String)
                + sa.literal(
                    " rows: the rows after them were not imported; upload the same file"
                    " again with partial to open the rest (rows already opened are refused"
                    " as open)"
                ),
            )
        )
        due = (
            sa.select(import_jobs.c.id)
            .where(
                sa.or_(
                    import_jobs.c.status == "queued",
                    sa.and_(import_jobs.c.status.in_(RUNNING), import_jobs.c.lease_until < now),
                )
            )
            .order_by(import_jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        job_id = conn.execute(due).scalar_one_or_none()
        if job_id is None:
            return None
        conn.execute(
            import_jobs.update()
            .where(import_jobs.c.id == job_id)
            .values(
                status="checking",
                attempts=import_jobs.c.attempts + 1,
                lease_until=now + LEASE,
                started_at=sa.func.coalesce(import_jobs.c.started_at, now),
                rows=0,
                checked=0,
                opened=0,
                imported=0,
                rejected=0,
            )
        )
        return int(job_id)


def run_due(engine: Engine, budget_seconds: float | None = None) -> int:
    """Run due jobs one after another (until none is due, or the budget is spent)."""
    started = engine.clock.now()
    ran = 0
    while (job_id := claim(engine)) is not None:
        run(engine, job_id)
        ran += 1
        spent = (engine.clock.now() - started).total_seconds()
        if budget_seconds is not None and spent >= budget_seconds:
            break
    return ran


def run(engine: Engine, job_id: int) -> JobView:
    """Check and open a claimed job's file; record the outcome and the report."""
    with engine.store.reading() as conn:
        job = conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id)).one()
    if job.attempts > MAX_ATTEMPTS:
        _finish(engine, job_id, "failed", None, None, f"gave up after {MAX_ATTEMPTS} attempts")
        return _get(engine, job_id)
    runner = _Runner(engine, job)
    try:
        summary = runner.run()
    except InvalidInput as exc:  # the file itself: not UTF-8, a missing column, no rows
        _finish(engine, job_id, "failed", None, runner.report_text(), str(exc))
    except TatulasuError as exc:  # the store went away: the lease ends, it runs again
        log.warning("import %s interrupted: %s", job_id, exc)
        raise
    else:
        if not runner.finished:  # partial: the last batches committed; now the verdict
            status = "refused" if summary.rejected and not summary.partial else "done"
            _finish(engine, job_id, status, summary, runner.report_text(), "")
    return _get(engine, job_id)


def _get(engine: Engine, job_id: int) -> JobView:
    with engine.store.reading() as conn:
        return get(conn, job_id)


def _finish(
    engine: Engine,
    job_id: int,
    status: str,
    summary: ImportSummary | None,
    report_text: str | None,
    detail: str,
    conn: Connection | None = None,
) -> None:
    values = _finished_values(status, summary, report_text, detail, engine.clock.now())
    statement = import_jobs.update().where(import_jobs.c.id == job_id).values(**values)
    if conn is not None:
        conn.execute(statement)
        return
    with engine.store.transaction() as own:
        own.execute(statement)


def _finished_values(
    status: str,
    summary: ImportSummary | None,
    report_text: str | None,
    detail: str,
    now: datetime,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "lease_until": None,
        "data": None,
        "detail": detail,
        "report": report_text,
    }
    if summary is not None:
        first = [asdict(e) for e in summary.first_errors]
        values.update(
            rows=summary.rows,
            checked=summary.rows,
            imported=summary.imported,
            rejected=summary.rejected,
            errors=json.dumps({"first": first, "total": summary.errors_total}),
        )
    return values


class _Runner:
    """One run of one job: the import, its progress and its report lines."""

    def __init__(self, engine: Engine, job: Any) -> None:
        self.engine = engine
        self.job = job
        self.finished = False
        self._rejected = io.StringIO()
        self._opened = io.StringIO()
        self._rejected.write(spreadsheet.row(REPORT_HEADER))
        self._last_write = engine.clock.now()

    def run(self) -> ImportSummary:
        with self.engine.store.reading() as conn:
            bailiff = users.by_id(conn, self.job.actor)
        if bailiff is None or not bailiff.active:
            raise InvalidField("actor", f"{self.job.actor!r} is no longer an active user")
        referrer = Referrer(bailiff, region=self.job.region, centre=self.job.centre)
        return run_import(
            self.engine,
            self.job.data or b"",
            referrer,
            self.emit,
            partial=bool(self.job.partial),
            progress=self.progress,
            list_unopened=False,
            on_commit=None if self.job.partial else self.finish_in,
            forget=self.forget_opened,
        )

    def forget_opened(self) -> None:
        """The file was rolled back: the rows reported opened were not."""
        self._opened = io.StringIO()

    def emit(self, outcome: RowOutcome) -> None:
        out = self._opened if outcome.status == "imported" else self._rejected
        start = (outcome.line, outcome.status, outcome.enforcement_proceeding or "")
        if not outcome.errors:
            out.write(spreadsheet.row((*start, outcome.case_id or "", "", "")))
        for e in outcome.errors:
            out.write(spreadsheet.row((*start, "", e.field, e.reason)))

    def report_text(self) -> str:
        return self._rejected.getvalue() + self._opened.getvalue()

    def progress(self, phase: str, done: int, total: int | None) -> None:
        """Write progress and renew the lease, at most once a second."""
        now = self.engine.clock.now()
        if (now - self._last_write).total_seconds() < 1.0:
            return
        if phase == "opening" and not self.job.partial and self.engine.store.is_sqlite:
            return  # SQLite: the opening transaction holds the only write lock
        self._last_write = now
        values: dict[str, Any] = {"status": phase, "lease_until": now + LEASE}
        if phase == "checking":
            values["checked"] = done
        else:
            values.update(opened=done, rows=total or 0, checked=total or 0)
        with self.engine.store.transaction() as conn:
            conn.execute(
                import_jobs.update().where(import_jobs.c.id == self.job.id).values(**values)
            )

    def finish_in(self, conn: Connection, summary: ImportSummary) -> None:
        """All or nothing: the verdict commits in the transaction that opened the rows."""
        _finish(self.engine, self.job.id, "done", summary, self.report_text(), "", conn)
        self.finished = True
