"""A crash resends at most the messages in flight; a database failure resends none.

Against a real SMTP server and SMS gateway that count every attempt by key (an ordinary
relay would hand each attempt to a person): a `tatulasu dispatch` process killed with
SIGKILL mid-batch, PostgreSQL cut by a TCP proxy and a SQLite file locked by another
connection while results are written, a batch that outlasts its lease, and a worker whose
rows another worker has claimed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tasks.dispatch import Dispatcher, Policy
from tasks.sinks import Outgoing, Receipt, Sink, SmsGatewaySink, SmtpSink
from tests.conftest import Desk
from tests.integration.clock.pgproxy import PgProxy
from tests.integration.clock.scenario import progress, seed_due_cases
from tests.integration.clock.sinks import Deliveries
from workflow import audit
from workflow.engine import Engine
from workflow.errors import StoreError
from workflow.schema import outbox
from workflow.store import Store

Smtp = tuple[int, Deliveries]
Sms = tuple[str, Deliveries]
CASES = 20  # 60 messages: the claimant by e-mail, the respondent by SMS, the coordinator
GROUP = Policy().settle_every


def _sinks(smtp: Smtp, sms: Sms) -> dict[str, Sink]:
    return {
        "email": SmtpSink("127.0.0.1", smtp[0], "tatulasu@example.kz"),
        "sms": SmsGatewaySink(sms[0], token="secret"),
    }


def _statuses(store: Store) -> dict[str, int]:
    query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    with store.reading() as conn:
        return {status: n for status, n in conn.execute(query)}


def _duplicates(smtp: Smtp, sms: Sms) -> int:
    return smtp[1].duplicates + sms[1].duplicates


def _received(smtp: Smtp, sms: Sms) -> int:
    return smtp[1].count() + sms[1].count()


def _assert_all_delivered_once_recorded(store: Store, smtp: Smtp, sms: Sms) -> None:
    state = progress(store)
    assert state.settled == state.messages == 3 * CASES
    assert _statuses(store) == {"sent": 3 * CASES}
    assert _received(smtp, sms) == state.messages  # every key reached its sink
    with store.reading() as conn:
        report = audit.verify(conn)
    assert report.ok, report.breaks[:3]


# ---------------------------------------------------------------------------- kill -9


def _dispatch_process(store: Store, smtp: Smtp, sms: Sms, log: Path) -> subprocess.Popen[bytes]:
    """`tatulasu dispatch --once` in a process group of its own, on the real clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TATULASU_")}
    env.update(
        TATULASU_DATABASE_URL=store.url,
        TATULASU_SMTP_HOST="127.0.0.1",
        TATULASU_SMTP_PORT=str(smtp[0]),
        TATULASU_SMS_GATEWAY_URL=sms[0],
        TATULASU_DISPATCH_LEASE_SECONDS="2",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tatulasu", "dispatch", "--once", "--limit", "200"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_a_dispatcher_killed_mid_batch_resends_at_most_one_group_and_loses_nothing(
    store: Store, smtp: Smtp, sms: Sms, tmp_path: Path
) -> None:
    seed_due_cases(store, CASES)
    log = tmp_path / "dispatch.log"
    doomed: list[subprocess.Popen[bytes]] = []

    def kill_at_the_25th_mail(attempts: int) -> None:
        if attempts == 25:  # while the dispatcher waits for this message's answer
            os.killpg(doomed[0].pid, signal.SIGKILL)

    smtp[1].on_attempt = kill_at_the_25th_mail
    doomed.append(_dispatch_process(store, smtp, sms, log))
    assert doomed[0].wait(120) == -signal.SIGKILL, log.read_text()
    smtp[1].on_attempt = None
    sent_before = _received(smtp, sms)
    assert _statuses(store).get("sending", 0) > 0  # the killed batch's rows are still leased

    time.sleep(2.5)  # the lease (2 s) ends: the rows the dead worker held are due again
    again = _dispatch_process(store, smtp, sms, log)
    assert again.wait(120) == 0, log.read_text()

    assert sent_before >= 25  # the batch was well under way
    assert 1 <= _duplicates(smtp, sms) <= GROUP, log.read_text()  # was: every message sent
    _assert_all_delivered_once_recorded(store, smtp, sms)


