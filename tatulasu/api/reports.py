"""Statistics ("107 of 134 disputes reconciled") for a period, region and centre.

A supervisor reports on his region, a coordinator on his centre, an admin on anything;
asking for another region or centre is refused rather than silently narrowed, so a
figure is never mistaken for one of a larger scope.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import APIRouter, Query, Response

from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Model
from tatulasu.errors import Forbidden
from tatulasu.parsing import local_midnight
from tatulasu.wiring import App
from workflow import spreadsheet
from workflow import summary as summaries
from workflow.errors import InvalidField
from workflow.users import User

router = APIRouter(prefix="/reports", tags=["reports"])
# Kazakhstan's independence to far enough ahead; outside it a date is a typing mistake.
EARLIEST, LATEST = date(1991, 12, 16), date(2999, 12, 31)


class DurationsOut(Model):
    count: int
    median: float | None
    p90: float | None


class SummaryOut(Model):
    cases: int
    open: int
    closed: int
    by_origin: dict[str, int]
    by_state: dict[str, int]
    outcomes: dict[str, int]
    reconciled: int
    reconciled_share: float | None
    consultations: int
    sessions: int
    days_to_agreement: DurationsOut
    terms_missed: int
    escalations: int
    reminders_sent: int
    scope: dict[str, str | None]


def _scope(user: User, region: str | None, centre: str | None) -> tuple[str | None, str | None]:
    require_role(user, "supervisor", "coordinator", "admin")
    if user.role == "admin":
        return region, centre
    if region not in (None, user.region):
        raise Forbidden(f"a {user.role} reports on his own region ({user.region})")
    if user.role == "coordinator":
        if centre not in (None, user.centre):
            raise Forbidden(f"a coordinator reports on his own centre ({user.centre})")
        return user.region, user.centre
    return user.region, centre


@router.get(
    "/summary",
    response_model=SummaryOut,
    responses={200: {"content": {"text/csv": {}}}, **responses(401, 403, 422, 503)},
)
def summary(
    user: CurrentUser,
    app: Wired,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    since: Annotated[date | None, Query(description="Opened on or after (local day)")] = None,
    until: Annotated[date | None, Query(description="Opened before (local day)")] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    centre: Annotated[str | None, Query(max_length=80)] = None,
) -> Any:
    """The cases opened in [since, until): outcomes, share reconciled, terms missed."""
    out = report(app, user, since, until, region, centre).summary
    if format == "csv":
        return Response(as_csv(out), media_type="text/csv; charset=utf-8")
    return out


class Reported(NamedTuple):
    summary: SummaryOut
    groups: list[Any]  # one per (state, origin, centre, region): `summary.summary_and_groups`


def report(
    app: App,
    user: User,
    since: date | None,
    until: date | None,
    region: str | None,
    centre: str | None,
) -> Reported:
    """The summary `user` may read; the API and the supervisor pages both answer with it.

    With the groups it was added from: the statistics page compares the centres from
    them (`trends.centres_of`) instead of reading the cases again."""
    region, centre = _scope(user, region, centre)
    for name, day in (("since", since), ("until", until)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidField(name, f"must be between {EARLIEST} and {LATEST}")
    if since is not None and until is not None and until <= since:
        raise InvalidField("until", "must be after since")
    tz = app.calendar.tz
    with app.store.reading() as conn:
        result, groups = summaries.summary_and_groups(
            conn,
            since=local_midnight(since, tz),
            until=local_midnight(until, tz),
            region=region,
            centre=centre,
        )
    return Reported(SummaryOut.model_validate(result.to_dict()), groups)


def as_csv(s: SummaryOut) -> str:
    """One figure a row: `metric,key,value` (key empty for a plain number)."""
    lines = [spreadsheet.row(["metric", "key", "value"])]
    for name, value in s.model_dump().items():
        if isinstance(value, dict):
            for key, item in value.items():
                lines.append(spreadsheet.row([name, key, "" if item is None else item]))
        else:
            lines.append(spreadsheet.row([name, "", "" if value is None else value]))
    return "".join(lines)
