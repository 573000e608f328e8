"""The statistics over time and side by side: referrals and agreements by month, and the
centres of a scope compared.

The cohort is the report's (`workflow.summary.cohort`: cases opened in the period, the
region and the centre). A month is the deployment's local month: PostgreSQL groups in
SQL (`timezone(tz, …)`); SQLite, which knows no time zones, counts per UTC day and the
days are given to their local months here (`_per_month_sqlite`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import cases
from workflow.store import utc
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


def by_centre(conn: Connection, cohort: list[sa.ColumnElement[bool]]) -> list[Centre]:
    """Each centre of the cohort with its cases, closed and reconciled; the busiest first."""
    terminal = sorted(terminal_states())
    closed = sa.func.sum(sa.case((cases.c.state.in_(terminal), 1), else_=0))
    reconciled = sa.func.sum(sa.case((cases.c.state.in_(RECONCILED), 1), else_=0))
    rows = conn.execute(
        sa.select(cases.c.centre, cases.c.region, sa.func.count(), closed, reconciled)
        .where(*cohort)
        .group_by(cases.c.centre, cases.c.region)
    )
    found = [Centre(c, r, int(n), int(k or 0), int(s or 0)) for c, r, n, k, s in rows]
    return sorted(found, key=lambda c: (-c.cases, c.centre))


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
    month; the instants of the few days in which a local month begins are read one by one.

    Reading every instant of a region's year (30,000 rows) took half a second a request.
    """
    day = sa.func.substr(column, 1, 10)  # "YYYY-MM-DD" of "YYYY-MM-DD HH:MM:SS.ffffff"
    counts: Counter[str] = Counter()
    split = []
    for label, n in conn.execute(sa.select(day, sa.func.count()).where(*where).group_by(day)):
        start = datetime.fromisoformat(label).replace(tzinfo=UTC)
        first = _month(start, tz)
        if first == _month(start + timedelta(days=1) - timedelta(microseconds=1), tz):
            counts[first] += int(n)
        else:
            split.append(label)
    if split:
        moments = conn.execute(sa.select(column).where(*where, day.in_(split))).scalars()
        counts.update(_month(utc(m), tz) for m in moments)
    return dict(counts)


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
