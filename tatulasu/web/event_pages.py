"""Firing an event from the case page: the form's post, and what the reader sees after.

The post goes through the engine exactly as the API's request does: the signed-in
person is the actor and his role the role, the case must be in his scope
(`scopes.may_act_on`, checked in the event's transaction), and the form's hidden
version is the expected version (`FireEvent.expected_version`, the API's `If-Match`).
Then:

    recorded                 303 to the case page, which confirms the step
    a field or a refusal     the case page again, the form kept with the error beside
                             its field (422), or above it for a refusal (409)
    someone was quicker      "changed meanwhile" (409): the case as it is now, the
                             history lines since the form was made, the form again
    not his role or scope    a 403 page, as any page; an unknown case a 404 page

The guard's and the state's words come from the lifecycle in the reader's language; an
engine's message about a field stays as the engine says it (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from states import Lifecycle
from tatulasu.api import disclosure
from tatulasu.api.auth import Wired, require_case, require_writer
from tatulasu.api.schemas import CaseId
from tatulasu.errors import Forbidden
from tatulasu.web import event_forms, i18n, timeline, words
from tatulasu.web.case_pages import officials_of, show_case
from tatulasu.web.errors import PageRoute
from tatulasu.web.event_forms import VERSION, EventForm
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import language, render
from tatulasu.wiring import App
from workflow import queries, scopes
from workflow.commands import FireEvent
from workflow.errors import (
    CaseSuspended,
    ConcurrentUpdate,
    EventNotAllowed,
    GuardFailed,
    InvalidField,
    NotAllowed,
    RoleNotAllowed,
    StaleVersion,
)
from workflow.users import User

router = APIRouter(route_class=PageRoute)
EventName = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]

REQUIRED = N_("Fill this in: the step needs it.")
NEEDS = N_("This step needs %(needs)s.")
FIRST = N_("First: %(event)s.")
SUSPENDED = N_("The case's terms are suspended: this step waits until they run again.")
NOT_NOW = N_("This step is not possible while the case is at the stage “%(state)s”.")


@router.post("/cases/{case_id}/events/{event}")
async def fire(
    request: Request, case_id: CaseId, event: EventName, user: Viewer, app: Wired
) -> Response:
    """Fire `event` on the case with the posted form's fields (the CSRF guard has run)."""
    posted = await request.form()
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    return await run_in_threadpool(fire_posted, request, user, app, case_id, event, values)


def fire_posted(
    request: Request, user: User, app: App, case_id: int, event: str, posted: Mapping[str, str]
) -> Response:
    require_writer(user)
    version = posted_version(posted.get(VERSION))
    with app.store.reading() as conn:
        require_case(conn, user, case_id)
        case = queries.get_case(conn, case_id)
        lc = app.engine.rules(case.definition_version).lifecycle
        spec = lc.events.get(event)
        if spec is None or not event_forms.offered(spec):
            raise InvalidField("event", f"{event!r} is not a step a person takes on the pages")
        form = EventForm(event, event_forms.fields_of(conn, lc, spec, case, user.role), version)
    payload, values = event_forms.read_payload(form, posted)
    gettext = i18n.translations(language(request, user)).gettext
    gaps = event_forms.missing(form, values)
    if gaps:
        errors = {name: gettext(REQUIRED) for name in gaps}
        return show_case(
            request, user, app, case_id, refused=form.with_outcome(values, errors), status=422
        )
    command = FireEvent(case_id, event, user.id, user.role, payload, expected_version=version)
    try:
        app.engine.fire(command, authorizer(user))
    except (StaleVersion, ConcurrentUpdate):
        return changed_page(request, user, app, case_id, form.with_outcome(values, {}))
    except InvalidField as error:
        name = error.field.removeprefix("payload.")
        errors = {name if name in form.names else "": error.reason}
        return show_case(
            request, user, app, case_id, refused=form.with_outcome(values, errors), status=422
        )
    except (RoleNotAllowed, Forbidden):
        raise
    except NotAllowed as error:
        errors = {"": refusal(error, lc, language(request, user), gettext)}
        return show_case(
            request, user, app, case_id, refused=form.with_outcome(values, errors), status=409
        )
    return RedirectResponse(f"/web/cases/{case_id}?done={event}#done", status_code=303)


def posted_version(text: str | None) -> int:
    """The hidden version of the form; a form without one is not one of ours."""
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**31:
        raise InvalidField(VERSION, f"{text!r} is not a case version such as 3")
    return int(value)


def authorizer(user: User) -> Callable[[Connection, Any], None]:
    """The API's scope check, run by the engine on the case row in the event's transaction."""

    def authorize(conn: Connection, case: Any) -> None:
        if not scopes.may_act_on(conn, user, case):
            raise Forbidden(f"case {case.id} is outside the scope of {user.role} {user.id!r}")

    return authorize


def refusal(error: NotAllowed, lc: Lifecycle, lang: str, gettext: Callable[[str], str]) -> str:
    """Why the lifecycle refused the step, in the reader's language where its words exist."""
    if isinstance(error, GuardFailed):
        said = []
        for name in error.guards:
            guard = lc.guards.get(name)
            needs = guard.needs.get(lang, error.needs[name]) if guard else error.needs[name]
            said.append(gettext(NEEDS) % {"needs": needs})
            if guard is not None and guard.fire:
                said.append(gettext(FIRST) % {"event": words.title("event", guard.fire, lang)})
        return " ".join(said)
    if isinstance(error, CaseSuspended):
        return gettext(SUSPENDED)
    if isinstance(error, EventNotAllowed):
        return gettext(NOT_NOW) % {"state": words.title("state", error.state, lang)}
    return str(error)


def changed_page(request: Request, user: User, app: App, case_id: int, form: EventForm) -> Response:
    """The case changed after the form was made: what changed, and the form again."""
    with app.store.reading() as conn:
        case = queries.get_case(conn, case_id)
        records = queries.history(conn, case_id)
        forms = event_forms.forms_for(conn, app.engine, user, case)
        people = timeline.names_of(conn, timeline.people_in(records) | officials_of(case))
    since = [r for r in records if r.seq > form.version]
    names = disclosure.others(user, [(p.iin_bin, p.name) for p in case.parties])
    shown, _ = disclosure.history_for(user, since, False, names)
    again = forms.get(form.event)
    return render(
        request, "case_changed.html", user, status=409,
        case=case, posted=form, lines=timeline.lines(
            shown, people, disclosure.shows_in_full(user, False), app.calendar.tz
        ),
        form=again.with_outcome(form.values, {}) if again is not None else None,
        **event_forms.context(app),
    )  # fmt: skip
