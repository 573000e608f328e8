"""Firing an event on a case: the caller is the actor, his role is the role.

`If-Match` carries the version the caller last saw (the ETag of `GET /cases/{id}`): if
the case has moved on since, the event is refused with 409 and nothing is written,
instead of acting on a case the caller has not seen. `Idempotency-Key` makes a retried
request return the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from tatulasu.api.auth import UNKNOWN_TOKEN, Token, app_of, authenticate, require_writer
from tatulasu.api.cases import IdempotencyKey, etag
from tatulasu.api.problems import responses
from tatulasu.api.schemas import CaseId, EventIn, EventOut
from tatulasu.errors import Forbidden, Unauthenticated
from tatulasu.wiring import App
from workflow import scopes, users
from workflow.commands import EventApplied, FireEvent
from workflow.errors import InvalidField
from workflow.users import User

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
async def fire(
    case_id: CaseId,
    body: EventIn,
    token: Token,
    request: Request,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Fire one event (accept, assign_mediator, reach_agreement, approve, …) on one case."""
    version = expected_version(if_match)
    app = app_of(request)
    # The busiest route does its blocking work in one trip to the thread pool (who is
    # asking, may he, then the event), instead of one trip per dependency, and answers
    # with the JSON of its model directly (FastAPI would validate it once more).
    result = await run_in_threadpool(_fire, app, token, case_id, body, version, idempotency_key)
    out = EventOut(**result.to_dict(), version=result.version)
    return Response(
        out.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag(result.version)},
    )


def _fire(
    app: App, token: str, case_id: int, body: EventIn, version: int | None, key: str | None
) -> EventApplied:
    """Who is asking, may he act on this case, then the event.

    Without an `Idempotency-Key` all of it is one transaction. With one, the caller is
    looked up first: the key is his (`user:key`), and the engine keeps keys in a
    transaction of its own so that a twin request can be answered from the first.
    """
    if key is None:
        with app.store.transaction() as conn:
            found = users.by_token_with_case(conn, token, case_id)
            if found is None:
                raise Unauthenticated(UNKNOWN_TOKEN)
            user, case = found
            cmd = _command(user, case_id, body, version, None)
            return app.engine.apply_authorized(conn, cmd, _authorizer(user), case)
    with app.store.reading() as conn:
        user = authenticate(conn, token)
    cmd = _command(user, case_id, body, version, f"{user.id}:{key}")
    return app.engine.fire(cmd, _authorizer(user))


def _command(
    user: User, case_id: int, body: EventIn, version: int | None, key: str | None
) -> FireEvent:
    require_writer(user)
    return FireEvent(
        case_id=case_id,
        event=body.event,
        actor=user.id,
        role=user.role,
        payload=body.payload,
        expected_version=version,
        idempotency_key=key,
    )


def _authorizer(user: User) -> Callable[[Connection, Any], None]:
    def authorize(conn: Connection, case: Any) -> None:
        if not scopes.may_act_on(conn, user, case):
            raise Forbidden(f"case {case.id} is outside the scope of {user.role} {user.id!r}")

    return authorize
