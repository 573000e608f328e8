"""Failed notifications on the pages: supervisors read their region's, admins send them again.

The list and the retry are `workflow.failed_notices`, as the API's `/notifications`
uses them: the same scope, the same masking, the same all-or-nothing retry. The page is
one form (the CSRF token once): each row's button sends that notification again, the
chosen boxes go together, and on a case's own list every failed one of it at once. A
retry answers with a redirect to the list, whose banner says how many will be sent
again, so reloading repeats nothing; a refusal shows the list with why, nothing changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import Field
from starlette.responses import RedirectResponse

from tatulasu.api.auth import Wired, require_role
from tatulasu.web import params
from tatulasu.web.errors import PageRoute
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import failed_notices
from workflow.errors import InvalidField, NotRetryable
from workflow.users import User

router = APIRouter(route_class=PageRoute)
NOTIFICATIONS = "/web/notifications"
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CaseFilter = Annotated[int | None, Query(alias="case", ge=1, le=MAX_ID)]
Retried = Annotated[int | None, Query(ge=0, le=failed_notices.MAX_PAGE)]
# How each channel is said (an official's is chosen when the message is sent).
CHANNELS = {"email": N_("e-mail"), "sms": N_("SMS"), "user": N_("e-mail or SMS")}
# Why a notification was not sent again, by its status now (translated in the template).
NOT_FAILED = {
    "pending": N_("it is waiting to be sent already"),
    "sending": N_("it is being sent now"),
    "sent": N_("it was delivered"),
    "void": N_("it is void: the case is closed"),
}
CHOOSE = N_("Choose at least one notification.")


@router.get("/notifications")
def notifications(
    request: Request,
    user: Viewer,
    app: Wired,
    case: CaseFilter = None,
    page: params.PageNumber = 1,
    retried: Retried = None,
) -> Response:
    """The failed notifications of the reader's scope, the newest failure first."""
    return notices_page(request, user, app, case, page, retried=retried)


@router.post("/notifications/retry")
def retry(
    request: Request,
    user: Viewer,
    app: Wired,
    only: Annotated[Id | None, Form()] = None,
    chosen: Annotated[list[Id], Form(alias="id", max_length=failed_notices.MAX_PAGE)] = [],  # noqa: B006
    case: Annotated[Id | None, Form()] = None,
) -> Response:
    """Send again one notification (its row's button), the chosen ones, or a case's."""
    require_role(user, *sorted(failed_notices.RETRIERS))
    now = app.engine.clock.now()
    try:
        with app.store.transaction() as conn:
            if only is None and case is not None:
                done = failed_notices.retry_case(conn, case, user.id, now)
            else:
                done = failed_notices.retry(conn, [only] if only else chosen, user.id, now)
    except NotRetryable as error:
        refused = {"id": error.notice_id, "why": NOT_FAILED.get(error.current, error.current)}
        return notices_page(request, user, app, None, 1, refused=refused, status=409)
    except InvalidField:
        return notices_page(request, user, app, None, 1, refused={"why": CHOOSE}, status=422)
    return RedirectResponse(f"{NOTIFICATIONS}?retried={len(done)}", status_code=303)


def notices_page(
    request: Request,
    user: User,
    app: App,
    case: int | None,
    page: int,
    *,
    retried: int | None = None,
    refused: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    require_role(user, *sorted(failed_notices.READERS))
    with app.store.reading() as conn:
        found = failed_notices.listing(
            conn, user, case_id=case, limit=params.PAGE_SIZE, offset=params.offset(page)
        )
    return render(
        request, "notifications.html", user, status=status, found=found, case=case,
        paging=params.paging(request, page, found.total), channels=CHANNELS,
        may_retry=user.role in failed_notices.RETRIERS, retried=retried, refused=refused,
    )  # fmt: skip
