"""A bailiff's batch of referrals as a CSV file (columns in the README)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse

from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.limits import size
from tatulasu.api.problems import MEDIA_TYPE, Problem, responses
from tatulasu.api.schemas import Model
from workflow.errors import InvalidField
from workflow.referral_import import import_referrals
from workflow.referral_rows import Referrer

router = APIRouter(tags=["referrals"])


class RowErrorOut(Model):
    line: int
    field: str
    reason: str


class RowOutcomeOut(Model):
    line: int
    status: str
    enforcement_proceeding: str | None
    case_id: int | None
    errors: list[RowErrorOut]


class ImportProblem(Problem):
    """A 422 answer: a problem document, with the import's report when rows were bad."""

    rows: int | None = None
    imported: int | None = None
    rejected: int | None = None
    outcomes: list[RowOutcomeOut] | None = None


class ImportOut(Model):
    rows: int
    imported: int
    rejected: int
    partial: bool
    delimiter: str
    ignored_columns: list[str]
    outcomes: list[RowOutcomeOut]
    errors: list[RowErrorOut]


@router.post(
    "/referrals/import",
    response_model=ImportOut,
    responses={
        **responses(401, 403, 503),
        422: {
            "model": ImportProblem,
            "description": "A bad file, or bad rows without `partial`: nothing was imported",
            "content": {MEDIA_TYPE: {}},
        },
    },
)
def import_csv(
    user: CurrentUser,
    app: Wired,
    file: Annotated[UploadFile, File(description="CSV, UTF-8 (BOM or not), `;` or `,`")],
    partial: Annotated[bool, Query(description="Import the good rows, report the bad")] = False,
) -> ImportOut | JSONResponse:
    """Refer enforcement disputes from a CSV file; every row is checked first.

    Without `partial`, one bad row means nothing is imported, and the answer (422) lists
    every bad row with its line and reason. With `partial=true` the good rows are
    imported and the bad ones listed (200).
    """
    require_role(user, "bailiff")
    limit = app.settings.max_csv_body_bytes  # the whole body is already within it
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidField("file", f"is larger than {size(limit)}: split it")
    referrer = Referrer(user, region=user.region, centre=user.centre)
    report = import_referrals(app.engine, data, referrer, partial=partial)
    out = ImportOut.model_validate(report.to_dict())
    if report.rejected and not partial:
        first = report.errors[0]
        body = {
            "type": "urn:tatulasu:problem:invalid-rows",
            "title": "Rows of the file are not valid; nothing was imported",
            "status": 422,
            "detail": f"{report.rejected} of {report.rows} rows are bad; first: {first}",
            "field": first.field,
            **out.model_dump(),
        }
        return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)
    return out
