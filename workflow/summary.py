"""The statistics a supervisor asks for ("107 of 134 disputes reconciled"), by SQL aggregates.

The figures are about a cohort: the cases opened in the period (and region/centre), and
everything that has happened to them since. That keeps the share reconciled honest —
numerator and denominator are the same cases — at the price that an event of January
about a case opened in December counts in December's report.

The report never reads the history. Each case row carries running counts of its
consultations, sessions, reminders, escalations and missed terms and the instant of its
first agreement, kept by the event's own transaction (`workflow.tallies`). A report is
then one GROUP BY over the cases in scope, and one ordered-set aggregate for the median
and the 90th percentile of the days to agreement.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow.schema import cases
from workflow.store import utc
from workflow.tallies import COUNTS

# The terminal states that count as reconciled (the state of kind "reconciled" in each
# lifecycle version). Every other terminal state is an outcome without a reconciliation
# (a judgment, a return to the bailiff, a withdrawal, a decline).
RECONCILED = states.states_of_kind("reconciled")


@dataclass(frozen=True)
class Durations:
    """Days from opening to the first agreement, over the cases that reached one."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Summary:
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
    days_to_agreement: Durations
    terms_missed: int
    escalations: int
    reminders_sent: int
    scope: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def terminal_states() -> frozenset[str]:
    """Terminal in any lifecycle version: old cases keep the version they were opened with."""
    return frozenset(
        name
        for version in states.versions()
        for name, spec in states.get(version).states.items()
        if spec.terminal
    )


def summary(
    conn: Connection,
    since: datetime | None = None,
    until: datetime | None = None,
    region: str | None = None,
    centre: str | None = None,
) -> Summary:
    """Statistics of the cases opened in [since, until) in the region and centre given."""
    return summary_and_groups(conn, since, until, region, centre)[0]


def summary_and_groups(
    conn: Connection,
    since: datetime | None = None,
    until: datetime | None = None,
    region: str | None = None,
    centre: str | None = None,
) -> tuple[Summary, list[Any]]:
    """The summary and the groups it was added from, one per (state, origin, centre,
    region): the statistics page compares the centres from the same read
    (`workflow.trends.centres_of`) instead of grouping the cases a second time."""
    scope = _scope(since, until, region, centre)
    groups = _groups(conn, scope)
    return _summed(conn, scope, groups, since, until, region, centre), groups


def _summed(
    conn: Connection,
    scope: list[sa.ColumnElement[bool]],
    groups: list[Any],
    since: datetime | None,
    until: datetime | None,
    region: str | None,
    centre: str | None,
) -> Summary:
    """The report's figures from its groups (and the days to agreement, read apart)."""
    by_origin: dict[str, int] = {}
    by_state: dict[str, int] = {}
    totals = dict.fromkeys(COUNTS, 0)
    for group in groups:
        by_origin[group.origin] = by_origin.get(group.origin, 0) + group.n
        by_state[group.state] = by_state.get(group.state, 0) + group.n
        for name in COUNTS:
            totals[name] += getattr(group, name)
    terminal = terminal_states()
    outcomes = {s: n for s, n in sorted(by_state.items()) if s in terminal}
    closed = sum(outcomes.values())
    total = sum(by_state.values())
    reconciled = sum(outcomes.get(state, 0) for state in RECONCILED)
    return Summary(
        cases=total,
        open=total - closed,
        closed=closed,
        by_origin=dict(sorted(by_origin.items())),
        by_state=dict(sorted(by_state.items())),
        outcomes=outcomes,
        reconciled=reconciled,
        reconciled_share=reconciled / closed if closed else None,
        consultations=totals["consultations"],
        sessions=totals["sessions"],
        days_to_agreement=_days_to_agreement(conn, scope),
        terms_missed=totals["terms_missed"],
        escalations=totals["escalations"],
        reminders_sent=totals["reminders"],
        scope={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "region": region,
            "centre": centre,
        },
    )


