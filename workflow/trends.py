"""The statistics over time and side by side: referrals and agreements by month, and the
centres of a scope compared.

The cohort is the report's (`workflow.summary.cohort`: cases opened in the period, the
region and the centre). A month is the deployment's local month: PostgreSQL groups in
SQL (`timezone(tz, …)`); SQLite, which knows no time zones, counts per UTC day and the
days are given to their local months here (`_per_month_sqlite`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import cases
from workflow.summary import RECONCILED, terminal_states

MOST_MONTHS = 24  # the latest months shown; a longer period is cut at its start


@dataclass(frozen=True)
class Month:
    month: str  # "2025-03"
    referrals: int  # cases opened in the month
    agreements: int  # first agreements reached in the month


@dataclass(frozen=True)
class Centre:
    centre: str
    region: str
    cases: int
    closed: int
    reconciled: int

    @property
    def share(self) -> float | None:
        """Reconciled of the closed, as the report counts it; None when none is closed."""
        return self.reconciled / self.closed if self.closed else None


def monthly(conn: Connection, cohort: list[sa.ColumnElement[bool]], tz: ZoneInfo) -> list[Month]:
    """Referrals and agreements per local month, every month from the first to the last."""
    opened = _per_month(conn, cases.c.opened_at, cohort, tz)
    agreed = _per_month(conn, cases.c.agreed_at, cohort, tz)
    known = sorted(set(opened) | set(agreed))
    if not known:
        return []
    months = _every_month(known[0], known[-1])[-MOST_MONTHS:]
    return [Month(m, opened.get(m, 0), agreed.get(m, 0)) for m in months]


def centres_of(groups: Iterable[Any]) -> list[Centre]:
    """Each centre of the report's groups (`summary.summary_and_groups`: one per state,
    origin, centre and region) with its cases, closed and reconciled; the busiest first.

    The report has grouped the cohort's cases already; grouping them again by centre was
    one more pass over a region's year (45 ms on SQLite with 100,000 cases)."""
    terminal = terminal_states()
    found: dict[tuple[str, str], list[int]] = {}
    for g in groups:
        counts = found.setdefault((g.centre, g.region), [0, 0, 0])
        counts[0] += g.n
        counts[1] += g.n if g.state in terminal else 0
        counts[2] += g.n if g.state in RECONCILED else 0
    centres = [Centre(c, r, n, k, s) for (c, r), (n, k, s) in found.items()]
    return sorted(centres, key=lambda c: (-c.cases, c.centre))


def _per_month(
    conn: Connection,
    column: sa.ColumnElement[datetime],
    cohort: list[sa.ColumnElement[bool]],
    tz: ZoneInfo,
) -> dict[str, int]:
    where = [column.is_not(None), *cohort]
    if conn.dialect.name == "postgresql":
        month = sa.func.to_char(sa.func.timezone(tz.key, column), "YYYY-MM")
        rows = conn.execute(sa.select(month, sa.func.count()).where(*where).group_by(month))
        return {m: int(n) for m, n in rows}
    return _per_month_sqlite(conn, column, where, tz)


def _per_month_sqlite(
    conn: Connection,
    column: sa.ColumnElement[datetime],
    where: list[sa.ColumnElement[bool]],
    tz: ZoneInfo,
) -> dict[str, int]:
    """Counted per UTC day in SQL (SQLite stores UTC text), each day given to its local
    month; a day in which a local month begins is cut there, its part before counted in SQL.

    Reading every instant of a region's year (30,000 rows) took half a second a request;
    reading the instants of the days cut (11 a year in Almaty, 1,200 instants) took half
    of what remained.
    """
    day = sa.func.substr(column, 1, 10)  # "YYYY-MM-DD" of "YYYY-MM-DD HH:MM:SS.ffffff"
    counts: Counter[str] = Counter()
    cut: dict[str, tuple[datetime, int]] = {}  # day → (where its month begins, its count)
    for label, n in conn.execute(sa.select(day, sa.func.count()).where(*where).group_by(day)):
        start = datetime.fromisoformat(label).replace(tzinfo=UTC)
        first = _month(start, tz)
        if first == _month(start + timedelta(days=1) - timedelta(microseconds=1), tz):
            counts[first] += int(n)
        else:
            cut[label] = (_next_month_begins(start, tz), int(n))
    for label, before in _counted_before(conn, column, where, cut).items():
        begins, n = cut[label]
        counts[_month(begins - timedelta(microseconds=1), tz)] += before
        counts[_month(begins, tz)] += n - before
    return dict(counts)


def _counted_before(
    conn: Connection,
    column: sa.ColumnElement[datetime],
    where: list[sa.ColumnElement[bool]],
    cut: dict[str, tuple[datetime, int]],
) -> dict[str, int]:
    """Of each day cut, how many instants come before its month begins.

    The comparison with the day's own beginning of a month is an aggregate's argument,
    so SQLite makes it for the rows of the days cut only (an `OR` of the ranges in WHERE
    was made for every row of the cohort: slower than reading the instants).
    """
    if not cut:
        return {}
    day = sa.func.substr(column, 1, 10)
    begins = sa.case({label: moment for label, (moment, _) in cut.items()}, value=day)
    before = sa.func.sum(sa.case((column < begins, 1), else_=0))
    rows = conn.execute(sa.select(day, before).where(*where, day.in_(cut)).group_by(day))
    return {**dict.fromkeys(cut, 0), **{label: int(n or 0) for label, n in rows}}


def _next_month_begins(start: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local month after that of `start` begins."""
    local = start.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def _month(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def _every_month(first: str, last: str) -> list[str]:
    """ "2024-11", "2025-02" → the four months from November to February.

    >>> _every_month("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    year, month = map(int, first.split("-"))
    out = []
    while (label := f"{year:04d}-{month:02d}") <= last:
        out.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
