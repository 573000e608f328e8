"""Every error of the HTTP API as an RFC 9457 problem document, mapped in this one place.

The error tree (`workflow.errors`) already sorts errors by what the client should do
next; `STATUS` gives each branch its HTTP status, and the nearest class of an error's MRO
decides (`tatulasu.errors.nearest`), so a new subclass answers as its parent does:

    InvalidInput (InvalidField, InvalidIdentifier, UnknownEvent, ...), request 422
    BodyTooLarge                                                          413
    RoleNotAllowed, Forbidden (role or scope)                             403
    NotAllowed (EventNotAllowed, GuardFailed, CaseSuspended)              409
    Conflict (StaleVersion, ConcurrentUpdate, IdempotencyKeyReused, ...)  409
    NotFound                                                              404
    Unauthenticated                                                       401
    Unavailable (StoreError, MissingDependency, ...): not the client's    503
    InvalidDefinition, ReplayRefused, DeliveryError: server-side, never a
    request's answer; if one escapes it is a bug                          500

`type` is `urn:tatulasu:problem:<kebab-case class name>`, `title` the class's one-line
docstring, `detail` the error's own message; structured fields of the error (the field
at fault, the allowed events, the current version) are added as extension members.
Anything else is a bug in tatulasu and answers 500 without internals.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from tasks.errors import DeliveryError
from tatulasu.api import headers
from tatulasu.errors import BodyTooLarge, Forbidden, Unauthenticated, nearest
from workflow.errors import (
    Conflict,
    InvalidDefinition,
    InvalidField,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReplayRefused,
    RoleNotAllowed,
    TatulasuError,
    Unavailable,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("tatulasu.api")


__all__ = [
    "MEDIA_TYPE",
    "SERVER_SIDE",
    "STATUS",
    "FieldError",
    "Forbidden",
    "Problem",
    "Unauthenticated",
    "from_error",
    "install",
    "problem",
    "responses",
    "status_of",
]

# Raised and caught inside the server (a broken deployment file, the replay's finding,
# a sink's refusal): no request's answer, so 500 if one ever escapes.
SERVER_SIDE: tuple[type[TatulasuError], ...] = (InvalidDefinition, ReplayRefused, DeliveryError)
STATUS: dict[type[TatulasuError], int] = {
    TatulasuError: 500,  # a class under none of the branches below: a bug
    **dict.fromkeys(SERVER_SIDE, 500),
    InvalidInput: 422,
    BodyTooLarge: 413,
    Unauthenticated: 401,
    NotAllowed: 409,
    RoleNotAllowed: 403,
    Forbidden: 403,
    Conflict: 409,
    NotFound: 404,
    Unavailable: 503,
}
_EXTENSIONS = (
    "field", "allowed", "suggestions", "current", "expected", "case_id", "roles", "guards",
    "party_roles", "limit",
)  # fmt: skip


class FieldError(BaseModel):
    field: str
    reason: str
    line: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members vary by type."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def status_of(error: TatulasuError) -> int:
    return nearest(STATUS, error)


def problem(status: int, slug: str, title: str, detail: str, **extensions: Any) -> JSONResponse:
    body = {"type": f"urn:tatulasu:problem:{slug}", "title": title, "status": status}
    body["detail"] = detail
    body.update({k: v for k, v in extensions.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(error: TatulasuError) -> JSONResponse:
    kind = type(error)
    doc = (kind.__doc__ or kind.__name__).strip().splitlines()[0].rstrip(".")
    extensions = {name: getattr(error, name) for name in _EXTENSIONS if hasattr(error, name)}
    if isinstance(error, InvalidField):
        extensions["errors"] = [{"field": error.field, "reason": error.reason}]
    return problem(status_of(error), _slug(kind.__name__), doc, str(error), **extensions)


async def _tatulasu_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TatulasuError)
    if status_of(exc) >= 500:
        log.warning("request failed: %s", exc)
    return from_error(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "reason": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "reason": "is not valid"}
    detail = f"{first['field']}: {first['reason']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem(
        422, "invalid-request", "The request is not valid", detail,
        field=first["field"], errors=errors,
    )  # fmt: skip


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # a body that is not JSON (or not UTF-8) at all
        return problem(
            422, "invalid-request", "The request is not valid", f"body: {exc.detail}",
            field="body", errors=[{"field": "body", "reason": str(exc.detail)}],
        )  # fmt: skip
    title = {404: "No such resource", 405: "Method not allowed"}.get(exc.status_code, "Error")
    return problem(exc.status_code, f"http-{exc.status_code}", title, str(exc.detail))


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    answer = problem(500, "internal", "Internal error", "tatulasu failed; the error was logged")
    # This handler answers outside every middleware, the security headers' included.
    headers.secure(answer.headers, request.url.path)
    return answer


def install(app: FastAPI) -> None:
    app.add_exception_handler(TatulasuError, _tatulasu_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _bug)


def responses(*statuses: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer (schemathesis checks them).

    Every route may answer 422 (a NUL character in a query parameter) and 503 (the
    database); every route but the public ones, 401.
    """
    statuses = tuple(sorted({*statuses, 422, 503} | (set() if public else {401})))
    described = {
        401: "No valid bearer token",
        403: "The role or scope does not allow it",
        404: "No such case",
        409: "Refused in the case's state, or a conflict",
        422: "Invalid input; `field` names it",
        503: "The database is unavailable; retry",
    }
    return {
        s: {"model": Problem, "description": described[s], "content": {MEDIA_TYPE: {}}}
        for s in statuses
    }
