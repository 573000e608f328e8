"""Cases: refer one, find them, read one with its open terms and what may happen next."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Response

import states
from tatulasu.api import disclosure
from tatulasu.api.auth import CurrentUser, Wired, require_case, require_writer
from tatulasu.api.problems import responses
from tatulasu.api.schemas import CaseId, CaseOut, CasePage, EventOut, ReferralIn, Timeline
from tatulasu.errors import Forbidden
from workflow import queries, scopes, search
from workflow.centres import Centres
from workflow.commands import OpenCase, PartyInput
from workflow.errors import InvalidField
from workflow.schema import cases

router = APIRouter(tags=["cases"])

PROPOSE_ONLY = (
    "a referral does not assign a mediator: name one in `proposed_mediator`;"
    " the centre's coordinator (or the court) assigns a registered mediator"
)
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=160, description="Repeat a request safely: same key, same answer."),
]
Unmasked = Annotated[
    bool, Query(description="Personal data in full (supervisor and admin only; needs `reason`).")
]
Reason = Annotated[str | None, Query(description=disclosure.REASON_HELP)]


def etag(version: int) -> str:
    return f'"{version}"'


@router.post(
    "/cases", status_code=201, response_model=EventOut,
    responses=responses(401, 403, 409, 422, 503),
)  # fmt: skip
def refer(
    body: ReferralIn, user: CurrentUser, app: Wired, response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EventOut:  # fmt: skip
    """Refer a dispute: a party or a coordinator to a centre, a court or a bailiff."""
    require_writer(user)
    if body.mediator is not None:
        raise InvalidField("mediator", PROPOSE_ONLY)
    ids = [p.iin_bin for p in body.parties]
    with app.store.reading() as conn:
        refused = scopes.may_open(user, body.region, body.centre, ids, Centres(conn))
    if refused is not None and refused.forbidden:
        raise Forbidden(refused.reason)
    if refused is not None:
        raise InvalidField(refused.field, refused.reason)
    event = body.event or states.current().opening_event_for(user.role)
    if event is None:
        raise Forbidden(f"the role {user.role!r} may not open a case")
    command = OpenCase(
        event=event,
        actor=user.id,
        role=user.role,
        region=body.region,
        centre=body.centre,
        parties=tuple(PartyInput(**p.model_dump()) for p in body.parties),
        subject=body.subject,
        language=body.language,
        procedure=body.procedure,
        enforcement_proceeding=body.enforcement_proceeding,
        court=user.id if user.role == "court" else None,
        bailiff=user.id if user.role == "bailiff" else None,
        proposed_mediator=body.proposed_mediator,
        idempotency_key=f"{user.id}:{idempotency_key}" if idempotency_key else None,
    )
    result = app.engine.open_case(command)
    response.headers["ETag"] = etag(result.version)
    response.headers["Location"] = f"/cases/{result.case_id}"
    return EventOut(**result.to_dict(), version=result.version)


@router.get("/cases", response_model=CasePage, responses=responses(401, 422, 503))
def list_cases(
    user: CurrentUser,
    app: Wired,
    state: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    centre: Annotated[str | None, Query(max_length=80)] = None,
    origin: Annotated[str | None, Query(max_length=20)] = None,
    enforcement_proceeding: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> CasePage:
    """The cases in the caller's scope (a bailiff: his referrals), oldest first."""
    filters = search.Filters(state, region, centre, origin, enforcement_proceeding)
    with app.store.reading() as conn:
        page = search.search(conn, scopes.case_filter(user), filters, limit, offset)
        parties = queries.party_names(conn, [f.id for f in page.items])
    items = disclosure.lines_for(user, page.items, parties)
    return CasePage.model_validate({**vars(page), "items": items})


@router.get(
    "/cases/{case_id}", response_model=CaseOut, responses=responses(401, 403, 404, 422, 503)
)
def get_case(
    case_id: CaseId,
    user: CurrentUser,
    app: Wired,
    response: Response,
    unmasked: Unmasked = False,
    reason: Reason = None,
) -> CaseOut:
    """A case with its parties, open terms and the events the caller may fire next.

    The ETag is the case's version: send it back in `If-Match` when firing an event.
    With `unmasked=true` the read is recorded in the access log with its `reason`.
    """
    why = disclosure.ask(user, unmasked, reason)
    with app.store.reading() as conn:
        require_case(conn, user, case_id)
        case = queries.get_case(conn, case_id)
    if why is not None:
        disclosure.record(app, user, why, "api", "case", f"case {case_id}", case_id, case.region)
    as_party = user.iin_bin if user.role == "party" else None
    allowed = queries.allowed_events(app.engine, case, user.role, as_party)
    shown, masked = disclosure.case_for(user, case, unmasked)
    response.headers["ETag"] = etag(case.version)
    return CaseOut.model_validate(
        {**vars(shown), "suspended": shown.suspended, "allowed_events": allowed, "masked": masked}
    )


@router.get(
    "/cases/{case_id}/timeline",
    response_model=Timeline,
    responses=responses(401, 403, 404, 422, 503),
)
def timeline(
    case_id: CaseId, user: CurrentUser, app: Wired, unmasked: Unmasked = False,
    reason: Reason = None,
) -> Timeline:  # fmt: skip
    """The case's history, oldest first, as the hash chain holds it."""
    why = disclosure.ask(user, unmasked, reason)
    with app.store.reading() as conn:
        require_case(conn, user, case_id)
        records = queries.history(conn, case_id)
        parties = queries.party_names(conn, [case_id])[case_id]
        region = conn.execute(sa.select(cases.c.region).where(cases.c.id == case_id)).scalar()
    if why is not None:
        disclosure.record(app, user, why, "api", "timeline", f"case {case_id}", case_id, region)
    names = disclosure.others(user, parties)
    shown, masked = disclosure.history_for(user, records, unmasked, names)
    last = records[-1]
    return Timeline.model_validate(
        {"case_id": case_id, "version": last.seq, "head": last.hash, "masked": masked,
         "records": shown}
    )  # fmt: skip
