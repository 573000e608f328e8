"""A bailiff's batch of referrals as a CSV file (columns in the README).

A small file is imported while the upload waits; a large one (over
`TATULASU_IMPORT_INLINE_MAX_BYTES`, or any with `background=true`) is queued as an import
job: 202 with its address, where progress, the first bad rows and a downloadable
report are read (`workflow.import_jobs`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.limits import size
from tatulasu.api.problems import MEDIA_TYPE, Problem, responses
from tatulasu.api.schemas import Model
from workflow import import_jobs
from workflow.errors import InvalidField, NotFound, ReportNotReady
from workflow.referral_import import import_referrals
from workflow.referral_rows import Referrer

router = APIRouter(tags=["referrals"])


class RowErrorOut(Model):
    line: int
    field: str
    reason: str


class RowOutcomeOut(Model):
    line: int
    status: str
    enforcement_proceeding: str | None
    case_id: int | None
    errors: list[RowErrorOut]


class ImportProblem(Problem):
    """A 422 answer: a problem document, with the import's report when rows were bad."""

    rows: int | None = None
    imported: int | None = None
    rejected: int | None = None
    outcomes: list[RowOutcomeOut] | None = None


class ImportOut(Model):
    rows: int
    imported: int
    rejected: int
    partial: bool
    delimiter: str
    ignored_columns: list[str]
    outcomes: list[RowOutcomeOut]
    errors: list[RowErrorOut]


class JobOut(Model):
    """An import job: where it stands, its counts, the first bad rows."""

    id: int
    status: str
    href: str
    report_href: str | None
    partial: bool
    filename: str
    size: int
    rows: int
    checked: int
    opened: int
    imported: int
    rejected: int
    errors: list[RowErrorOut]
    errors_total: int
    detail: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _job_out(job: import_jobs.JobView) -> JobOut:
    data: dict[str, Any] = job.to_dict()
    data["href"] = f"/imports/{job.id}"
    data["report_href"] = f"/imports/{job.id}/report.csv" if job.finished else None
    return JobOut.model_validate(data)


@router.post(
    "/referrals/import",
    response_model=ImportOut,
    responses={
        **responses(401, 403, 503),
        202: {"model": JobOut, "description": "A large file: queued as an import job"},
        422: {
            "model": ImportProblem,
            "description": "A bad file, or bad rows without `partial`: nothing was imported",
            "content": {MEDIA_TYPE: {}},
        },
    },
)
def import_csv(
    user: CurrentUser,
    app: Wired,
    file: Annotated[UploadFile, File(description="CSV, UTF-8 (BOM or not), `;` or `,`")],
    partial: Annotated[bool, Query(description="Import the good rows, report the bad")] = False,
    background: Annotated[
        bool | None,
        Query(description="Queue as an import job (default: only files over the inline size)"),
    ] = None,
) -> ImportOut | JSONResponse:
    """Refer enforcement disputes from a CSV file; every row is checked first.

    Without `partial`, one bad row means nothing is imported, and the answer (422) lists
    every bad row with its line and reason. With `partial=true` the good rows are
    imported and the bad ones listed (200). A large file (or `background=true`) is
    queued: 202 with the job, whose progress and report `GET /imports/{id}` gives.
    """
    require_role(user, "bailiff")
    limit = app.settings.max_csv_body_bytes  # the whole body is already within it
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidField("file", f"is larger than {size(limit)}: split it")
    if not data.strip():
        raise InvalidField("file", "is empty: the first line must name the columns")
    referrer = Referrer(user, region=user.region, centre=user.centre)
    if background is None:
        background = len(data) > app.settings.import_inline_max_bytes
    if background:
        now = app.engine.clock.now()
        with app.store.transaction() as conn:
            job_id = import_jobs.submit(
                conn, referrer, data, filename=file.filename or "", partial=partial, now=now
            )
            job = import_jobs.get(conn, job_id)
        queued = _job_out(job).model_dump(mode="json")
        return JSONResponse(queued, status_code=202, headers={"Location": queued["href"]})
    report = import_referrals(app.engine, data, referrer, partial=partial)
    out = ImportOut.model_validate(report.to_dict())
    if report.rejected and not partial:
        first = report.errors[0]
        body = {
            "type": "urn:tatulasu:problem:invalid-rows",
            "title": "Rows of the file are not valid; nothing was imported",
            "status": 422,
            "detail": f"{report.rejected} of {report.rows} rows are bad; first: {first}",
            "field": first.field,
            **out.model_dump(),
        }
        return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)
    return out


def _readable_job(app: Wired, user: CurrentUser, job_id: int) -> import_jobs.JobView:
    with app.store.reading() as conn:
        job = import_jobs.get(conn, job_id)
    if not import_jobs.may_read(user, job):
        raise NotFound("import", job_id)  # another's job: as if there were none
    return job


JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The import job's id")]


@router.get("/imports", response_model=list[JobOut], responses=responses(401))
def list_jobs(
    user: CurrentUser,
    app: Wired,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[JobOut]:
    """The latest import jobs: a bailiff's own, a supervisor's region's, all for an admin."""
    with app.store.reading() as conn:
        return [_job_out(job) for job in import_jobs.mine(conn, user, limit)]


@router.get("/imports/{job_id}", response_model=JobOut, responses=responses(401, 404))
def get_job(user: CurrentUser, app: Wired, job_id: JobId) -> JobOut:
    """Where an import job stands: queued, checking, opening, done, refused or failed."""
    return _job_out(_readable_job(app, user, job_id))


@router.get(
    "/imports/{job_id}/report.csv",
    response_class=Response,
    responses={
        **responses(401, 404, 409),
        200: {"content": {"text/csv": {}}, "description": "One line per row"},
    },
)
def job_report(user: CurrentUser, app: Wired, job_id: JobId) -> Response:
    """The finished job's report: every rejected row with its reasons, then every opened
    row with its case (a refused all-or-nothing file lists its bad rows)."""
    job = _readable_job(app, user, job_id)
    with app.store.reading() as conn:
        text = import_jobs.report(conn, job_id)
    if text is None:
        raise ReportNotReady(job_id, job.status)
    name = f"import-{job_id}-report.csv"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
