"""A batch of openings stores exactly what the same referrals opened one by one store.

On PostgreSQL a batch goes through COPY and a single referral through INSERT: the rows
must be the same, value for value (ids, hashes, instants, flags), on both paths; on
SQLite both are INSERTs. A twin racing in below the batch is still a `DuplicateCase`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import BIN_A, PG_URL, START, make_iin
from workflow.calendar import BusinessCalendar
from workflow.clock import SimulatedClock
from workflow.commands import OpenCase, PartyInput
from workflow.engine import Engine
from workflow.errors import DuplicateCase
from workflow.schema import audit_events, cases, outbox, parties, timers
from workflow.store import Store

TABLES = (cases, parties, audit_events, timers, outbox)
N = 60  # above the batch size from which PostgreSQL takes rows by COPY


def referral(i: int) -> OpenCase:
    return OpenCase(
        event="refer_enforcement",
        actor="bailiff-7",
        role="bailiff",
        region="VKO",
        centre="Oskemen Tatulasu centre",
        parties=(
            PartyInput("debtor", f"Debtor {i}", make_iin(400 + i), phone="+77011234567"),
            PartyInput("creditor", "Altai LLP", BIN_A, email="d@altai.kz", language="ru"),
        ),
        subject=f"debt {i}",
        enforcement_proceeding=f"EP-{i}",
    )


def rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    with store.reading() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(t.c.id))] for t in TABLES
        }


@pytest.fixture
def second_store(store: Store, pg_admin_or_none: sa.Engine | None) -> Iterator[Store]:
    """A second, empty store of the same backend as `store`."""
    if store.dialect == "sqlite":
        path = store.url.removeprefix("sqlite:///") + ".second"
        other = Store(f"sqlite:///{path}")
        other.migrate()
        yield other
        other.dispose()
        return
    assert pg_admin_or_none is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with pg_admin_or_none.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    other = Store(f"{PG_URL}?options={quote(f'-csearch_path={schema}')}")
    try:
        other.migrate()
        yield other
    finally:
        other.dispose()
        with pg_admin_or_none.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_admin_or_none(request: pytest.FixtureRequest, store: Store) -> sa.Engine | None:
    if store.dialect != "postgresql":
        return None
    return request.getfixturevalue("pg_admin")  # type: ignore[no-any-return]


def test_a_batch_stores_what_one_by_one_stores(
    store: Store, second_store: Store, calendar: BusinessCalendar
) -> None:
    batch = Engine(store, clock=SimulatedClock(START), calendar=calendar)
    single = Engine(second_store, clock=SimulatedClock(START), calendar=calendar)
    with store.transaction() as conn:
        batch.open_cases_in(conn, [referral(i) for i in range(N)])
    for i in range(N):
        single.open_case(referral(i))
    stored, expected = rows(store), rows(second_store)
    assert {name: len(r) for name, r in stored.items()} == {
        name: len(r) for name, r in expected.items()
    }
    assert stored == expected
    assert len(stored["cases"]) == N and len(stored["outbox"]) >= N


def test_a_batch_naming_an_open_proceeding_is_refused_whole(
    store: Store, calendar: BusinessCalendar
) -> None:
    engine = Engine(store, clock=SimulatedClock(START), calendar=calendar)
    engine.open_case(referral(7))
    with pytest.raises(DuplicateCase) as refused, store.transaction() as conn:
        engine.open_cases_in(conn, [referral(i) for i in range(N)])
    assert refused.value.case_id == 1 and refused.value.value == "EP-7"
    assert len(rows(store)["cases"]) == 1
