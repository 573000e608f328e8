"""Finding cases within a scope: filters, one page, and the total for paging.

The API passes the caller's scope (`workflow.scopes.case_filter`); the CLI, which has no
users, passes `sa.true()`. The origin and enforcement-proceeding filters let a bailiff
match his referrals; the total lets a client page without guessing. The pages add what
people type: part of a centre's name in any case (`centre_part`, matched with `LIKE` on
`lower()` with the wildcards escaped), and the open cases only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.errors import InvalidField
from workflow.privacy import scrub_text
from workflow.queries import MAX_PAGE, last_step_at
from workflow.schema import cases
from workflow.store import utc
from workflow.summary import terminal_states


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    region: str | None = None
    centre: str | None = None
    origin: str | None = None
    enforcement_proceeding: str | None = None
    centre_part: str | None = None  # part of the centre's name, any letter case
    open_only: bool = False


@dataclass(frozen=True)
class Found:
    id: int
    version: int
    state: str
    closed: bool
    origin: str
    procedure: str
    region: str
    centre: str
    subject: str
    enforcement_proceeding: str | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    term_name: str | None
    term_due_at: datetime | None
    suspended: bool

    def masked(self, names: Iterable[str] = ()) -> Found:
        """The line as a role without full access sees it: the subject scrubbed."""
        return replace(self, subject=scrub_text(self.subject, names))


@dataclass(frozen=True)
class Page:
    total: int
    limit: int
    offset: int
    items: list[Found]


_COLUMNS = (
    cases.c.id,
    cases.c.version,
    cases.c.state,
    cases.c.origin,
    cases.c.procedure,
    cases.c.region,
    cases.c.centre,
    cases.c.subject,
    cases.c.enforcement_proceeding,
    cases.c.opened_at,
    cases.c.updated_at,
    cases.c.closed_at,
    cases.c.term_name,
    cases.c.term_due_at,
    cases.c.suspended_at,
)
# "opened": oldest first; "newest": newest first; "due": the running term that ends first
# (cases without one last); "changed": the last written first (a receipt counts here: the
# row's own column is indexed-cheap, the last step is a subquery per row).
Order = Literal["opened", "newest", "due", "changed"]
ORDERS: tuple[Order, ...] = ("newest", "due", "changed", "opened")


def _order_by(c: Any, order: str) -> tuple[sa.ColumnElement[object], ...]:
    """The sort of `order` on the columns `c` (the table's, or the page subquery's)."""
    return {
        "opened": (c.id,),
        "newest": (c.id.desc(),),
        "due": (c.term_due_at.is_(None), c.term_due_at, c.id),
        "changed": (c.updated_at.desc(), c.id.desc()),
    }[order]


_EXACT = ("state", "region", "centre", "origin", "enforcement_proceeding")


def conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions `filters` ask for (none for a filter not given)."""
    found: list[sa.ColumnElement[bool]] = [
        cases.c[name] == getattr(filters, name)
        for name in _EXACT
        if getattr(filters, name) is not None
    ]
    if filters.centre_part:
        found.append(contains(cases.c.centre, filters.centre_part))
    if filters.open_only:
        found.append(cases.c.state.not_in(sorted(terminal_states())))
    return found


def contains(column: sa.ColumnElement[str], part: str) -> sa.ColumnElement[bool]:
    """`column` holds `part`, whatever the letter case; `%`, `_` and `\\` match themselves.

    SQLite's own `lower()` folds only ASCII; the store gives it Python's (`store.py`), so
    "өскемен" finds "Өскемен" on both databases.
    """
    escaped = part.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f"%{escaped}%", escape="\\")


