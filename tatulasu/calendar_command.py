"""`tatulasu calendar YEAR`: the year's days off and working days, as terms count them.

An operator lays it beside the official production calendar: every day off and every
transferred working day with where it comes from (the `holidays` package's name, the
act in the reviewed calendar file, or a local override), the working days of each month,
and the file's review note. A year for which no act on transfers is known says so.
Needs no database.
"""

from __future__ import annotations

import calendar as months
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tatulasu import render
from tatulasu.exits import reports_errors
from tatulasu.options import Json, info, settings_from
from tatulasu.wiring import calendar_from
from workflow import dates
from workflow.calendar_year import YearCalendar, describe

# The package's Kazakhstan starts in 1991; its lunar dates are estimates some years on.
FIRST_YEAR, LAST_YEAR = 1991, 2099


def register(app: typer.Typer) -> None:
    app.command("calendar")(calendar)


@reports_errors
def calendar(
    year: Annotated[int, typer.Argument(min=FIRST_YEAR, max=LAST_YEAR, metavar="YEAR")],
    json_out: Json = False,
) -> None:
    """A year's days off and transferred working days, each with its source, and the
    working days per month: to check against the official production calendar."""
    described = describe(calendar_from(settings_from(None)), year)
    if json_out:
        render.print_json(as_json(described))
        return
    show(described)


def gap(described: YearCalendar) -> str | None:
    """What an operator must check by hand for this year, if anything."""
    on = dates.day(described.reviewed_on)
    if described.review is None:
        return (
            f"{described.year} is not in the reviewed calendar file (reviewed {on}):"
            f" its days come from {described.package} alone"
        )
    if not described.review.transfer_acts:
        return f"no act transferring days off in {described.year} was found as of {on}"
    return None


def as_json(described: YearCalendar) -> dict[str, Any]:
    review = described.review
    return {
        "year": described.year,
        "package": described.package,
        "reviewed_against": described.reviewed_against,
        "reviewed_on": described.reviewed_on.isoformat(),
        "reviewed": review.reviewed if review else None,
        "transfer_acts": list(review.transfer_acts) if review else None,
        "gap": gap(described),
        "days": [
            {
                "date": v.day.isoformat(),
                "weekday": f"{v.day:%A}",
                "working": v.working,
                "what": v.what,
                "source": v.source,
            }
            for v in described.days
        ],
        "months": [
            {
                "month": m.month,
                "days": m.days,
                "working_days": m.working_days,
                "days_off": m.days_off,
            }
            for m in described.months
        ],
        "working_days": described.working_days,
    }


def show(described: YearCalendar) -> None:
    out = render.console()
    days = Table(
        "date",
        "day",
        "",
        "what",
        "source",
        title=f"{described.year}: days off and transferred working days",
    )
    for v in described.days:
        kind = "[green]working[/]" if v.working else "off"
        days.add_row(dates.day(v.day), f"{v.day:%a}", kind, escape(v.what), escape(v.source))
    out.print(days)
    counts = Table("month", "days", "working days", "days off", title="working days per month")
    for m in described.months:
        counts.add_row(
            months.month_name[m.month], str(m.days), str(m.working_days), str(m.days_off)
        )
    total, working = sum(m.days for m in described.months), described.working_days
    counts.add_row("year", str(total), str(working), str(total - working))
    out.print(counts)
    if described.review is not None:
        out.print(f"reviewed: {escape(described.review.reviewed)}")
        for act in described.review.transfer_acts:
            out.print(f"transfer act: {escape(act)}")
    if described.reviewed_against != described.package:
        info(
            f"[bold yellow]warning:[/] the calendar file was reviewed against"
            f" {described.reviewed_against}, but {described.package} is installed: review it"
        )
    missing = gap(described)
    if missing:
        info(f"[bold yellow]check by hand:[/] {escape(missing)}")
