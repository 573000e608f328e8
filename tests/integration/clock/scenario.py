"""Scenario data for the clock tests: cases whose terms have all fallen due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import BIN_A, make_iin
from workflow.clock import SimulatedClock
from workflow.commands import OpenCase, PartyInput
from workflow.engine import Engine
from workflow.schema import audit_events, outbox, timers, users
from workflow.store import Store

CENTRES = ("Oskemen Tatulasu centre", "Semey mediation office", "Ridder akimat office")


def seed_due_cases(store: Store, n: int) -> None:
    """`n` referrals opened three weeks ago: each has a reminder and two escalations due."""
    clock = SimulatedClock(datetime.now(UTC) - timedelta(days=21))
    engine = Engine(store, clock=clock)
    with store.transaction() as conn:
        officials = [
            {"id": f"coord-{i}", "role": "coordinator", "centre": c, "email": f"coord{i}@ex.kz"}
            for i, c in enumerate(CENTRES)
        ] + [{"id": "sup-vko", "role": "supervisor", "centre": None, "email": "sup@ex.kz"}]
        for o in officials:
            conn.execute(
                users.insert().values(
                    name=o["id"],
                    region="VKO",
                    language="ru",
                    active=True,
                    created_at=clock.now(),
                    **o,
                )
            )
    for i in range(n):
        engine.open_case(
            OpenCase(
                event="refer",
                actor=f"party-{i}",
                role="party",
                region="VKO",
                centre=CENTRES[i % len(CENTRES)],
                parties=(
                    PartyInput("claimant", f"Claimant {i}", make_iin(i), email=f"c{i}@ex.kz"),
                    PartyInput("respondent", "Altai LLP", BIN_A, phone="+77011234567"),
                ),
            )
        )


@dataclass(frozen=True)
class Progress:
    timers: int
    fired: int
    fired_events: int
    messages: int
    settled: int

    @property
    def done(self) -> bool:
        return self.fired == self.timers and self.settled == self.messages


def progress(store: Store) -> Progress:
    """Timers due by now (the real clock) and fired; messages written and settled."""
    due = sa.select(sa.func.count()).select_from(timers).where(timers.c.due_at <= datetime.now(UTC))
    with store.reading() as conn:
        total = conn.execute(due).scalar_one()
        fired = conn.execute(due.where(timers.c.fired_at.is_not(None))).scalar_one()
        events = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(audit_events.c.event.in_(("remind", "escalate")))
        ).scalar_one()
        messages = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        settled = conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.status.in_(("sent", "failed")))
        ).scalar_one()
    return Progress(total, fired, events, messages, settled)
