"""Supervisor pages: the case list, a case's timeline, overdue terms, the lifecycle
diagram and the statistics as charts, rendered on the server (Jinja2, inline SVG).

The pages read through the same store, scopes, masking and report rules as the HTTP
API; they only look different. People sign in with a user name and password to a
server-side session (`session.py`, `signin.py`); every form posted here carries a CSRF
token, checked for the whole router before any route runs (`csrf.py`). Officials take
the lifecycle's steps through forms generated from it (`event_forms.py`, fired by
`event_pages.py` through the engine as the API fires them) and see their day's cases
(`work_pages.py`); admins manage people (`people_pages.py`), see which centres
nobody staffs (`centre_pages.py`) and send failed notifications again (`notice_pages.py`).
Bailiffs send files of referrals, confirm them after a check and follow their import
and outcomes (`referral_pages.py`, `import_pages.py`, `bailiff_pages.py`).
Every page is in Kazakh, Russian or English (`i18n.py`, `language.py`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.staticfiles import StaticFiles

from tatulasu.web import (
    bailiff_pages,
    case_pages,
    centre_pages,
    csrf,
    event_pages,
    import_pages,
    language,
    lifecycle_moves_page,
    lifecycle_page,
    notice_pages,
    people_pages,
    referral_pages,
    report_pages,
    signin,
    work_pages,
)

STATIC = "/web/static"

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf.guard)])
for _module in (signin, case_pages, lifecycle_page, report_pages, people_pages, language):
    router.include_router(_module.router)
# Admins move open cases of earlier lifecycle versions to the one in force.
router.include_router(lifecycle_moves_page.router)
# Notifications that failed for good: supervisors read them, admins send them again.
router.include_router(notice_pages.router)
# The centres of each region, their people and open cases: admins all, supervisors theirs.
router.include_router(centre_pages.router)
# A bailiff's referrals: his list and outcomes, a file's upload and preview, its import.
for _module in (bailiff_pages, referral_pages, import_pages):
    router.include_router(_module.router)
# The officials' day: their lists of open cases, and the lifecycle's steps as forms.
for _module in (work_pages, event_pages):
    router.include_router(_module.router)


def static_files() -> StaticFiles:
    """The pages' stylesheet, mounted at `STATIC`."""
    return StaticFiles(directory=Path(__file__).parent / "static")


__all__ = ["STATIC", "router", "static_files"]