def search(
    conn: Connection,
    scope: sa.ColumnElement[bool],
    filters: Filters,
    limit: int = 50,
    offset: int = 0,
    order: Order = "opened",
) -> Page:
    """One page of the cases in `scope` matching `filters`, oldest first (or by `order`)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidField("limit", f"must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidField("offset", "must not be negative")
    where = [scope, *conditions(filters)]
    total = count(conn, scope, filters)
    in_order = [_read_in_order(conn, scope, order), *where[1:]]
    # The page is chosen first and the last step read for its rows only: in one SELECT
    # the subquery ran for every row of the scope that the sort saw (30,000 for a region).
    page = _page(in_order, order, limit, offset)
    rows = conn.execute(
        sa.select(page, last_step_at(page.c.id).label("last_step_at")).order_by(
            *_order_by(page.c, order)
        )
    )
    terminal = terminal_states()
    items = [
        Found(
            id=r.id,
            version=r.version,
            state=r.state,
            closed=r.state in terminal,
            origin=r.origin,
            procedure=r.procedure,
            region=r.region,
            centre=r.centre,
            subject=r.subject,
            enforcement_proceeding=r.enforcement_proceeding,
            opened_at=utc(r.opened_at),
            updated_at=utc(r.last_step_at or r.updated_at),  # a receipt is no change
            closed_at=_maybe(r.closed_at),
            term_name=r.term_name,
            term_due_at=_maybe(r.term_due_at),
            suspended=r.suspended_at is not None,
        )
        for r in rows
    ]
    return Page(total=total, limit=limit, offset=offset, items=items)


def _page(where: list[sa.ColumnElement[bool]], order: str, limit: int, offset: int) -> Any:
    """The rows of one page, as a subquery in the page's order."""
    if order == "due":
        return _due_page(where, limit, offset)
    return (
        sa.select(*_COLUMNS).where(*where).order_by(*_order_by(cases.c, order))
        .limit(limit).offset(offset).subquery()
    )  # fmt: skip


def _due_page(where: list[sa.ColumnElement[bool]], limit: int, offset: int) -> Any:
    """A page by term end: the cases with a running term in their order, then those
    without one by id, each read in index order and cut at `offset + limit`.

    `ORDER BY term_due_at IS NULL, term_due_at, id` is in no index: both databases read
    every case of the scope (a centre's 2,760 open ones) and sorted them to keep 200.
    Each part alone is the order of `ix_cases_scope_due` within a centre and of
    `ix_cases_region_due` within a region (the row id ends every SQLite index entry), and
    the page's rows are among the first `offset + limit` of one part or the other, so the
    same rows come in the same order (`tests/integration/test_statistics_same_answer.py`).
    """
    due = cases.c.term_due_at
    enough = offset + limit
    parts = [
        sa.select(*_COLUMNS).where(*where, due.is_not(None)).order_by(due, cases.c.id),
        sa.select(*_COLUMNS).where(*where, due.is_(None)).order_by(cases.c.id),
    ]
    # Each part a subquery: SQLite allows no ORDER BY or LIMIT on a UNION's own terms.
    both = sa.union_all(*(sa.select(p.limit(enough).subquery()) for p in parts)).subquery()
    return (
        sa.select(both).order_by(*_order_by(both.c, "due")).limit(limit).offset(offset)
        .subquery()
    )  # fmt: skip


def count(conn: Connection, scope: sa.ColumnElement[bool], filters: Filters) -> int:
    """How many cases of `scope` match `filters` (the total for paging).

    A part of a centre's name is matched per centre, not per case: the cases are counted
    by centre from the index and the few centres' names compared (`HAVING`), so `lower()`
    (Python's, on SQLite) runs five times for a region, not 30,000. The same total. The
    name is compared as `min(centre)` (the group's one name): a condition on the grouped
    column alone SQLite would move back into WHERE, to run per case again.
    """
    where = [scope, *conditions(replace(filters, centre_part=None))]
    if not filters.centre_part:
        found = conn.execute(sa.select(sa.func.count()).select_from(cases).where(*where))
        return int(found.scalar_one())
    by_centre = (
        sa.select(sa.func.count().label("n")).select_from(cases).where(*where)
        .group_by(cases.c.centre)
        .having(contains(sa.func.min(cases.c.centre), filters.centre_part)).subquery()
    )  # fmt: skip
    found = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(by_centre.c.n), 0)))
    return int(found.scalar_one())


def _read_in_order(
    conn: Connection, scope: sa.ColumnElement[bool], order: str
) -> sa.ColumnElement[bool]:
    """On SQLite, the scope of a page sorted by id is checked row by row in id order.

    (The count keeps the plain scope: counting is cheapest from the index.)

    Without statistics SQLite takes any index on the scope's region, reads all of its
    cases (30,000 for a region) and sorts them to keep 50: 50 ms. Said to be likely
    (`likely()` changes no result), the scope stops steering the index choice and the
    table is read backwards or forwards by id until the page is full: 0.2 ms. The other
    filters keep their indexes (a proceeding's number, a state).
    """
    if conn.dialect.name != "sqlite" or order not in ("newest", "opened"):
        return scope
    likely: sa.ColumnElement[bool] = sa.func.likely(scope, type_=sa.Boolean)
    return likely


def _maybe(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)
