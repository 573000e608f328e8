"""The statistics for a period, region and centre: the figures, as charts, and as CSV.

The figures are the API's report (`tatulasu.api.reports.report`) with its scope rules: a
supervisor reports on his region, a coordinator on his centre, an admin on anything, and
asking for another region or centre is refused, not silently narrowed. The CSV is served
here too, because the API's endpoint takes a bearer header, which a link cannot send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from tatulasu.api import reports
from tatulasu.api.auth import Wired
from tatulasu.api.reports import SummaryOut
from tatulasu.web import i18n, params, words
from tatulasu.web.charts import BarChart, bar_chart, short
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import language, render
from workflow.regions import REGIONS

router = APIRouter(route_class=PageRoute)


def charts(s: SummaryOut, language: str) -> list[BarChart]:
    """The report's charts, titled and labelled in `language` (states by their titles)."""
    _ = i18n.translations(language).gettext
    share = None if s.reconciled_share is None else s.reconciled_share * 100
    days = s.days_to_agreement
    outcomes = {short(words.title("state", k, language)): v for k, v in s.outcomes.items()}
    origins = {words.word("origin", k, language): v for k, v in s.by_origin.items()}
    return [
        bar_chart("chart-outcomes", _("Outcomes of the closed cases"), outcomes),
        bar_chart("chart-origins", _("Referrals by who opened them"), origins),
        bar_chart("chart-share", _("Share reconciled"), {_("reconciled"): share}, maximum=100,
                  unit=" %"),
        bar_chart("chart-days", _("Days from referral to agreement"),
                  {_("median"): days.median, _("90th percentile"): days.p90},
                  unit=" " + _("d")),
    ]  # fmt: skip


@dataclass(frozen=True)
class Asked:
    """The period, region and centre a report page or its CSV is asked for."""

    since: date | None
    until: date | None
    region: str | None
    centre: str | None


async def asked(
    since: params.Day = None,
    until: params.Day = None,
    region: params.Region = None,
    centre: params.Centre = None,
) -> Asked:
    return Asked(since, until, params.known_region(region), centre)


Question = Annotated[Asked, Depends(asked)]


@router.get("/reports")
def report_page(request: Request, user: Viewer, app: Wired, question: Question) -> Response:
    figures = reports.report(app, user, **vars(question))
    given = {k: v for k, v in vars(question).items() if v is not None}
    csv = "/web/reports.csv?" + urlencode(given)
    regions = REGIONS if user.role == "admin" else {r: REGIONS[r] for r in (user.region,) if r}
    return render(
        request, "reports.html", user,
        figures=figures, charts=charts(figures, language(request, user)), asked=question,
        csv_url=csv,
        regions=regions,
    )  # fmt: skip


@router.get("/reports.csv")
def report_csv(user: Viewer, app: Wired, question: Question) -> Response:
    """The same figures as `GET /reports/summary?format=csv`: one figure a row."""
    figures = reports.report(app, user, **vars(question))
    return Response(
        reports.as_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tatulasu-report.csv"'},
    )
