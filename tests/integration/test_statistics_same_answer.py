"""The statistics page's faster reads give the figures the plain queries give, on both
databases; so does the page sorted by term end.

The report's groups now carry the centre (the centres are added from them instead of a
second `GROUP BY`), a day in which a local month begins is cut in SQL instead of its
instants being read, and a page by term end is two ordered reads. Each is held here to
the plain query it replaced, over cases placed around local month boundaries (a
microsecond before and at the boundary) in zones with whole, half and quarter hours.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from workflow import search, summary, trends
from workflow.schema import cases
from workflow.search import Filters
from workflow.store import Store, utc
from workflow.tallies import COUNTS

ZONES = ("Asia/Almaty", "America/New_York", "Asia/Kolkata", "Pacific/Chatham")
STATES = ("referred", "pre_trial", "in_mediation", "settled", "withdrawn", "judgment")
CENTRES = ("VKO-1", "VKO-2", "KAR-1")
START = datetime(2025, 11, 20, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


def _boundaries() -> list[datetime]:
    """Where a local month begins, in each zone, from December 2025 to March 2026."""
    return [
        datetime(2025 + (m > 12), (m - 1) % 12 + 1, 1, tzinfo=ZoneInfo(z)).astimezone(UTC)
        for z in ZONES
        for m in range(12, 16)
    ]


def _instants(rng: random.Random) -> list[datetime]:
    """Each boundary, a microsecond before it, and random moments over four months."""
    near = [b + d for b in _boundaries() for d in (-MICRO, timedelta(0), MICRO)]
    return near + [START + timedelta(seconds=rng.randrange(120 * 86_400)) for _ in range(150)]


def _row(rng: random.Random, k: int, opened: datetime) -> dict[str, Any]:
    state = rng.choice(STATES)
    agreed = opened + timedelta(days=rng.random() * 40) if rng.random() < 0.6 else None
    if agreed is not None and k % 7 == 0:
        agreed = rng.choice(_boundaries()) - MICRO * (k % 2)
        agreed = max(agreed, opened)
    due = None if rng.random() < 0.6 else START + timedelta(days=rng.choice([3, 5, 5, 9]))
    centre = CENTRES[k % 3]
    return {
        "definition_version": 1, "state": state, "version": 1,
        "origin": rng.choice(["party", "court", "bailiff"]), "procedure": "mediation",
        "region": centre[:3], "centre": centre, "language": "kk", "subject": "",
        "enforcement_suspended": False, "opened_at": opened, "updated_at": opened,
        "closed_at": opened if state in summary.terminal_states() else None,
        "extensions_used": 0, "audit_head": "0" * 64, "term_due_at": due,
        "agreed_at": agreed,
        "agreement_days": None if agreed is None else (agreed - opened).total_seconds() / 86_400,
        **{name: rng.randrange(4) for name in COUNTS},
    }  # fmt: skip


@pytest.fixture
def stored(store: Store) -> Store:
    rng = random.Random(11)
    rows = [_row(rng, k, opened) for k, opened in enumerate(_instants(rng))]
    with store.transaction() as conn:
        conn.execute(sa.insert(cases), rows)
    return store


COHORTS = {
    "everything": (None, None, None, None),
    "a region's period": (START + timedelta(days=9, hours=19), START + timedelta(days=70),
                          "VKO", None),
    "a centre": (None, None, "VKO", "VKO-2"),
    "nothing": (START - timedelta(days=9), START - timedelta(days=8), None, None),
}  # fmt: skip


def _plain_groups(conn: sa.Connection, cohort: list[Any]) -> list[Any]:
    """The report's old `GROUP BY state, origin`."""
    sums = [sa.func.coalesce(sa.func.sum(cases.c[name]), 0).label(name) for name in COUNTS]
    query = sa.select(cases.c.state, cases.c.origin, sa.func.count().label("n"), *sums)
    return list(conn.execute(query.where(*cohort).group_by(cases.c.state, cases.c.origin)))


