"""The statistics for a period, region and centre: the figures, as charts, and as CSV.

The figures are the API's report (`tatulasu.api.reports.report`) with its scope rules: a
supervisor reports on his region, a coordinator on his centre, an admin on anything, and
asking for another region or centre is refused, not silently narrowed. Beside them: the
same cohort's referrals and agreements by month (`workflow.trends`), its centres side by
side, and the share reconciled against the national figure. The CSV is served here too,
because the API's endpoint takes a bearer header, which a link cannot send; it is made
for Excel (`workflow.spreadsheet.for_excel`), in the reader's words and number format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from tatulasu.api import reports
from tatulasu.api.auth import Wired
from tatulasu.api.reports import SummaryOut
from tatulasu.parsing import local_midnight
from tatulasu.web import i18n, params, words
from tatulasu.web.charts import BarChart, TrendChart, bar_chart, short, trend_chart
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import language, render
from tatulasu.wiring import App
from workflow import dates, spreadsheet, trends
from workflow.summary import cohort
from workflow.trends import Centre, Month
from workflow.users import User

router = APIRouter(route_class=PageRoute)

# The national reference for the share reconciled: of about 130,000 applications to the
# mediation of the Assembly of People of Kazakhstan since 2016, 61 % ended in a mediative
# agreement (republican mediation council; domain.md, seeds/004_401dfcb3e4a041f1.txt).
NATIONAL_SHARE = 61.0


def charts(s: SummaryOut, language: str) -> list[BarChart]:
    """The report's charts, titled and labelled in `language` (states by their titles)."""
    _ = i18n.translations(language).gettext
    share = None if s.reconciled_share is None else s.reconciled_share * 100
    days = s.days_to_agreement
    outcomes = {short(words.title("state", k, language)): v for k, v in s.outcomes.items()}
    origins = {words.word("origin", k, language): v for k, v in s.by_origin.items()}
    national = (NATIONAL_SHARE, _("national %(share)s %%") % {"share": f"{NATIONAL_SHARE:g}"})
    return [
        bar_chart("chart-outcomes", _("Outcomes of the closed cases"), outcomes),
        bar_chart("chart-origins", _("Referrals by who opened them"), origins),
        bar_chart("chart-share", _("Share reconciled"), {_("reconciled"): share}, maximum=100,
                  unit=" %", reference=national),
        bar_chart("chart-days", _("Days from referral to agreement"),
                  {_("median"): days.median, _("90th percentile"): days.p90},
                  unit=" " + _("d")),
    ]  # fmt: skip


def month_label(month: str) -> str:
    """ "2025-03" → "03.2025", as the pages write dates."""
    year, number = month.split("-")
    return f"{number}.{year}"


def trend(months: list[Month], language: str) -> TrendChart:
    _ = i18n.translations(language).gettext
    return trend_chart(
        "chart-months",
        _("Referrals and agreements by month"),
        (_("referrals"), _("agreements")),
        [(month_label(m.month), m.referrals, m.agreements) for m in months],
    )


def centres_chart(centres: list[Centre], language: str) -> BarChart:
    _ = i18n.translations(language).gettext
    national = (NATIONAL_SHARE, _("national %(share)s %%") % {"share": f"{NATIONAL_SHARE:g}"})
    shares = {c.centre: None if c.share is None else c.share * 100 for c in centres}
    return bar_chart(
        "chart-centres", _("Share reconciled by centre"), shares, maximum=100, unit=" %",
        reference=national,
    )  # fmt: skip


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


@dataclass(frozen=True)
class Figures:
    """Everything a report page or its CSV shows, for one question."""

    summary: SummaryOut
    months: list[Month]
    centres: list[Centre]


def figures_for(app: App, user: User, question: Asked) -> Figures:
    """The report (refused outside the user's scope), then its cohort by month and centre."""
    summary, groups = reports.report(app, user, **vars(question))
    tz = app.calendar.tz
    conditions = cohort(
        local_midnight(question.since, tz), local_midnight(question.until, tz),
        summary.scope.get("region"), summary.scope.get("centre"),
    )  # fmt: skip
    with app.store.reading() as conn:
        months = trends.monthly(conn, conditions, tz)
    return Figures(summary, months, trends.centres_of(groups))


