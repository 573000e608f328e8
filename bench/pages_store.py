"""A year of referrals for the pages' benchmark, through the real engine, then cloned.

Day by day over the year that ends today (the server's clock is the system's): each
day's referrals are opened in one batch (`Engine.open_cases_in`), the steps planned for
that day are applied (`Engine.apply`) and the timers due that day are fired as the sweep
fires them, all in one transaction per day. Each case follows a plan drawn from a seeded
generator — accepted, mediated and settled, declined, failed to the court, withdrawn,
left waiting — and stops where the year ends, so the store holds every state, running
and missed terms, reminders and escalations, as a deployment does. The engine writes
about 1,500 events a second here, so a large store is that year made for a few thousand
cases and copied under new case ids with their chains hashed again (`bench.verify`'s
copies): 100,000 cases in about a minute instead of ten.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.memory import _driver_rows
from bench.verify import TABLES, _copies, _template
from tatulasu.demo.people import person
from workflow import timers, users
from workflow.clock import SimulatedClock
from workflow.commands import FireEvent, OpenCase
from workflow.engine import Engine
from workflow.errors import NotAllowed
from workflow.schema import timers as timer_rows
from workflow.store import Store
from workflow.users import User

# (region, share of the referrals); the supervisor reads the first, the coordinator
# the first centre of the first.
REGIONS = (("VKO", 0.3), ("KAR", 0.2), ("ALA", 0.2), ("AST", 0.15), ("PAV", 0.15))
CENTRES_PER_REGION = 5
SUPERVISOR = "sup-bench"
COORDINATOR = "coord-bench"
Step = tuple[str, str, str, dict[str, str]]  # event, role, actor, payload


@dataclass(frozen=True)
class Stored:
    cases: int
    events: int
    long_case: int  # a case of the coordinator's centre with a long history
    first_day: date


def centre_name(region: str, k: int) -> str:
    return f"Tatulasu centre {region}-{k + 1}"


def staff() -> list[User]:
    """A supervisor, a coordinator, and per centre a mediator; a court per region."""
    first = REGIONS[0][0]
    people = [
        User(SUPERVISOR, "Supervisor B. Bench", "supervisor", first),
        User(COORDINATOR, "Coordinator B. Bench", "coordinator", first, centre_name(first, 0)),
    ]
    for region, _ in REGIONS:
        people.append(User(f"court-{region}", f"Court of {region}", "court", region))
        for k in range(CENTRES_PER_REGION):
            people.append(
                User(mediator(region, k), f"Mediator {region}-{k}", "mediator", region,
                     centre_name(region, k))
            )  # fmt: skip
    return people


def mediator(region: str, k: int) -> str:
    return f"med-{region.lower()}-{k + 1}"


def referral(rng: random.Random, day: date, i: int) -> tuple[OpenCase, list[Step]]:
    """One referral and the steps its case is meant to take."""
    region = rng.choices([r for r, _ in REGIONS], weights=[w for _, w in REGIONS])[0]
    # The first centre of a region is the busiest, as a regional capital's is.
    k = rng.choices(range(CENTRES_PER_REGION), weights=(4, 2, 2, 1, 1))[0]
    centre, med = centre_name(region, k), mediator(region, k)
    court, coord = f"court-{region}", f"coord-{region.lower()}-{k + 1}"
    origin = rng.choices(("party", "court", "bailiff"), weights=(5, 2, 3))[0]
    parties = (person(rng, "claimant"), person(rng, "respondent"))
    subject = f"Wage arrears, referral {day:%y%m%d}-{i}"
    steps: list[Step]
    if origin == "party":
        cmd = OpenCase("refer", coord, "coordinator", region, centre, parties, subject)
        steps = _party_steps(rng, coord, med, day)
    elif origin == "court":
        cmd = OpenCase("court_refer", court, "court", region, centre, parties, subject,
                       procedure="court_conciliation")  # fmt: skip
        steps = [("assign_mediator", "court", court, {"mediator": med}),
                 *_conciliation_steps(rng, med, court, day)]  # fmt: skip
    else:
        parties = (person(rng, "debtor"), person(rng, "creditor"))
        proceeding = f"EP-{day:%y%m%d}-{i:05d}"
        cmd = OpenCase("refer_enforcement", f"bailiff-{region}", "bailiff", region, centre,
                       parties, subject, enforcement_proceeding=proceeding)  # fmt: skip
        steps = [("assign_mediator", "coordinator", coord, {"mediator": med}),
                 *_conciliation_steps(rng, med, court, day)]  # fmt: skip
    return cmd, steps[: _stops_at(rng, len(steps))]


def _stops_at(rng: random.Random, n: int) -> int:
    """Most cases take every step; some stop on the way and wait for their timers."""
    return n if rng.random() < 0.85 else rng.randint(0, n)


def _party_steps(rng: random.Random, coord: str, med: str, day: date) -> list[Step]:
    if rng.random() < 0.1:
        return [("decline", "coordinator", coord, {"reason": "not_competent"})]
    if rng.random() < 0.05:
        return [("withdraw", "coordinator", coord, {"reason": "claim_withdrawn"})]
    steps: list[Step] = [
        ("accept", "coordinator", coord, {}),
        ("record_consultation", "coordinator", coord, {}),
        ("assign_mediator", "coordinator", coord, {"mediator": med}),
        ("start_mediation", "mediator", med, {"contract_signed_on": day.isoformat()}),
    ]
    steps += [("record_session", "mediator", med, {})] * rng.randint(1, 3)
    if rng.random() < 0.8:
        return [*steps, ("reach_agreement", "mediator", med, {"agreement_ref": "AG-1"})]
    return [*steps, ("fail", "mediator", med, {"reason": "no_agreement"})]


def _conciliation_steps(rng: random.Random, med: str, court: str, day: date) -> list[Step]:
    steps: list[Step] = [("record_session", "mediator", med, {})] * rng.randint(1, 3)
    if rng.random() < 0.2:
        return [*steps, ("fail", "mediator", med, {"reason": "no_agreement"})]
    return [
        *steps,
        ("reach_agreement", "mediator", med, {"agreement_ref": "AG-2"}),
        ("approve", "court", court, {"ruling_ref": "R-1", "ruling_prepared_on": day.isoformat()}),
        ("ruling_in_force", "court", court, {}),
    ]


def build(engine: Engine, clock: SimulatedClock, n: int, made: int, seed: int = 7) -> Stored:
    """`n` cases: a year of `made` cases through the engine, then copies of it."""
    stored = make_year(engine, clock, made, seed)
    copies = max(1, round(n / stored.cases))
    events = clone(engine.store, copies)
    return Stored(stored.cases * copies, events, stored.long_case, stored.first_day)


def clone(store: Store, copies: int) -> int:
    """Copies 1..copies-1 of the cases, parties, histories and timers; events stored."""
    tpl = _template(store)
    for k, batch in enumerate(_copies(tpl, copies), start=1):
        for case in batch["cases"]:  # one open case per enforcement proceeding
            if case["enforcement_proceeding"]:
                case["enforcement_proceeding"] += f"/{k}"
        with store.transaction() as conn:
            for table in TABLES:
                _insert(conn, store, table, batch[table.name])
    return copies * len(tpl["audit_events"])


def _insert(conn: Connection, store: Store, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """The rows inserted; SQLite's driver takes positional rows prepared once (fast), while
    psycopg's pyformat placeholders need mappings, which SQLAlchemy's executemany sends."""
    if store.engine.dialect.name == "sqlite":
        sql, prepared = _driver_rows(store, table, rows)
        conn.exec_driver_sql(sql, prepared)
    else:
        conn.execute(table.insert(), rows)


def make_year(engine: Engine, clock: SimulatedClock, n: int, seed: int) -> Stored:
    """`n` cases opened over the year up to `clock`'s now, with their histories."""
    rng = random.Random(seed)
    tz = engine.calendar.tz
    end = clock.now().astimezone(tz).date()
    first = end - timedelta(days=365)
    with engine.store.transaction() as conn:
        for user in staff():
            users.create(conn, user, clock.now())
    planned: dict[date, list[tuple[int, list[Step]]]] = defaultdict(list)
    events, opened, long_case = 0, 0, 0
    for d in range(366):
        day = first + timedelta(days=d)
        clock.set(datetime.combine(day, time(0, 5), tz))
        with engine.store.transaction() as conn:
            events += sweep_in(conn, engine)
        clock.set(datetime.combine(day, time(9, 0), tz))
        count = n * (d + 1) // 366 - opened
        batch = [referral(rng, day, opened + i) for i in range(count)]
        with engine.store.transaction() as conn:
            done = engine.open_cases_in(conn, [cmd for cmd, _ in batch])
            opened += count
            for applied, (_, steps) in zip(done, batch, strict=True):
                if steps:
                    planned[day + timedelta(days=rng.randint(0, 2))].append(
                        (applied.case_id, steps)
                    )
            if d == 30:
                long_case = _long_history(conn, engine, clock, day)
            clock.set(datetime.combine(day, time(11, 0), tz))
            for case_id, steps in planned.pop(day, []):
                events += _step(conn, engine, case_id, steps[0])
                if steps[1:]:
                    planned[day + timedelta(days=rng.randint(1, 3))].append((case_id, steps[1:]))
    return Stored(opened + 1, events + opened + 1, long_case, first)


