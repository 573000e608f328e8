"""Each official's day: the open cases that are his to move, the nearest term end first.

    coordinator  the open cases of his centre
    mediator     the open cases he mediates
    court        the agreements of its region awaiting its approval, then its other cases
    supervisor   the overdue or escalated cases of his region, then the others
    others       the open cases of their scope (chamber, bailiff, admin)

Every list is the reader's scope (`scopes.case_filter`, the API's rule) narrowed, sorted
as the overdue page sorts (`search.search(order="due")`), and split by when the running
term ends, in the deployment's time zone: overdue, due today, due within the week, later,
and without a running term (a suspended case, a case before the court).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

import states
from tatulasu.api import disclosure
from tatulasu.api.auth import Wired
from tatulasu.web.case_pages import due_by
from tatulasu.web.errors import PageRoute
from tatulasu.web.i18n import N_
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from workflow import dates, queries, scopes, search
from workflow.schema import cases
from workflow.search import Found
from workflow.users import User

router = APIRouter(route_class=PageRoute)
SHOWN = 200  # per section; the case list pages through the rest
WEEK = 7
# The stage at which an agreement waits for the court (its state of kind "awaiting_approval").
AWAITING_APPROVAL = states.states_of_kind("awaiting_approval")
GROUPS = {
    "overdue": N_("Overdue"),
    "today": N_("Due today"),
    "week": N_("Due within 7 days"),
    "later": N_("Later"),
    "none": N_("No running term"),
}


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    items: list[Found]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    total: int
    shown: int
    groups: list[Group]


def open_cases() -> sa.ColumnElement[bool]:
    condition: sa.ColumnElement[bool] = cases.c.closed_at.is_(None)
    return condition


def sections_of(user: User, now: datetime) -> list[tuple[str, str, sa.ColumnElement[bool]]]:
    """(id, title, condition) of each list of `user`'s page, within his scope."""
    if user.role == "coordinator":
        return [("centre", N_("Open cases of your centre"), sa.true())]
    if user.role == "mediator":
        return [("mine", N_("Cases you mediate"), cases.c.mediator == user.id)]
    if user.role == "court":
        awaiting = cases.c.state.in_(AWAITING_APPROVAL)
        return [
            ("approval", N_("Agreements awaiting the court's approval"), awaiting),
            ("others", N_("Other open cases of your region"), sa.not_(awaiting)),
        ]
    if user.role == "supervisor":
        # Never NULL (a case without a running term is neither), so `not_` keeps the rest.
        running = cases.c.term_due_at.is_not(None)
        escalated = sa.and_(
            running,
            cases.c.escalated_due_at.is_not(None),
            cases.c.escalated_due_at == cases.c.term_due_at,
        )
        late = sa.or_(sa.and_(running, due_by(now)), escalated)
        return [
            ("late", N_("Overdue or escalated"), late),
            ("others", N_("Other open cases of your region"), sa.not_(late)),
        ]
    return [("open", N_("Open cases"), sa.true())]


def group_of(due: datetime | None, now: datetime, today: date, tz: ZoneInfo) -> str:
    """Which group a running term ending at `due` belongs to, by its last local day."""
    if due is None:
        return "none"
    if due <= now:
        return "overdue"
    last = dates.term_end(due, tz).last_day
    if last <= today:
        return "today"
    return "week" if last <= today + timedelta(days=WEEK) else "later"


def grouped(items: list[Found], now: datetime, tz: ZoneInfo) -> list[Group]:
    """The cases in their groups, in the groups' order, keeping each group's order."""
    today = now.astimezone(tz).date()
    found: dict[str, list[Found]] = {key: [] for key in GROUPS}
    for item in items:
        found[group_of(item.term_due_at, now, today, tz)].append(item)
    return [Group(key, GROUPS[key], found[key]) for key in GROUPS if found[key]]


@router.get("/work")
def work(request: Request, user: Viewer, app: Wired) -> Response:
    """The reader's lists of open cases, each sorted by the nearest term end."""
    now = app.engine.clock.now()
    tz = app.calendar.tz
    scope = sa.and_(scopes.case_filter(user), open_cases())
    shown: list[Section] = []
    with app.store.reading() as conn:
        for key, title, condition in sections_of(user, now):
            page = search.search(
                conn, sa.and_(scope, condition), search.Filters(), SHOWN, order="due"
            )
            parties = queries.party_names(conn, [f.id for f in page.items])
            items = disclosure.lines_for(user, page.items, parties)
            shown.append(Section(key, title, page.total, len(items), grouped(items, now, tz)))
    context: dict[str, Any] = {"sections": shown, "now": now}
    return render(request, "work.html", user, **context)
