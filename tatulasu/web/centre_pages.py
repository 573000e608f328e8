"""The centres page: every region's centres, their people and what waits in each.

Admins read every region, supervisors their own (`workflow.centre_overview` says why).
A centre with open cases and no active coordinator is flagged first in its region, and a
region without a centre says how one is registered: a centre is its people, so the way
to make or mend one is the people page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tatulasu.api.auth import Wired, require_role
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from workflow import centre_overview

router = APIRouter(route_class=PageRoute)


@router.get("/centres")
def centres(request: Request, user: Viewer, app: Wired) -> Response:
    """The regions the reader oversees, each with its centres, the unattended first."""
    require_role(user, *sorted(centre_overview.READERS))
    with app.store.reading() as conn:
        regions = centre_overview.overview(conn, user, app.engine.clock.now())
    return render(
        request, "centres.html", user, regions=regions,
        unattended=sum(r.unattended for r in regions), may_register=user.role == "admin",
    )  # fmt: skip
