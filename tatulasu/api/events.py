"""Firing an event on a case: the caller is the actor, his role is the role.

`If-Match` carries the version the caller last saw (the ETag of `GET /cases/{id}`): if
the case has moved on since, the event is refused with 409 and nothing is written,
instead of acting on a case the caller has not seen. `Idempotency-Key` makes a retried
request return the first answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from tatulasu.api.auth import CurrentUser, Wired, require_case, require_writer
from tatulasu.api.cases import IdempotencyKey, etag
from tatulasu.api.problems import responses
from tatulasu.api.schemas import CaseId, EventIn, EventOut
from workflow.commands import FireEvent
from workflow.errors import InvalidField

router = APIRouter(tags=["events"])

IfMatch = Annotated[
    str | None,
    Header(max_length=40, description='The case version the caller expects, e.g. "3".'),
]


def expected_version(header: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` is version 3; `*` or no header: whatever version it is."""
    if header is None or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**31:
        raise InvalidField("If-Match", f'{header!r} is not a case version such as "3"')
    return int(text)


@router.post(
    "/cases/{case_id}/events",
    response_model=EventOut,
    responses=responses(401, 403, 404, 409, 422, 503),
)
def fire(
    case_id: CaseId,
    body: EventIn,
    user: CurrentUser,
    app: Wired,
    response: Response,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> EventOut:
    """Fire one event (accept, assign_mediator, reach_agreement, approve, …) on one case."""
    version = expected_version(if_match)
    require_writer(user)
    with app.store.reading() as conn:
        require_case(conn, user, case_id)
    result = app.engine.fire(
        FireEvent(
            case_id=case_id,
            event=body.event,
            actor=user.id,
            role=user.role,
            payload=body.payload,
            expected_version=version,
            idempotency_key=f"{user.id}:{idempotency_key}" if idempotency_key else None,
        )
    )
    response.headers["ETag"] = etag(result.version)
    return EventOut(**result.to_dict(), version=result.version)
