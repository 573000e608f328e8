"""Verifying and exporting the hash-chained history (supervisors of their region, admins)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse

from tatulasu.api import disclosure
from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Model
from tatulasu.wiring import App
from workflow import access_log, audit, audit_export, audit_keys, errors, scopes
from workflow.audit import format_instant
from workflow.errors import InvalidField
from workflow.schema import cases
from workflow.users import User

router = APIRouter(prefix="/audit", tags=["audit"])
AUDITORS = ("supervisor", "admin")


class BreakOut(Model):
    case_id: int
    seq: int | None
    record_id: int | None
    reason: str
    column: str | None = None
    stored: str | None = None
    replayed: str | None = None
    message: str


class VerifyOut(Model):
    ok: bool
    cases: int
    events: int
    first_break: BreakOut | None
    breaks: list[BreakOut]


def _verify(app: App, user: User, heads: dict[int, tuple[int, str]] | None) -> VerifyOut:
    require_role(user, *AUDITORS)
    with app.store.reading() as conn:
        audit.consistent_reads(conn)
        ids = None
        if user.role != "admin":
            query = sa.select(cases.c.id).where(scopes.case_filter(user))
            ids = [r.id for r in conn.execute(query)]
        report = audit.verify(conn, heads=heads, case_ids=ids, decider=app.engine)
    breaks = [BreakOut(**vars(b), message=str(b)) for b in report.breaks]
    return VerifyOut(
        ok=report.ok,
        cases=report.cases,
        events=report.events,
        first_break=breaks[0] if breaks else None,
        breaks=breaks,
    )


@router.get("/verify", response_model=VerifyOut, responses=responses(401, 403, 503))
def verify(user: CurrentUser, app: Wired) -> VerifyOut:
    """Walk every chain in the caller's scope; name the first record that does not match.

    Each intact chain is also replayed: a case whose row, parties or open timers differ
    from what its history says is reported with the column, the stored and the replayed
    value (personal data masked).
    """
    return _verify(app, user, None)


@router.post("/verify", response_model=VerifyOut, responses=responses(401, 403, 422, 503))
def verify_against_heads(
    user: CurrentUser,
    app: Wired,
    heads: Annotated[dict[str, Any], Body(description="The `heads` of an earlier export")],
) -> VerifyOut:
    """Also compare with signed heads exported earlier: catches a chain rewritten since.

    The heads' Ed25519 signature is checked first, with the public key the server is
    given (TATULASU_AUDIT_PUBLIC_KEY_FILE), never with one the request brings.
    """
    require_role(user, *AUDITORS)
    key_file = app.settings.audit_public_key_file
    public_key = audit_keys.load_public(key_file) if key_file is not None else None
    try:
        parsed = audit.parse_heads(heads, public_key)
    except errors.PublicKeyMissing:
        raise InvalidField(
            "heads",
            "cannot be checked: the server has no public key (TATULASU_AUDIT_PUBLIC_KEY_FILE)",
        ) from None
    except errors.HeadsMalformed as exc:
        raise InvalidField("heads", f"is not a tatulasu heads document: {exc}") from None
    except errors.HeadsRefused as exc:
        raise InvalidField("heads", f"refused: {exc}") from None
    return _verify(app, user, parsed)


@router.get(
    "/export",
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        **responses(401, 403, 422, 503),
    },
    response_class=StreamingResponse,
)
def export(
    user: CurrentUser,
    app: Wired,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    unmasked: Annotated[bool, Query(description="Personal data in full (needs `reason`)")] = False,
    reason: Annotated[str | None, Query(description=disclosure.REASON_HELP)] = None,
) -> StreamingResponse:
    """Every record in the caller's scope, with each chain's head hash at the end.

    An unmasked export is recorded in the access log with its `reason` and scope.
    """
    require_role(user, *AUDITORS)
    why = disclosure.ask(user, unmasked, reason)
    masked = not disclosure.shows_in_full(user, unmasked)
    scope = scopes.case_filter(user)
    at = format_instant(app.engine.clock.now())
    if why is not None:
        region = disclosure.export_region(user)
        covers = f"audit export, region {region}" if region else "audit export, every region"
        disclosure.record(app, user, why, "api", "audit_export", covers, region=region)

    # The JSONL export's heads are signed when the server holds the signing key.
    key_file = app.settings.audit_signing_key_file
    signing_key = audit_keys.load_private(key_file) if key_file is not None else None

    def stream() -> Iterator[str]:
        with app.store.reading() as conn:
            source = audit_export.records(conn, scope, masked)
            if format == "csv":
                yield from audit_export.csv_lines(source)
            else:
                yield from audit_export.jsonl(source, masked, at, signing_key)

    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"tatulasu-audit-{at[:10]}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream(), media_type=media, headers=headers)


@router.get(
    "/access-log",
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        **responses(401, 403, 422, 503),
    },
    response_class=StreamingResponse,
)
def access_log_export(
    user: CurrentUser,
    app: Wired,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
) -> StreamingResponse:
    """Who saw personal data in full, when, which case or export, and why (oldest first).

    A supervisor gets the entries of his region, an admin every entry.
    """
    require_role(user, *AUDITORS)
    region = disclosure.export_region(user)

    def stream() -> Iterator[str]:
        with app.store.reading() as conn:
            source = access_log.entries(conn, region)
            yield from (access_log.csv_lines if format == "csv" else access_log.jsonl)(source)

    at = format_instant(app.engine.clock.now())
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"tatulasu-access-log-{at[:10]}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(stream(), media_type=media, headers=headers)
