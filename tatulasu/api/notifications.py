"""Notifications that failed for good: the list (admins all, supervisors their region) and
an admin's retry (`workflow.failed_notices` holds the rules; this is their HTTP form).

A retry answers 409 naming the notification and its status when it has not failed, and
404 for an unknown id; a retry of several is all or nothing. The shapes live here rather
than in `schemas.py`: no other route uses them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field, model_validator

from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Input, Model
from workflow import failed_notices
from workflow.queries import MAX_PAGE

router = APIRouter(prefix="/notifications", tags=["notifications"])
# Ids are 32-bit integers in the database: a larger one is the client's mistake (422).
MAX_ID = 2_147_483_647
NoticeId = Annotated[int, Path(ge=1, le=MAX_ID)]


class RetryOut(Model):
    by: str
    at: datetime
    after: int = Field(description="The attempts the notification had had before it.")


class NoticeOut(Model):
    id: int
    case_id: int
    region: str
    event: str
    recipient_kind: str = Field(examples=["party", "coordinator"])
    position: str | None = Field(description="A party's: claimant, respondent, debtor…")
    recipient: str = Field(description="A party's masked name; an official's id.")
    channel: str = Field(description="email, sms; `user` for officials (chosen at send time).")
    address: str | None = Field(description="Masked.")
    attempts: int
    last_error: str = Field(description="The sink's answer, scrubbed of addresses and names.")
    failed_at: datetime
    retried: RetryOut | None = Field(description="The last retry before this failure.")


class NoticePage(Model):
    total: int
    limit: int
    offset: int
    items: list[NoticeOut]


class RetryIn(Input):
    """The notifications to send again: by id, or every failed one of a case."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, min_length=1, max_length=MAX_PAGE
    )
    case_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _one_of(self) -> RetryIn:
        if (self.ids is None) == (self.case_id is None):
            raise ValueError("send either `ids` or `case_id`")
        return self


class Retried(Model):
    retried: list[int]
    status: Literal["pending"] = "pending"


@router.get("", response_model=NoticePage, responses=responses(401, 403, 422, 503))
def list_failed(
    user: CurrentUser,
    app: Wired,
    status: Annotated[Literal["failed"], Query(description="Only failed ones are listed.")] = (
        "failed"
    ),
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> NoticePage:
    """Notifications that failed for good in the caller's scope, the newest failure first.

    Admins see every region, supervisors their own; parties' names and addresses masked.
    """
    require_role(user, *sorted(failed_notices.READERS))
    with app.store.reading() as conn:
        page = failed_notices.listing(conn, user, case_id=case_id, limit=limit, offset=offset)
    return NoticePage.model_validate(page)


@router.post(
    "/{notification_id}/retry", response_model=Retried,
    responses=responses(401, 403, 404, 409, 422, 503),
)  # fmt: skip
def retry_one(notification_id: NoticeId, user: CurrentUser, app: Wired) -> Retried:
    """Send a failed notification again (admins): pending now, with a fresh round of attempts."""
    return _retry(user, app, [notification_id], None)


@router.post("/retry", response_model=Retried, responses=responses(401, 403, 404, 409, 422, 503))
def retry_many(body: RetryIn, user: CurrentUser, app: Wired) -> Retried:
    """Send several failed notifications again, or every failed one of a case; all or none."""
    return _retry(user, app, body.ids, body.case_id)


def _retry(user: CurrentUser, app: Wired, ids: list[int] | None, case_id: int | None) -> Retried:
    require_role(user, *sorted(failed_notices.RETRIERS))
    now = app.engine.clock.now()
    with app.store.transaction() as conn:
        if case_id is not None:
            done = failed_notices.retry_case(conn, case_id, user.id, now)
        else:
            done = failed_notices.retry(conn, ids or [], user.id, now)
    return Retried(retried=done)
