"""The case list, one case with its timeline and chain check, and the terms running out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from tatulasu.api import disclosure
from tatulasu.api.auth import Wired, require_case
from tatulasu.api.schemas import CaseId
from tatulasu.web import params
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import audit, queries, scopes, search
from workflow.queries import CaseView
from workflow.regions import REGIONS
from workflow.schema import cases
from workflow.store import utc

router = APIRouter(route_class=PageRoute)
Overdue = Annotated[bool, Query(description="Only cases whose running term is past due")]
Days = Annotated[int, Query(ge=0, le=366)]
Unmasked = Annotated[bool, Query()]
Reason = Annotated[str | None, Query()]


def due_by(moment: datetime) -> sa.ColumnElement[bool]:
    """Cases whose running term ends by `moment` (a suspended case has none running)."""
    condition: sa.ColumnElement[bool] = cases.c.term_due_at <= utc(moment)
    return condition


@router.get("/cases")
def case_list(
    request: Request,
    user: Viewer,
    app: Wired,
    state: params.State = None,
    region: params.Region = None,
    centre: params.Centre = None,
    overdue: Overdue = False,
    page: params.PageNumber = 1,
) -> Response:
    """The cases of the viewer's scope, oldest first, filtered as the API filters them."""
    filters = search.Filters(params.known_state(state), params.known_region(region), centre)
    scope = scopes.case_filter(user)
    now = app.engine.clock.now()
    if overdue:
        scope = sa.and_(scope, due_by(now))
    with app.store.reading() as conn:
        found = search.search(conn, scope, filters, params.PAGE_SIZE, params.offset(page))
        parties = queries.party_names(conn, [f.id for f in found.items])
    return render(
        request, "cases.html", user,
        found=disclosure.lines_for(user, found.items, parties),
        paging=params.paging(request, page, found.total), now=now,
        filters=filters, overdue=overdue, states=params.all_states(), regions=REGIONS,
    )  # fmt: skip


@dataclass(frozen=True)
class NextEvent:
    name: str
    title: str
    roles: tuple[str, ...]


def next_events(app: App, case: CaseView) -> list[NextEvent]:
    """What may happen next and who may do it (a supervisor reads; others act)."""
    spec = app.engine.rules(case.definition_version).lifecycle.events
    return [
        NextEvent(name, spec[name].title, tuple(sorted(spec[name].roles)))
        for name in queries.allowed_events(app.engine, case)
    ]


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: CaseId, user: Viewer, app: Wired, unmasked: Unmasked = False,
    reason: Reason = None,
) -> Response:  # fmt: skip
    """The case with parties masked for the viewer, its terms, and the checked history.

    "Show it in full" asks for a reason; the read is recorded in the access log.
    """
    why = disclosure.ask(user, unmasked, reason)
    with app.store.reading() as conn:
        audit.consistent_reads(conn)
        require_case(conn, user, case_id)
        case = queries.get_case(conn, case_id)
        records = queries.history(conn, case_id)
        checked = audit.verify(conn, case_ids=[case_id], decider=app.engine)
    if why is not None:
        disclosure.record(app, user, why, "web", "case", f"case {case_id}", case_id, case.region)
    shown, masked = disclosure.case_for(user, case, unmasked)
    names = disclosure.others(user, [(p.iin_bin, p.name) for p in case.parties])
    timeline, _ = disclosure.history_for(user, records, unmasked, names)
    return render(
        request, "case.html", user,
        case=shown, masked=masked, may_unmask=masked and user.role in disclosure.ON_REQUEST,
        timeline=timeline, checked=checked, first_break=next(iter(checked.breaks), None),
        next_events=next_events(app, case), now=app.engine.clock.now(),
        lifecycle=app.engine.rules(case.definition_version).lifecycle,
    )  # fmt: skip


@router.get("/overdue")
def overdue_page(
    request: Request, user: Viewer, app: Wired, days: Days = 7, page: params.PageNumber = 1
) -> Response:
    """Running terms past due or due within `days` days, the one that ends first on top."""
    now = app.engine.clock.now()
    scope = sa.and_(scopes.case_filter(user), due_by(now + timedelta(days=days)))
    with app.store.reading() as conn:
        found = search.search(
            conn, scope, search.Filters(), params.PAGE_SIZE, params.offset(page), order="due"
        )
        parties = queries.party_names(conn, [f.id for f in found.items])
    return render(
        request, "overdue.html", user,
        found=disclosure.lines_for(user, found.items, parties),
        paging=params.paging(request, page, found.total), now=now, days=days,
    )  # fmt: skip
