"""Moving open cases to the lifecycle in force, on a page for admins.

`workflow.moves` decides and stores the moves, as `tatulasu lifecycle migrate` and
`POST /lifecycle/migrations` use it. The page counts the open cases on each older
version the newest declares a move from; its preview is the dry run (how many cases
each rule moves, and every case no rule places, with why); its one form moves them, each
in its own transaction and on its history, and answers with a redirect whose banner
says how many moved, so a reload moves nothing twice.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Form, Query, Request, Response
from starlette.responses import RedirectResponse

import states
from tatulasu.api.auth import Wired, require_role
from tatulasu.api.lifecycle import FIELDS
from tatulasu.web.errors import PageRoute
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import moves
from workflow.schema import cases
from workflow.users import User

router = APIRouter(route_class=PageRoute)
PAGE = "/web/lifecycle/migrations"
Version = Annotated[int, Query(ge=1, le=1000)]
Count = Annotated[int | None, Query(ge=0, le=10**9)]
# What becomes of a case's term, as the rule says it (translated in the template).
TERMS = {
    "kept": N_("kept as it is"),
    "replanned": N_("re-planned under the new rules"),
    "restarted": N_("started again from the move"),
    "": N_("no term"),
}


@router.get("/lifecycle/migrations")
def migrations(
    request: Request,
    user: Viewer,
    app: Wired,
    preview: Annotated[int | None, Query(alias="from", ge=1, le=1000)] = None,
    moved: Count = None,
    unplaced: Count = None,
) -> Response:
    """The older versions' open cases; with `from`, what moving them would do."""
    require_role(user, "admin")
    return _page(request, user, app, preview, moved, unplaced)


@router.post("/lifecycle/migrations")
def migrate(
    request: Request,
    user: Viewer,
    app: Wired,
    from_version: Annotated[int, Form(ge=1, le=1000)],
    to_version: Annotated[int, Form(ge=1, le=1000)],
) -> Response:
    """Move every open case of `from_version` to `to_version`."""
    require_role(user, "admin")
    report = moves.move_cases(app.engine, from_version, to_version, user.id, fields=FIELDS)
    query = f"moved={len(report.moved)}&unplaced={len(report.unplaced)}"
    return RedirectResponse(f"{PAGE}?{query}", status_code=303)


def _page(
    request: Request,
    user: User,
    app: App,
    preview: int | None,
    moved: int | None,
    unplaced: int | None,
) -> Response:
    newest = states.current()
    with app.store.reading() as conn:
        open_by_version: dict[int, int] = dict(
            conn.execute(
                sa.select(cases.c.definition_version, sa.func.count())
                .where(cases.c.closed_at.is_(None), cases.c.definition_version != newest.version)
                .group_by(cases.c.definition_version)
            ).all()
        )
    older = [{"version": v, "open": open_by_version.get(v, 0)} for v in sorted(newest.migrations)]
    report = None
    if preview is not None:
        report = moves.move_cases(
            app.engine, preview, newest.version, user.id, dry_run=True,
            fields=moves.Fields("from", "to_version", "case_ids"),
        )  # fmt: skip
    return render(
        request, "lifecycle_moves.html", user, newest=newest, older=older, report=report,
        terms=TERMS, moved=moved, unplaced=unplaced,
    )  # fmt: skip
