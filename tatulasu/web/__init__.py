"""Supervisor pages: the case list, a case's timeline, overdue terms, the lifecycle
diagram and the statistics as charts, rendered on the server (Jinja2, inline SVG).

The pages read through the same store, scopes, masking and report rules as the HTTP
API; they only look different. A signed-in user is the holder of a bearer token kept in
an HttpOnly, SameSite=Strict cookie, checked on every request as the API checks its
`Authorization` header. Nothing here writes: the pages are for reading.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from tatulasu.web import case_pages, lifecycle_page, report_pages, signin

STATIC = "/web/static"

router = APIRouter(prefix="/web", include_in_schema=False)
for _module in (signin, case_pages, lifecycle_page, report_pages):
    router.include_router(_module.router)


def static_files() -> StaticFiles:
    """The pages' stylesheet, mounted at `STATIC`."""
    return StaticFiles(directory=Path(__file__).parent / "static")


__all__ = ["STATIC", "router", "static_files"]
