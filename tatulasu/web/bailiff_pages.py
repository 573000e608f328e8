"""A bailiff's referrals and their outcomes: a page, and a CSV for his enforcement system.

The list puts the cases returned to him first (enforcement resumes: he must act), then
the newest; it filters open or closed and pages as the case list does. The download
has one line per referral, `;` between cells and a UTF-8 BOM, so that Excel in a
Russian or Kazakh locale opens it in columns and in Cyrillic; dates are `07.12.2026`
in the deployment's time zone, text cells are neutralised (`workflow.spreadsheet`), and
the header names stable columns his system can map.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from tatulasu.api.auth import Wired
from tatulasu.web import params, words
from tatulasu.web.errors import PageRoute
from tatulasu.web.referral_pages import Bailiff
from tatulasu.web.templating import language, render
from workflow import bailiff_referrals, dates, spreadsheet
from workflow.bailiff_referrals import Referral, Status

router = APIRouter(route_class=PageRoute)
StatusQuery = Annotated[Status, Query()]
BOM = "\ufeff"
HEADER = (
    "enforcement_proceeding", "case_id", "state", "state_title", "opened", "closed",
    "agreed", "outcome",
)  # fmt: skip


@router.get("/referrals")
def referrals(
    request: Request,
    user: Bailiff,
    app: Wired,
    status: StatusQuery = "all",
    page: params.PageNumber = 1,
) -> Response:
    """His referrals, returned ones first; open, closed or all."""
    with app.store.reading() as conn:
        found = bailiff_referrals.listing(
            conn, user, status, limit=params.PAGE_SIZE, offset=params.offset(page)
        )
    return render(
        request, "referrals.html", user, found=found.items, shown=status,
        statuses=bailiff_referrals.STATUSES, paging=params.paging(request, page, found.total),
    )  # fmt: skip


@router.get("/referrals/outcomes.csv")
def outcomes(request: Request, user: Bailiff, app: Wired, status: StatusQuery = "all") -> Response:
    """Every referral of his (as filtered) with its state and outcome, for his system."""
    lang = language(request, user)
    tz = app.calendar.tz
    with app.store.reading() as conn:
        found = list(bailiff_referrals.every(conn, user, status))
    day = dates.day(app.engine.clock.now(), tz).replace(".", "-")
    return Response(
        (BOM + "".join(lines(found, lang, tz))).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="referral-outcomes-{day}.csv"'},
    )


def lines(found: Iterable[Referral], lang: str, tz: ZoneInfo) -> Iterator[str]:
    """The header, then one `;`-separated line per referral, cells neutralised."""
    yield row(HEADER)
    for r in found:
        yield row(
            (
                r.enforcement_proceeding or "",
                r.case_id,
                r.state,
                words.title("state", r.state, lang),
                _day(r.opened_at, tz),
                _day(r.closed_at, tz),
                _day(r.agreed_at, tz),
                words.title("reason", r.outcome, lang) if r.outcome else "",
            )
        )


def row(cells: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(
        [spreadsheet.neutral(c) for c in cells]
    )
    return out.getvalue()


def _day(moment: datetime | None, tz: ZoneInfo) -> str:
    return dates.day(moment, tz) if moment is not None else ""
