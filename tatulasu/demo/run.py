"""A year of a reconciliation centre, simulated day by day on a clock that never sleeps.

The demo goes through the real engine, the real business calendar and the real timer
sweep: each simulated day the clock is set to just after midnight (when terms run out)
and to just after nine (when reminders are due) and the sweep fires whatever fell due;
then, on working days, the centre, the mediators, the courts and the bailiffs act on
the cases waiting for them. The history it leaves is an ordinary, verifiable history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tatulasu.demo.people import staff
from tatulasu.demo.plans import Plan, make_plans, opening
from tatulasu.demo.policy import Snapshot, Step, Wait, decide
from tatulasu.settings import Settings
from tatulasu.wiring import App, build
from workflow import audit, timers, users
from workflow.clock import SimulatedClock
from workflow.commands import FireEvent
from workflow.errors import InvalidField, NotAllowed
from workflow.schema import cases
from workflow.summary import Summary, summary

FIRST_DAY = date(2025, 1, 9)
# The demo's year, 2025, ran under lifecycle version 1 (version 2 is the law of 2026):
# its cases are version 1 cases, as a deployment's would be on the day it moves them
# with `tatulasu lifecycle migrate --from 1 --to 2`.
DEMO_LIFECYCLE = 1
MAX_DAYS = 450
SQLITE = "sqlite:///"


@dataclass(frozen=True)
class DemoResult:
    summary: Summary
    verified_events: int
    days: int
    refused: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "audit_verified_events": self.verified_events,
            "days_simulated": self.days,
            "refused_actions": self.refused,
        }


def fresh_sqlite(url: str) -> Path:
    """The demo replaces its file, so it refuses anything but a SQLite file."""
    if not url.startswith(SQLITE) or url == SQLITE + ":memory:":
        raise InvalidField("--database-url", "the demo builds a fresh SQLite file: sqlite:///FILE")
    path = Path(url.removeprefix(SQLITE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def run_demo(url: str, *, cases: int = 134, seed: int = 1, progress: bool = True) -> DemoResult:
    fresh_sqlite(url)
    settings = Settings(database_url=url, lifecycle_version=DEMO_LIFECYCLE)
    clock = SimulatedClock(datetime.combine(FIRST_DAY, time(8, 0), ZoneInfo(settings.timezone)))
    wired = build(settings, clock=clock)
    try:
        wired.store.migrate()
        with wired.store.transaction() as conn:
            for person in staff():
                users.create(conn, person, clock.now())
        sim = _Simulation(wired, clock, random.Random(seed), cases)
        days = sim.run(progress)
        with wired.store.reading() as conn:
            report = audit.verify(conn, decider=wired.engine)
            stats = summary(conn)
        if not report.ok:
            raise AssertionError(f"the demo's audit chain is broken: {report.breaks[0]}")
        return DemoResult(stats, report.events, days, sim.refused)
    finally:
        wired.close()


class _Simulation:
    def __init__(self, wired: App, clock: SimulatedClock, rng: random.Random, n: int) -> None:
        self.wired = wired
        self.engine = wired.engine
        self.cal = wired.calendar
        self.clock = clock
        self.rng = rng
        self.plans = make_plans(n, FIRST_DAY, self.cal, rng)
        self.refused = 0

    def run(self, show_progress: bool) -> int:
        last_arrival = max(p.arrival for p in self.plans)
        with _progress(show_progress, len(self.plans)) as bar:
            task = bar.add_task("simulating", total=len(self.plans)) if bar else None
            day = FIRST_DAY
            for days in range(1, MAX_DAYS + 1):
                self._sweep(day, time(0, 1))
                self._sweep(day, time(9, 0, 30))
                if self.cal.is_working_day(day):
                    self._work(day)
                if bar is not None and task is not None:
                    closed = sum(p.finished for p in self.plans)
                    bar.update(task, completed=closed, description=f"{day:%d %b %Y}")
                if day >= last_arrival and all(p.finished for p in self.plans):
                    return days
                day += timedelta(days=1)
        return MAX_DAYS

    def _at(self, day: date, moment: time) -> None:
        self.clock.set(datetime.combine(day, moment, self.cal.tz))

    def _sweep(self, day: date, moment: time) -> None:
        self._at(day, moment)
        while timers.sweep(self.engine).fired:
            pass

    def _work(self, day: date) -> None:
        minute = 10 * 60
        for plan in self.plans:
            if plan.finished:
                continue
            if plan.case_id is None and plan.arrival <= day:
                self._at(day, time(minute // 60, minute % 60))
                self._open(plan, day)
            elif plan.case_id is not None and plan.next_on is not None and plan.next_on <= day:
                self._at(day, time(minute // 60, minute % 60))
                self._act(plan, day)
            else:
                continue
            minute = min(minute + self.rng.randint(1, 4), 18 * 60 - 1)

    def _open(self, plan: Plan, day: date) -> None:
        result = self.engine.open_case(opening(plan, self.rng))
        plan.case_id = result.case_id
        plan.state, plan.since = result.to_state, day
        plan.next_on = day + timedelta(days=self.rng.randint(0, 1))

    def _act(self, plan: Plan, day: date) -> None:
        snapshot = self._snapshot(plan)
        if snapshot.state != plan.state:
            plan.state, plan.since = snapshot.state, day
        if self._terminal(snapshot.state):
            plan.finished = True
            return
        action = decide(plan, snapshot, day, self.rng)
        if isinstance(action, Wait):
            if action.mark:
                plan.mark(action.mark)
            plan.next_on = day + timedelta(days=max(action.days, 1))
            return
        self._fire(plan, action, day)

    def _fire(self, plan: Plan, step: Step, day: date) -> None:
        assert plan.case_id is not None
        try:
            result = self.engine.fire(
                FireEvent(plan.case_id, step.event, step.actor, step.role, step.payload)
            )
        except NotAllowed:
            self.refused += 1
            plan.next_on = day + timedelta(days=1)
            return
        if step.mark:
            plan.mark(step.mark)
        if result.to_state != plan.state:
            plan.state, plan.since = result.to_state, day
        plan.finished = self._terminal(result.to_state)
        plan.next_on = day + timedelta(days=step.wait)

    def _snapshot(self, plan: Plan) -> Snapshot:
        with self.wired.store.reading() as conn:
            row = conn.execute(
                sa.select(cases.c.state, cases.c.mediator, cases.c.suspended_at).where(
                    cases.c.id == plan.case_id
                )
            ).one()
        return Snapshot(row.state, row.mediator, row.suspended_at is not None)

    def _terminal(self, state: str) -> bool:
        return self.engine.opens.states[state].terminal


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Progress | None]:
    if not show:
        with nullcontext():
            yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cases closed"),
        console=Console(stderr=True),
        transient=False,
    )
    with bar:
        yield bar