def cohort(
    since: datetime | None, until: datetime | None, region: str | None, centre: str | None
) -> list[sa.ColumnElement[bool]]:
    """The conditions selecting a report's cases (`workflow.trends` counts the same ones)."""
    return _scope(since, until, region, centre)


def _scope(
    since: datetime | None, until: datetime | None, region: str | None, centre: str | None
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if since is not None:
        conditions.append(cases.c.opened_at >= utc(since))
    if until is not None:
        conditions.append(cases.c.opened_at < utc(until))
    if region is not None:
        conditions.append(cases.c.region == region)
    if centre is not None:
        conditions.append(cases.c.centre == centre)
    return conditions


def _groups(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> list[Any]:
    """One row per (state, origin, centre, region): how many cases, the sums of their
    tallies. A few dozen rows for a region; the report adds them over the centres."""
    sums = [sa.func.coalesce(sa.func.sum(cases.c[name]), 0).label(name) for name in COUNTS]
    keys = (cases.c.state, cases.c.origin, cases.c.centre, cases.c.region)
    query = sa.select(*keys, sa.func.count().label("n"), *sums).where(*scope).group_by(*keys)
    return list(conn.execute(query))


def _days_to_agreement(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> Durations:
    """Median and 90th percentile of the days from opening to the first agreement.

    Each agreed case carries its `agreement_days`, read from a partial covering index.
    PostgreSQL interpolates in the database (percentile_cont, the same linear rule as
    `percentile`); SQLite, which has no ordered-set aggregates, sends the day counts.
    """
    days = cases.c.agreement_days
    agreed = [days.is_not(None), *scope]
    if conn.dialect.name == "postgresql":
        fractions = sa.literal([0.5, 0.9], sa.ARRAY(sa.Float))
        count, found = conn.execute(
            sa.select(sa.func.count(), sa.func.percentile_cont(fractions).within_group(days))
            .where(*agreed)
        ).one()  # fmt: skip
        median, p90 = found or (None, None)
        return Durations(count=int(count), median=_round(median), p90=_round(p90))
    return _ranked_durations(conn, agreed)


def _ranked_durations(conn: Connection, agreed: list[sa.ColumnElement[bool]]) -> Durations:
    """SQLite: the median and 90th percentile from the two ranks each needs, not every day.

    Sending a region's year of day counts (19,000 rows) to sort them here cost about as
    much as all the report's SQL; SQLite ranks them (`row_number()`) and sends four.
    """
    count = int(conn.execute(sa.select(sa.func.count()).where(*agreed)).scalar_one())
    if not count:
        return _durations([])
    wanted = {rank for q in (0.5, 0.9) for rank in _ranks(count, q)}
    rank = (sa.func.row_number().over(order_by=cases.c.agreement_days) - 1).label("rank")
    ranked = sa.select(rank, cases.c.agreement_days.label("days")).where(*agreed).subquery()
    found = conn.execute(sa.select(ranked.c.rank, ranked.c.days).where(ranked.c.rank.in_(wanted)))
    at = {int(r): float(d) for r, d in found}
    return Durations(
        count=count,
        median=_round(_between(at, count, 0.5)),
        p90=_round(_between(at, count, 0.9)),
    )


def _ranks(count: int, q: float) -> tuple[int, int]:
    """The two ranks (from 0) `percentile` interpolates between for `q` of `count`."""
    position = (count - 1) * q
    return math.floor(position), math.ceil(position)


def _between(at: dict[int, float], count: int, q: float) -> float:
    """`percentile` over the values at the ranks `_ranks` named (the same arithmetic)."""
    low, high = _ranks(count, q)
    position = (count - 1) * q
    return at[low] + (at[high] - at[low]) * (position - low)


def _durations(days: Sequence[float]) -> Durations:
    ordered = sorted(days)
    return Durations(
        count=len(ordered),
        median=_round(percentile(ordered, 0.5)),
        p90=_round(percentile(ordered, 0.9)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no data.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    >>> percentile([5.0], 0.9)
    5.0
    """
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