def _plain_centres(conn: sa.Connection, cohort: list[Any]) -> list[trends.Centre]:
    """The centres' old second `GROUP BY centre, region`."""
    terminal = sorted(summary.terminal_states())
    closed = sa.func.sum(sa.case((cases.c.state.in_(terminal), 1), else_=0))
    reconciled = sa.func.sum(sa.case((cases.c.state.in_(summary.RECONCILED), 1), else_=0))
    rows = conn.execute(
        sa.select(cases.c.centre, cases.c.region, sa.func.count(), closed, reconciled)
        .where(*cohort).group_by(cases.c.centre, cases.c.region)
    )  # fmt: skip
    found = [trends.Centre(c, r, int(n), int(k or 0), int(s or 0)) for c, r, n, k, s in rows]
    return sorted(found, key=lambda c: (-c.cases, c.centre))


def _plain_months(
    conn: sa.Connection, column: Any, cohort: list[Any], tz: ZoneInfo
) -> dict[str, int]:
    """Every instant of the cohort read and given to its local month here."""
    moments = conn.execute(sa.select(column).where(column.is_not(None), *cohort)).scalars()
    return dict(Counter(utc(m).astimezone(tz).strftime("%Y-%m") for m in moments))


@pytest.mark.parametrize("asked", COHORTS)
def test_the_report_and_its_centres_are_the_plain_groups(stored: Store, asked: str) -> None:
    cohort = summary.cohort(*COHORTS[asked])
    with stored.reading() as conn:
        report, groups = summary.summary_and_groups(conn, *COHORTS[asked])
        plain = _plain_groups(conn, cohort)
        assert trends.centres_of(groups) == _plain_centres(conn, cohort)
    by_state: Counter[str] = Counter()
    by_origin: Counter[str] = Counter()
    for g in plain:
        by_state[g.state] += g.n
        by_origin[g.origin] += g.n
    assert report.by_state == dict(sorted(by_state.items()))
    assert report.by_origin == dict(sorted(by_origin.items()))
    assert report.cases == sum(g.n for g in plain)
    assert report.consultations == sum(g.consultations for g in plain)
    assert report.sessions == sum(g.sessions for g in plain)
    assert report.reminders_sent == sum(g.reminders for g in plain)
    assert report.escalations == sum(g.escalations for g in plain)
    assert report.terms_missed == sum(g.terms_missed for g in plain)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("asked", COHORTS)
def test_the_months_are_those_of_every_instant(stored: Store, zone: str, asked: str) -> None:
    tz, cohort = ZoneInfo(zone), summary.cohort(*COHORTS[asked])
    with stored.reading() as conn:
        months = trends.monthly(conn, cohort, tz)
        opened = _plain_months(conn, cases.c.opened_at, cohort, tz)
        agreed = _plain_months(conn, cases.c.agreed_at, cohort, tz)
    assert {m.month: m.referrals for m in months if m.referrals} == opened
    assert {m.month: m.agreements for m in months if m.agreements} == agreed


SCOPES = {
    "a region": cases.c.region == "VKO",
    "a centre's open cases": sa.and_(
        cases.c.region == "VKO", cases.c.centre == "VKO-2", cases.c.closed_at.is_(None)
    ),
    "everything": sa.true(),
}
PAGES = [(50, 0), (1, 0), (7, 0), (7, 7), (10, 95), (5, 140), (3, 400)]


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("filters", [Filters(), Filters(open_only=True)])
def test_a_page_by_term_end_is_the_plain_sort(stored: Store, scope: str, filters: Filters) -> None:
    """Ties on the term's end, cases without a term, pages across where the two reads meet."""
    where = [SCOPES[scope], *search.conditions(filters)]
    order = (cases.c.term_due_at.is_(None), cases.c.term_due_at, cases.c.id)
    with stored.reading() as conn:
        due = conn.execute(
            sa.select(sa.func.count()).where(*where, cases.c.term_due_at.is_not(None))
        ).scalar_one()  # fmt: skip
        for limit, offset in [*PAGES, (7, max(0, due - 3)), (3, due), (3, max(0, due - 1))]:
            page = search.search(conn, SCOPES[scope], filters, limit, offset, order="due")
            plain = conn.execute(
                sa.select(cases.c.id).where(*where).order_by(*order).limit(limit).offset(offset)
            ).scalars()  # fmt: skip
            assert [item.id for item in page.items] == list(plain)
