"""The running totals `/metrics` reads are the counts of the tables, whatever wrote them.

Triggers keep them (migration 0011): the engine's events, a batch of openings (COPY on
PostgreSQL), the sweep's escalations, the dispatcher's status changes and a stray SQL
statement all count; a rolled-back transaction counts nothing; on PostgreSQL two writers
of the same kind of event never wait for each other on a total's row.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

import states
from tests.conftest import Desk, make_iin
from workflow import counters
from workflow.commands import FireEvent, OpenCase, PartyInput
from workflow.schema import audit_events, cases, metric_deltas, outbox
from workflow.store import Store
from workflow.timers import sweep


def counted(store: Store) -> dict[str, dict[str, int]]:
    """What the totals must say, counted from the tables themselves."""
    with store.reading() as conn:

        def grouped(column: Any) -> dict[str, int]:
            query = sa.select(column, sa.func.count()).group_by(column)
            return {str(k): int(n) for k, n in conn.execute(query)}

        missed = conn.execute(sa.select(sa.func.sum(cases.c.terms_missed))).scalar_one()
        return {
            "cases": grouped(cases.c.state),
            "events": grouped(audit_events.c.event),
            "outbox": grouped(outbox.c.status),
            "terms_missed": {"": int(missed)} if missed else {},
        }


def kept(store: Store) -> dict[str, dict[str, int]]:
    """The running totals, without the labels that came back to zero."""
    with store.reading() as conn:
        found = counters.totals(conn)
    return {m: {k: n for k, n in found.get(m, {}).items() if n} for m in counted(store)}


def openings(n: int, first: int = 0) -> list[OpenCase]:
    return [
        OpenCase(
            event="refer_enforcement",
            actor="bailiff-7",
            role="bailiff",
            region="VKO",
            centre="Oskemen Tatulasu centre",
            enforcement_proceeding=f"EP-B-{first + i}",
            parties=(
                PartyInput("debtor", "Dana M.", make_iin(first + i + 10), phone="+77017654321"),
                PartyInput("creditor", "Altai LLP", "940140000385", email="debt@altai.kz"),
            ),
        )
        for i in range(n)
    ]


def a_busy_day(desk: Desk) -> None:
    """Cases in every open state, a batch of openings, escalations, messages handled."""
    for state in states.current().open_states():
        desk.to_state(state)
    with desk.store.transaction() as conn:
        desk.engine.open_cases_in(conn, openings(30))
    desk.advance(days=45)
    while sweep(desk.engine).fired:
        pass
    for state in states.current().open_states():  # and cases in every open state again
        desk.to_state(state)
    with desk.store.transaction() as conn:  # the dispatcher's outcomes, by plain SQL too
        ids = conn.scalars(sa.select(outbox.c.id).order_by(outbox.c.id)).all()
        conn.execute(outbox.update().where(outbox.c.id.in_(ids[::3])).values(status="sent"))
        conn.execute(outbox.update().where(outbox.c.id.in_(ids[1::7])).values(status="failed"))


def test_the_totals_are_the_counts_of_the_tables_after_a_busy_day(desk: Desk) -> None:
    a_busy_day(desk)
    expected = counted(desk.store)
    assert expected["terms_missed"] and len(expected["cases"]) > 5  # the day did all that
    assert kept(desk.store) == expected
    with desk.store.transaction() as conn:
        counters.fold(conn)
    assert kept(desk.store) == expected


def test_a_rolled_back_transaction_counts_nothing(desk: Desk) -> None:
    desk.refer()
    before = kept(desk.store)
    with pytest.raises(RuntimeError), desk.store.transaction() as conn:
        desk.engine.open_cases_in(conn, openings(5))
        conn.execute(cases.update().values(state="court"))
        raise RuntimeError("the file is refused")
    assert kept(desk.store) == before == counted(desk.store)


def test_a_deleted_case_or_message_is_taken_off_the_totals(desk: Desk) -> None:
    done = desk.refer()
    with desk.store.transaction() as conn:  # as an operator's clean-up script would
        conn.execute(outbox.delete().where(outbox.c.case_id == done.case_id))
    assert kept(desk.store) == counted(desk.store)


def test_the_migration_counts_what_was_stored_before_it(store: Store, desk: Desk) -> None:
    store.downgrade("0010")
    a_busy_day(desk)
    store.migrate()
    assert kept(store) == counted(store)
    desk.refer_enforcement("EP-AFTER")  # and the triggers count from there on
    assert kept(store) == counted(store)


ON_POSTGRES = pytest.mark.parametrize("store", ["postgres"], indirect=True)


@pytest.mark.postgres
@ON_POSTGRES
def test_postgres_folds_the_deltas_into_the_totals_and_a_read_sees_the_same(
    store: Store, desk: Desk
) -> None:
    a_busy_day(desk)
    with store.reading() as conn:
        pending = conn.execute(sa.select(sa.func.count()).select_from(metric_deltas)).scalar()
    assert pending
    before = kept(store)
    with store.transaction() as conn:
        assert counters.fold(conn) > 0
    with store.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(metric_deltas)).scalar() == 0
    assert kept(store) == before == counted(store)


@pytest.mark.postgres
@ON_POSTGRES
def test_postgres_writers_of_the_same_event_do_not_wait_on_a_total(
    store: Store, desk: Desk
) -> None:
    first, second = desk.refer().case_id, desk.refer(subject="another").case_id
    holding, done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def accept_and_hold() -> None:
        try:
            with store.transaction() as conn:
                desk.engine.apply(conn, accept(first))
                holding.set()
                done.wait(10)  # commits only after the other writer has committed
        except BaseException as exc:
            failures.append(exc)
            holding.set()

    holder = threading.Thread(target=accept_and_hold)
    holder.start()
    assert holding.wait(10)
    try:
        with store.transaction() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            desk.engine.apply(conn, accept(second))  # no lock to wait for
    finally:
        done.set()
        holder.join(10)
    assert not failures
    assert kept(store)["events"]["accept"] == 2 == counted(store)["events"]["accept"]


def accept(case_id: int) -> FireEvent:
    return FireEvent(case_id=case_id, event="accept", actor="coord-1", role="coordinator")
