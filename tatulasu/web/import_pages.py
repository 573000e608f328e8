"""An import job's page: where it stands, its counts, its first bad rows, its report.

Read by whoever `import_jobs.may_read` lets read it (the bailiff who sent it, a
supervisor of its region, an admin); anyone else is told there is no such import, as
the API tells him. While the job runs the page offers a link to itself: it does not
reload itself (a `<meta http-equiv="refresh">` moves the page under a reader who has not
finished it, WCAG 2.2.1's failure F41, and axe-core refuses it), and there is no script.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from tatulasu.api.auth import Wired
from tatulasu.web import referral_file
from tatulasu.web.errors import PageRoute
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import import_jobs
from workflow.errors import NotFound, ReportNotReady
from workflow.users import User

router = APIRouter(route_class=PageRoute)
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATUSES = {
    "queued": N_("Waiting to start"),
    "checking": N_("Checking the rows"),
    "opening": N_("Opening the cases"),
    "done": N_("Done"),
    "refused": N_("Refused: bad rows, nothing was opened"),
    "failed": N_("Failed"),
}


def readable(app: App, user: User, job_id: int) -> import_jobs.JobView:
    with app.store.reading() as conn:
        job = import_jobs.get(conn, job_id)
    if not import_jobs.may_read(user, job):
        raise NotFound("import", job_id)  # another's import: as if there were none
    return job


@router.get("/imports/{job_id}")
def import_page(request: Request, user: Viewer, app: Wired, job_id: JobId) -> Response:
    """Status, progress, counts, the first bad rows, the report."""
    job = readable(app, user, job_id)
    return render(
        request, "import.html", user, job=job, statuses=STATUSES,
        column=referral_file.column_title, reason=referral_file.reason,
    )  # fmt: skip


@router.get("/imports/{job_id}/report.csv")
def import_report(user: Viewer, app: Wired, job_id: JobId) -> Response:
    """The finished job's report, as the API gives it: each bad row, then each opened one."""
    job = readable(app, user, job_id)
    with app.store.reading() as conn:
        text = import_jobs.report(conn, job_id)
    if text is None:
        raise ReportNotReady(job_id, job.status)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-report.csv"'},
    )
