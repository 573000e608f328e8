"""Persisted events on SQLite (WAL, one writer): Engine.fire vs. a naive SQLModel ORM loop.

Both sides fire `record_consultation` round-robin over the same number of cases, each on
its own fresh file of the same schema, through the same `Store` (same pragmas, same
`BEGIN IMMEDIATE`). The ORM side does what a first implementation would: a Session, load
the Case object, check its version, decide with the same shared rules, set the fields, add
an AuditEvent with the same hash, commit. Rounds alternate between the two sides; the
median round is reported.

    python -m bench.sqlite            # full run
    python -m bench.sqlite --quick    # a few seconds
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from bench.common import Row, consultation, open_cases, parser, print_table, rate, sqlite_store
from workflow import audit
from workflow.audit import canonical_json, record_hash
from workflow.clock import SystemClock
from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.errors import StaleVersion
from workflow.rules import Rules, facts_of, validate_payload
from workflow.schema import AuditEvent, Case
from workflow.store import Store


class OrmFirer:
    """The naive way: SQLModel ORM objects, one Session per event."""

    def __init__(self, store: Store, rules: Rules) -> None:
        self.store = store
        self.rules = rules
        self.clock = SystemClock()
        self.calendar = Engine(store).calendar

    def fire(self, cmd: FireEvent) -> str:
        lc = self.rules.lifecycle
        with Session(self.store.engine) as session:
            case = session.get(Case, cmd.case_id)
            assert case is not None and case.id is not None
            if cmd.expected_version is not None and case.version != cmd.expected_version:
                raise StaleVersion(case.id, cmd.expected_version, case.version)
            now = self.clock.now()
            decision = self.rules.decide(facts_of(case, lc), cmd.event, cmd.role)
            payload = validate_payload(
                decision.event, lc.reasons, cmd.payload, self.calendar.local_date(now)
            )
            seq = case.version + 1
            payload_json = canonical_json(payload)
            digest = record_hash(
                case.audit_head,
                case_id=case.id,
                seq=seq,
                event=cmd.event,
                actor=cmd.actor,
                role=cmd.role,
                at=now,
                from_state=case.state,
                to_state=decision.to_state,
                payload=payload_json,
            )
            session.add(
                AuditEvent(
                    case_id=case.id,
                    seq=seq,
                    event=cmd.event,
                    actor=cmd.actor,
                    role=cmd.role,
                    at=now,
                    from_state=case.state,
                    to_state=decision.to_state,
                    payload=payload_json,
                    prev_hash=case.audit_head,
                    hash=digest,
                )
            )
            case.state = decision.to_state
            case.version = seq
            case.audit_head = digest
            case.updated_at = now
            session.commit()
            return digest


def _firing(fire: Callable[[FireEvent], object], ids: list[int]) -> Callable[[], object]:
    commands = [consultation(i) for i in ids]
    position = 0

    def one() -> object:
        nonlocal position
        cmd = commands[position % len(commands)]
        position += 1
        return fire(cmd)

    return one


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n_cases = 20 if args.quick else 200
    n_events = 300 if args.quick else 5_000
    rounds = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        ours_store = sqlite_store(Path(tmp) / "engine.db")
        orm_store = sqlite_store(Path(tmp) / "orm.db")
        engine = Engine(ours_store)
        ours_ids = open_cases(engine, n_cases)
        orm_ids = open_cases(Engine(orm_store), n_cases)
        orm = OrmFirer(orm_store, engine.rules(1))
        ours_one = _firing(engine.fire, ours_ids)
        orm_one = _firing(orm.fire, orm_ids)
        rate(min(200, n_events), ours_one)  # warm caches on both sides
        rate(min(200, n_events), orm_one)
        ours_rates, orm_rates = [], []
        for _ in range(rounds):
            ours_rates.append(rate(n_events, ours_one))
            orm_rates.append(rate(n_events, orm_one))
        checks = []
        for store in (ours_store, orm_store):
            with store.reading() as conn:
                checks.append(audit.verify(conn).ok)
            store.dispose()
    ours, ref = statistics.median(ours_rates), statistics.median(orm_rates)
    print_table(
        f"SQLite (WAL), one writer, record_consultation over {n_cases} cases, "
        f"{n_events} events x {rounds} rounds (median)",
        [
            Row(
                "persisted events/s (Engine.fire vs ORM)",
                ours,
                ref,
                "events/s",
                ">= 5,000 and >= 4x",
            ),
            Row("microseconds per event", 1e6 / ours, 1e6 / ref, "us", ">= 4x", False),
            Row("best round events/s", max(ours_rates), max(orm_rates), "events/s"),
        ],
        "sqlmodel-orm",
    )
    print(f"audit chains verify: engine={checks[0]} orm={checks[1]}")
    print(f"rounds ours: {[round(r) for r in ours_rates]}; orm: {[round(r) for r in orm_rates]}")


if __name__ == "__main__":
    main()
