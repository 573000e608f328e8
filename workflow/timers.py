"""The sweep: fire the timers that have fallen due, each exactly once.

Each due timer is fired in its own transaction: lock the case row (skip it if another
sweeper holds it), re-check the timer is still open, mark it fired, and apply its event
as the `system` role through the engine. Locking the case before the timer is the same
order an ordinary event takes (case update, then timer replacement), so a sweep and a
user never deadlock; two sweepers never fire one timer twice. On SQLite the write lock
taken by `BEGIN IMMEDIATE` serialises everything.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotAllowed, TatulasuError
from workflow.schema import timers

log = logging.getLogger(__name__)

_DUE = (
    sa.select(timers.c.id, timers.c.case_id)
    .where(timers.c.fired_at.is_(None), timers.c.due_at <= sa.bindparam("now"))
    .order_by(timers.c.due_at, timers.c.id)
    .limit(sa.bindparam("limit"))
)


@dataclass
class SweepResult:
    fired: int = 0
    skipped: int = 0
    refused: list[str] = field(default_factory=list)


def due_timers(conn: Connection, now: datetime, limit: int) -> list[tuple[int, int]]:
    return [(r.id, r.case_id) for r in conn.execute(_DUE, {"now": now, "limit": limit})]


def sweep(engine: Engine, limit: int = 200) -> SweepResult:
    """Fire up to `limit` due timers; return how many fired."""
    result = SweepResult()
    now = engine.clock.now()
    with engine.store.reading() as conn:
        candidates = due_timers(conn, now, limit)
    for timer_id, case_id in candidates:
        try:
            if fire_one(engine, timer_id, case_id):
                result.fired += 1
            else:
                result.skipped += 1
        except (NotAllowed, InvalidInput) as exc:
            # The definition let a timer outlive its state, or gave it a payload its event
            # refuses: it can never fire, so retire it rather than block every later sweep.
            _retire(engine, timer_id)
            result.refused.append(f"timer {timer_id} of case {case_id}: {exc}")
            log.warning("timer %s of case %s refused: %s", timer_id, case_id, exc)
    return result


def fire_one(engine: Engine, timer_id: int, case_id: int) -> bool:
    """Fire one timer if it is still open; False if another sweeper has it or had it."""
    with engine.store.transaction() as conn:
        case = engine.lock(conn, case_id, skip_locked=True)
        if case is None:
            return False
        timer = conn.execute(
            timers.update()
            .where(timers.c.id == timer_id, timers.c.fired_at.is_(None))
            .values(fired_at=engine.clock.now())
            .returning(timers.c.event, timers.c.payload, timers.c.notify)
        ).first()
        if timer is None:
            return False
        engine.apply(
            conn,
            FireEvent(
                case_id=case_id,
                event=timer.event,
                actor="system",
                role="system",
                payload=json.loads(timer.payload),
                notify=tuple(n for n in timer.notify.split(",") if n),
            ),
            locked=case,
        )
        return True


def _retire(engine: Engine, timer_id: int) -> None:
    try:
        with engine.store.transaction() as conn:
            conn.execute(
                timers.update()
                .where(timers.c.id == timer_id, timers.c.fired_at.is_(None))
                .values(fired_at=engine.clock.now())
            )
    except TatulasuError:
        log.exception("could not retire timer %s", timer_id)