# ---------------------------------------------------------------------------- store fails


Fault = Callable[[], None]


@contextmanager
def _pg_behind_proxy(pg_store: Store) -> Iterator[tuple[Store, Fault]]:
    """The dispatcher's store through a proxy that cuts PostgreSQL for 3 s when told."""
    with PgProxy() as proxy:
        store = Store(pg_store.url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
        try:
            yield store, lambda: proxy.outage(seconds=3)
        finally:
            store.dispose()


@contextmanager
def _sqlite_locked(sqlite_store: Store) -> Iterator[tuple[Store, Fault]]:
    """The dispatcher's store on a SQLite file that another connection locks for 3 s when
    told; the dispatcher waits 0.1 s for a lock (the deployment's 30 s would only wait)."""
    store = Store(sqlite_store.url)

    @sa.event.listens_for(store.engine, "connect")
    def _impatient(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    def lock() -> None:
        path = sqlite_store.url.removeprefix("sqlite:///")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            time.sleep(3)
            other.execute("ROLLBACK")
        finally:
            other.close()

    try:
        yield store, lock
    finally:
        store.dispose()


@pytest.fixture(params=["sqlite-locked", pytest.param("postgres-cut", marks=pytest.mark.postgres)])
def failing_store(request: pytest.FixtureRequest) -> Iterator[tuple[Store, Store, Fault]]:
    """(the seeded store, the dispatcher's view of it, the fault that makes writes fail)."""
    if request.param == "sqlite-locked":
        seeded: Store = request.getfixturevalue("sqlite_store")
        fails = _sqlite_locked(seeded)
    else:
        seeded = request.getfixturevalue("pg_store")
        fails = _pg_behind_proxy(seeded)
    seed_due_cases(seeded, CASES)
    with fails as (store, fault):
        yield seeded, store, fault


def _strike_at(deliveries: Deliveries, n: int, fault: Fault) -> threading.Thread:
    """Start the fault (on a thread) while the n-th message is being delivered."""
    strike = threading.Thread(target=fault)

    def hook(attempts: int) -> None:
        if attempts == n:
            strike.start()
            time.sleep(0.2)  # the fault is in place before the sender gets its answer

    deliveries.on_attempt = hook
    return strike


def test_results_the_store_refused_are_kept_written_later_and_nothing_is_sent_twice(
    failing_store: tuple[Store, Store, Fault], smtp: Smtp, sms: Sms
) -> None:
    seeded, store, fault = failing_store
    dispatcher = Dispatcher(Engine(store), _sinks(smtp, sms))  # the real clock, a 60 s lease
    strike = _strike_at(smtp[1], 10, fault)

    first = dispatcher.run_once(limit=200)  # waits out the fault, writing again with backoff
    strike.join()
    assert dispatcher.unwritten == 0
    assert first.released > 0  # the batch stopped at the fault: the rest were put back
    assert first.sent == _received(smtp, sms)  # every result of a message sent was written
    while progress(seeded).settled < 3 * CASES:
        assert dispatcher.run_once(limit=200).handled > 0

    assert _duplicates(smtp, sms) == 0
    _assert_all_delivered_once_recorded(seeded, smtp, sms)


def test_results_kept_longer_than_the_patience_keep_their_lease_from_other_workers(
    failing_store: tuple[Store, Store, Fault], smtp: Smtp, sms: Sms
) -> None:
    seeded, store, fault = failing_store
    impatient = Policy(unwritten_patience_seconds=0.5)
    dispatcher = Dispatcher(Engine(store), _sinks(smtp, sms), policy=impatient)
    other = Dispatcher(Engine(seeded), _sinks(smtp, sms))  # another worker, on the store
    strike = _strike_at(smtp[1], 10, fault)

    with pytest.raises(StoreError):
        dispatcher.run_once(limit=200)  # gives up for now; the results stay in memory
    strike.join()
    kept = dispatcher.unwritten  # results of messages sent, and the rows to put back
    assert kept > 0 and kept + progress(seeded).settled == 3 * CASES
    sent = _received(smtp, sms)
    assert other.run_once(limit=200).handled == 0  # the store is back: every row is still ours

    mine = dispatcher.run_once(limit=200)  # first of all, the kept results are written
    assert dispatcher.unwritten == 0 and mine.sent >= sent
    while progress(seeded).settled < 3 * CASES:
        other.run_once(limit=200)
    assert _duplicates(smtp, sms) == 0
    _assert_all_delivered_once_recorded(seeded, smtp, sms)


# ---------------------------------------------------------------------------- the lease


class _Hooked:
    """A real sink that runs a test's hook after each message it sends."""

    def __init__(self, sink: Sink, after: Callable[[], None]) -> None:
        self.sink, self.after = sink, after

    def send(self, message: Outgoing) -> Receipt:
        receipt = self.sink.send(message)
        self.after()
        return receipt

    def close(self) -> None:
        self.sink.close()


POLICY = Policy(lease_seconds=60, max_attempts=3, backoff_base_seconds=10)


def _hooked(smtp: Smtp, sms: Sms, after: Callable[[], None]) -> dict[str, Sink]:
    return {channel: _Hooked(sink, after) for channel, sink in _sinks(smtp, sms).items()}


def _refer(desk: Desk, n: int) -> None:
    for _ in range(n):
        desk.refer()  # the claimant by e-mail, the respondent by SMS, the coordinator


def test_results_are_written_group_by_group_while_the_batch_is_sent(
    desk: Desk, smtp: Smtp, sms: Sms
) -> None:
    _refer(desk, 10)  # 20 messages to send (no coordinator on file: 10 fail at once)
    settled_seen: list[int] = []

    def look() -> None:
        statuses = _statuses(desk.store)
        settled_seen.append(statuses.get("sent", 0) + statuses.get("failed", 0))

    policy = Policy(lease_seconds=60, settle_every=4)
    result = Dispatcher(desk.engine, _hooked(smtp, sms, look), policy=policy).run_once()

    assert result.sent == 20 and result.failed == 10
    assert settled_seen[-1] >= 30 - 1 - 4  # all but the last group written before it ends
    assert settled_seen == sorted(settled_seen)
    assert len(set(settled_seen)) >= 30 // 4 - 1  # written as it went, not at the end


def test_a_batch_that_outlasts_its_lease_keeps_its_rows(desk: Desk, smtp: Smtp, sms: Sms) -> None:
    _refer(desk, 4)
    other = Dispatcher(desk.engine, _sinks(smtp, sms), policy=POLICY)
    stolen: list[int] = []

    def slow_send() -> None:  # each message takes half a lease
        desk.advance(seconds=POLICY.lease_seconds / 2)
        stolen.extend(row.id for row in other.claim(100))

    slow = Dispatcher(desk.engine, _hooked(smtp, sms, slow_send), policy=POLICY)
    result = slow.run_once()

    assert (result.sent, result.failed, result.lost_lease) == (8, 4, 0)
    assert stolen == []  # four leases long, and no other worker could claim a row
    assert _duplicates(smtp, sms) == 0


def test_rows_another_worker_claimed_meanwhile_are_not_sent_and_count_as_lost(
    desk: Desk, smtp: Smtp, sms: Sms
) -> None:
    _refer(desk, 2)
    other = Dispatcher(desk.engine, _sinks(smtp, sms), policy=POLICY)
    taken: list[Any] = []

    def stall_once() -> None:  # the worker stalls past its lease after its first message
        if not taken:
            desk.advance(seconds=POLICY.lease_seconds + 1)
            taken.extend(other.claim(100))

    late = Dispatcher(desk.engine, _hooked(smtp, sms, stall_once), policy=POLICY)
    result = late.run_once()

    assert len(taken) == 6  # its lease over, every row was claimed again
    assert (result.handled, result.lost_lease) == (0, 6)  # nothing settled over the claim
    assert _received(smtp, sms) == 1  # and only the message already sent went out
    assert _statuses(desk.store) == {"sending": 6}  # theirs now