@router.get("/reports")
def report_page(request: Request, user: Viewer, app: Wired, question: Question) -> Response:
    found = figures_for(app, user, question)
    lang = language(request, user)
    given = {k: v for k, v in vars(question).items() if v is not None}
    csv = "/web/reports.csv?" + urlencode(given)
    return render(
        request, "reports.html", user,
        figures=found.summary, charts=charts(found.summary, lang), asked=question,
        csv_url=csv, regions=params.regions_for(user), months=found.months,
        trend=trend(found.months, lang), centres=found.centres,
        centres_chart=centres_chart(found.centres, lang), national=f"{NATIONAL_SHARE:g}",
    )  # fmt: skip


@router.get("/reports.csv")
def report_csv(request: Request, user: Viewer, app: Wired, question: Question) -> Response:
    """The page's figures for Excel: `;`, a byte-order mark, the reader's words, shares in
    per cent with one decimal, written with the reader's decimal mark."""
    found = figures_for(app, user, question)
    lang = language(request, user)
    return Response(
        spreadsheet.for_excel(csv_rows(found, question, lang)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tatulasu-report.csv"'},
    )


def number(value: float | None, lang: str) -> str:
    """One decimal, with the decimal comma of Russian and Kazakh settings (Excel reads
    "81.1" there as text, and "12.5" as the 12th of May)."""
    if value is None:
        return ""
    text = f"{value:.1f}"
    return text if lang == "en" else text.replace(".", ",")


def csv_rows(found: Figures, question: Asked, lang: str) -> list[list[object]]:
    """figure; detail; value — one figure a row, as a person reads them."""
    _: Callable[[str], str] = i18n.translations(lang).gettext
    s = found.summary
    region = s.scope.get("region")
    day = dates.day
    share = None if s.reconciled_share is None else s.reconciled_share * 100
    rows: list[list[object]] = [
        [_("figure"), _("detail"), _("value")],
        [_("Region"), "", words.word("region", region, lang) if region else _("every region")],
        [_("Centre"), "", s.scope.get("centre") or ""],
        [_("Opened from"), "", day(question.since) if question.since else ""],
        [_("before"), "", day(question.until) if question.until else ""],
        [_("cases"), "", s.cases],
        [_("open"), "", s.open],
        [_("closed"), "", s.closed],
        [_("reconciled"), "", s.reconciled],
        [_("share reconciled, %"), "", number(share, lang)],
        [_("share reconciled, %"), _("national reference"), number(NATIONAL_SHARE, lang)],
        [_("consultations"), "", s.consultations],
        [_("mediation sessions"), "", s.sessions],
        [_("terms missed"), "", s.terms_missed],
        [_("escalations"), "", s.escalations],
        [_("reminders"), "", s.reminders_sent],
        [_("days to agreement"), _("cases"), s.days_to_agreement.count],
        [_("days to agreement"), _("median"), number(s.days_to_agreement.median, lang)],
        [_("days to agreement"), _("90th percentile"), number(s.days_to_agreement.p90, lang)],
    ]
    for state, n in s.outcomes.items():
        rows.append([_("Outcomes of the closed cases"), words.title("state", state, lang), n])
    for origin, n in s.by_origin.items():
        rows.append([_("Referrals by who opened them"), words.word("origin", origin, lang), n])
    for m in found.months:
        rows.append([_("referrals by month"), month_label(m.month), m.referrals])
        rows.append([_("agreements by month"), month_label(m.month), m.agreements])
    for c in found.centres:
        rows.append([_("cases by centre"), c.centre, c.cases])
        rows.append([_("share reconciled by centre, %"), c.centre,
                     number(None if c.share is None else c.share * 100, lang)])  # fmt: skip
    return rows
