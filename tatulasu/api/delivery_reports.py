"""The SMS gateway's delivery reports, taken in by a webhook signed with a shared secret.

`POST /delivery-reports` carries one report (`workflow.delivery_reports`). The gateway
signs `<timestamp>.<body>` with HMAC-SHA256 and the secret both sides hold
(`TATULASU_SMS_REPORT_SECRET`), and sends `X-Tatulasu-Timestamp` (Unix seconds) and
`X-Tatulasu-Signature: sha256=<hex>`. A missing or wrong signature, or a timestamp more
than five minutes from the server's clock, is 401 before the body is parsed; within
the window a captured request sent again is the same report (its id) and changes
nothing. There is no bearer token: the signature is the gateway's credential. Without
a secret configured the route does not exist (404).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from tatulasu.api.auth import Wired
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Model
from tatulasu.errors import Unauthenticated
from workflow import delivery_reports
from workflow.errors import InvalidField, NotFound

router = APIRouter(tags=["notifications"])
PATH = "/delivery-reports"
TIMESTAMP, SIGNATURE = "X-Tatulasu-Timestamp", "X-Tatulasu-Signature"
WINDOW_SECONDS = 300


class ReportOut(Model):
    id: str
    message_id: int
    case_id: int
    duplicate: bool = Field(description="Recorded before: nothing was written.")
    in_history: bool = Field(description="A notice to a party: recorded in its case's history.")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of `<timestamp>.<body>`: what the gateway sends, and what is checked."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def check_signature(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Refuse (401) a report not signed with `secret` or signed too long ago or ahead."""
    timestamp, given = headers.get(TIMESTAMP, ""), headers.get(SIGNATURE, "")
    if not timestamp or not given:
        raise Unauthenticated(f"send {TIMESTAMP} and {SIGNATURE} (HMAC-SHA256 of the body)")
    if not timestamp.isdigit():
        raise Unauthenticated(f"{TIMESTAMP} must be Unix seconds")
    if abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
        raise Unauthenticated(f"{TIMESTAMP} is more than {WINDOW_SECONDS} s from the server's")
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
        raise Unauthenticated(f"{SIGNATURE} does not match the body")


@router.post(PATH, responses=responses(401, 404, 409, 422))
async def take_report(request: Request, app: Wired) -> ReportOut:
    """One delivery report of the SMS gateway: recorded once, and in a party's case history."""
    secret = app.settings.sms_report_secret
    if not secret:
        raise NotFound("route", PATH)
    body = await request.body()
    now = app.engine.clock.now()
    check_signature(secret, request.headers, body, now)
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidField("body", "is not JSON") from None
    report = delivery_reports.parse(data, now)
    done = await run_in_threadpool(delivery_reports.record, app.engine, report)
    return ReportOut(
        id=done.report_id, message_id=done.message_id, case_id=done.case_id,
        duplicate=done.duplicate, in_history=done.in_history,
    )  # fmt: skip