def _step(conn: Connection, engine: Engine, case_id: int, step: Step) -> int:
    event, role, actor, payload = step
    try:
        engine.apply(conn, FireEvent(case_id, event, actor, role, payload))
    except NotAllowed:  # a timer moved the case on first (no consent, term expired)
        return 0
    return 1


def _long_history(conn: Connection, engine: Engine, clock: SimulatedClock, day: date) -> int:
    """A case of the coordinator's centre mediated for months: 120 records."""
    rng = random.Random(day.toordinal())
    region, centre, med = REGIONS[0][0], centre_name(REGIONS[0][0], 0), mediator(REGIONS[0][0], 0)
    both = (person(rng, "claimant"), person(rng, "respondent"))
    cmd = OpenCase("refer", COORDINATOR, "coordinator", region, centre, both, "A long dispute")
    case_id = engine.open_cases_in(conn, [cmd])[0].case_id
    steps: list[Step] = [
        ("accept", "coordinator", COORDINATOR, {}),
        ("assign_mediator", "coordinator", COORDINATOR, {"mediator": med}),
        ("start_mediation", "mediator", med, {"contract_signed_on": day.isoformat()}),
    ]
    steps += [
        ("record_session", "mediator", med, {}),
        ("record_consultation", "mediator", med, {}),
    ] * 58
    for step in steps:
        clock.advance(timedelta(minutes=1))
        _step(conn, engine, case_id, step)
    return case_id


def sweep_in(conn: Connection, engine: Engine) -> int:
    """Fire every timer due now, in the caller's transaction (as `timers.sweep` does)."""
    fired = 0
    now = engine.clock.now()
    for timer_id, case_id in timers.due_timers(conn, now, 1_000_000):
        row: Any = conn.execute(
            timer_rows.update()
            .where(timer_rows.c.id == timer_id, timer_rows.c.fired_at.is_(None))
            .values(fired_at=now)
            .returning(timer_rows.c.event, timer_rows.c.payload, timer_rows.c.notify)
        ).first()
        if row is None:
            continue
        cmd = FireEvent(case_id, row.event, "system", "system", json.loads(row.payload),
                        notify=tuple(x for x in row.notify.split(",") if x))  # fmt: skip
        try:
            engine.apply(conn, cmd)
            fired += 1
        except NotAllowed:
            pass
    return fired


def count_events(conn: Connection) -> int:
    return int(conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one())
