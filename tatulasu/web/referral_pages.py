"""A bailiff sends a file of referrals: upload, check (nothing opened), confirm.

"Start → check your answers → confirmation": the upload form posts the file (multipart,
with the CSRF token the pages' router checks); the file is checked at once with the
import's own rules and nothing is opened (`referral_file.check`); it is kept in the
database with what the check found (`workflow.upload_previews`) and the browser is sent
to the preview's page, whose address holds the preview's random token. "Confirm" queues
the kept file as an import job in the same transaction that deletes the preview, and
leads to the job's page (`import_pages`). A preview is its bailiff's only, and lives 30
minutes; a file that cannot be read at all is said on the form, in his language.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile
from starlette.responses import RedirectResponse

from tatulasu.api.auth import Wired, require_role
from tatulasu.api.limits import size
from tatulasu.errors import Unreadable
from tatulasu.web import import_pages, referral_file
from tatulasu.web.errors import PageRoute
from tatulasu.web.i18n import N_, translations
from tatulasu.web.session import Viewer
from tatulasu.web.templating import language, render
from tatulasu.wiring import App
from workflow import import_jobs, upload_previews
from workflow.errors import NotFound
from workflow.referral_rows import Referrer
from workflow.users import User

router = APIRouter(route_class=PageRoute)
UPLOAD = "/web/referrals/upload"
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{32,64}$")]
Mode = Literal["all", "good"]


def bailiff(user: Viewer) -> User:
    require_role(user, "bailiff")
    return user


Bailiff = Annotated[User, Depends(bailiff)]


def referrer(user: User) -> Referrer:
    """The bailiff, with his region and centre for rows that name none (as the API does)."""
    return Referrer(user, region=user.region, centre=user.centre)


@router.get("/referrals/upload")
def upload_form(request: Request, user: Bailiff, app: Wired) -> Response:
    return form_page(request, user, app)


def form_page(
    request: Request, user: User, app: App, *, problem: str | None = None, mode: Mode = "all"
) -> Response:
    """The form, with his latest imports below it (and what was wrong with his last file)."""
    with app.store.reading() as conn:
        jobs = import_jobs.mine(conn, user, limit=10)
    return render(
        request, "referrals_upload.html", user, status=200 if problem is None else 422,
        problem=problem, mode=mode, jobs=jobs, job_statuses=import_pages.STATUSES,
        limit=size(app.settings.max_csv_body_bytes), lifetime=_minutes(),
    )  # fmt: skip


@router.post("/referrals/upload")
def upload(
    request: Request,
    user: Bailiff,
    app: Wired,
    file: Annotated[UploadFile | None, File()] = None,
    mode: Annotated[Mode, Form()] = "all",
) -> Response:
    """Check the file without opening anything; keep it and show what was found."""
    lang = language(request, user)
    limit = app.settings.max_csv_body_bytes
    data = file.file.read(limit + 1) if file is not None else b""
    if len(data) > limit:
        problem = N_("The file is larger than %(limit)s: split it into smaller files.")
        return form_page(request, user, app, problem=_said(lang, problem, limit=size(limit)))
    if not data.strip():
        return form_page(request, user, app, problem=_said(lang, N_("Choose a CSV file.")))
    partial = mode == "good"
    try:
        found = referral_file.check(app.engine, data, referrer(user), partial=partial)
    except Unreadable as unreadable:
        said = referral_file.said(unreadable, lang)
        return form_page(request, user, app, problem=said, mode=mode)
    filename = (file.filename if file is not None else None) or "referrals.csv"
    with app.store.transaction() as conn:
        token = upload_previews.keep(
            conn, user.id, data, found, filename=filename, partial=partial,
            now=app.engine.clock.now(),
        )  # fmt: skip
    return RedirectResponse(f"/web/referrals/preview/{token}", status_code=303)


@router.get("/referrals/preview/{preview_token}")
def preview(request: Request, user: Bailiff, app: Wired, preview_token: Token) -> Response:
    """What the check found: counts, each bad row, the columns; then Confirm or not."""
    with app.store.reading() as conn:
        found = upload_previews.find(conn, preview_token, user.id)
    if found is None:
        raise NotFound("preview", "at this address")
    if found.expired(app.engine.clock.now()):
        return expired(request, user)
    summary = found.summary
    return render(
        request, "referrals_preview.html", user, token=preview_token, preview=found,
        summary=summary, more=summary["rejected"] - len(summary["bad"]),
        column=referral_file.column_title, reason=referral_file.reason,
    )  # fmt: skip


@router.post("/referrals/preview/{preview_token}/confirm")
def confirm(
    request: Request,
    user: Bailiff,
    app: Wired,
    preview_token: Token,
    good_only: Annotated[bool, Form()] = False,
) -> Response:
    """Queue the kept file as an import job (the preview is gone); its page follows."""
    now = app.engine.clock.now()
    with app.store.transaction() as conn:
        found = upload_previews.take(conn, preview_token, user.id)
        if found is None:
            raise NotFound("preview", "at this address")
        if found.expired(now):
            job_id = None
        else:
            job_id = import_jobs.submit(
                conn, referrer(user), found.data, filename=found.filename,
                partial=found.partial or good_only, now=now,
            )  # fmt: skip
    if job_id is None:
        return expired(request, user)
    return RedirectResponse(f"/web/imports/{job_id}", status_code=303)


@router.post("/referrals/preview/{preview_token}/cancel")
def cancel(user: Bailiff, app: Wired, preview_token: Token) -> Response:
    """Forget the file; back to the form."""
    with app.store.transaction() as conn:
        upload_previews.drop(conn, preview_token, user.id)
    return RedirectResponse(UPLOAD, status_code=303)


def expired(request: Request, user: User) -> Response:
    return render(request, "referrals_expired.html", user, status=410, lifetime=_minutes())


def _minutes() -> int:
    return int(upload_previews.LIFETIME.total_seconds() // 60)


def _said(lang: str, message: str, **values: str) -> str:
    return translations(lang).gettext(message) % values
