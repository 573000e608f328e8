"""The case list, one case with its timeline, chain check and forms, and the terms running out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from tatulasu.api import disclosure
from tatulasu.api.auth import Wired, require_case
from tatulasu.api.schemas import CaseId
from tatulasu.web import event_forms, params, timeline
from tatulasu.web.errors import PageRoute
from tatulasu.web.event_forms import EventForm
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import audit, queries, scopes, search
from workflow.queries import CaseView
from workflow.schema import cases
from workflow.store import utc
from workflow.users import User

router = APIRouter(route_class=PageRoute)
# The case list's orders, as the sort menu names them (translated in cases.html).
SORTS = {
    "newest": N_("newest first"),
    "due": N_("term ending first"),
    "changed": N_("last changed first"),
    "opened": N_("oldest first"),
}
Overdue = Annotated[bool, Query(description="Only cases whose running term is past due")]
Days = Annotated[int, Query(ge=0, le=366)]
Unmasked = Annotated[bool, Query()]
Reason = Annotated[str | None, Query()]
Done = Annotated[str | None, Query(max_length=40)]


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
    open_only: params.OpenOnly = False,
    sort: params.Sort = None,
    page: params.PageNumber = 1,
) -> Response:
    """The cases of the viewer's scope, newest first (or as `sort` says).

    Filtered as the API filters them, but for the centre: a part of its name in any
    letter case, as people type it.
    """
    filters = search.Filters(
        params.known_state(state), params.known_region(region),
        centre_part=centre, open_only=open_only,
    )  # fmt: skip
    order = sort or "newest"
    scope = scopes.case_filter(user)
    now = app.engine.clock.now()
    if overdue:
        scope = sa.and_(scope, due_by(now))
    with app.store.reading() as conn:
        found = search.search(
            conn, scope, filters, params.PAGE_SIZE, params.offset(page), order=order
        )
        parties = queries.party_names(conn, [f.id for f in found.items])
    return render(
        request, "cases.html", user,
        found=disclosure.lines_for(user, found.items, parties),
        paging=params.paging(request, page, found.total), now=now,
        filters=filters, overdue=overdue, states=params.all_states(),
        regions=params.regions_for(user), sort=order, orders=SORTS,
    )  # fmt: skip


@dataclass(frozen=True)
class NextEvent:
    name: str
    title: str
    roles: tuple[str, ...]
    form: EventForm | None = None  # when the reader may fire it: its form


def next_events(
    app: App, case: CaseView, forms: Mapping[str, EventForm] | None = None
) -> list[NextEvent]:
    """What may happen next and who may do it, with a form for each step the reader may
    take (`forms`, by event; a refused form not among the steps comes first)."""
    forms = forms or {}
    spec = app.engine.rules(case.definition_version).lifecycle.events
    allowed = queries.allowed_events(app.engine, case)
    refused = [name for name in forms if name not in allowed]
    return [
        NextEvent(name, spec[name].title, tuple(sorted(spec[name].roles)), forms.get(name))
        for name in [*refused, *allowed]
    ]


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: CaseId, user: Viewer, app: Wired, unmasked: Unmasked = False,
    reason: Reason = None, done: Done = None,
) -> Response:  # fmt: skip
    """The case with parties masked for the viewer, its terms, the steps he may take, and
    the checked history.

    "Show it in full" asks for a reason; the read is recorded in the access log. `done`
    names the event the reader's form has just recorded (the redirect after it).
    """
    return show_case(request, user, app, case_id, unmasked=unmasked, reason=reason, done=done)


def show_case(
    request: Request, user: User, app: App, case_id: int, *, unmasked: bool = False,
    reason: str | None = None, done: str | None = None, refused: EventForm | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """The case page; `refused`: a posted form shown again with its errors (`status`)."""
    why = disclosure.ask(user, unmasked, reason)
    with app.store.reading() as conn:
        audit.consistent_reads(conn)
        require_case(conn, user, case_id)
        case = queries.get_case(conn, case_id)
        records = queries.history(conn, case_id)
        checked = audit.verify(conn, case_ids=[case_id], decider=app.engine)
        forms = event_forms.forms_for(conn, app.engine, user, case)
        people = timeline.names_of(conn, timeline.people_in(records) | officials_of(case))
    if why is not None:
        disclosure.record(app, user, why, "web", "case", f"case {case_id}", case_id, case.region)
    if refused is not None:
        forms[refused.event] = refused
    shown, masked = disclosure.case_for(user, case, unmasked)
    names = disclosure.others(user, [(p.iin_bin, p.name) for p in case.parties])
    history, _ = disclosure.history_for(user, records, unmasked, names)
    in_full = disclosure.shows_in_full(user, unmasked)
    last = records[-1]
    return render(
        request, "case.html", user, status=status,
        case=shown, masked=masked, may_unmask=masked and user.role in disclosure.ON_REQUEST,
        timeline=timeline.lines(history, people, in_full, app.calendar.tz), people=people,
        checked=checked, first_break=next(iter(checked.breaks), None),
        next_events=next_events(app, case, forms), now=app.engine.clock.now(),
        lifecycle=app.engine.rules(case.definition_version).lifecycle,
        done=last if done and (last.event, last.actor) == (done, user.id) else None,
        **event_forms.context(app),
    )  # fmt: skip


def officials_of(case: CaseView) -> set[str]:
    """The officials a case names, whose registered names the page shows."""
    return {p for p in (case.coordinator, case.mediator, case.court, case.bailiff) if p}


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
