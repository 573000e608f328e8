"""DBOS Transact as a peer: a dispute as a durable workflow driven by messages.

This is DBOS's documented path for a long-lived process fed by outside events: a
`@DBOS.workflow()` loops on `DBOS.recv(topic)` and records each event with a
`@DBOS.step()`; a client sends each event with `DBOS.send(workflow_id, message, topic)`.
DBOS keeps everything in its system database on PostgreSQL: per event the send inserts a
`notifications` row (its own transaction; a trigger NOTIFYs the listener), the `recv`
records its durable timeout and then, in one transaction, consumes the message and records
it as the workflow's step output, and the step records its output (`operation_outputs`).

An event counts when the workflow has recorded its step, that is, when it is persisted
and applied, which is what a return from `Engine.fire` means. The workflow tells the
client so through an in-memory board (`Acks`), not through `DBOS.set_event`, which would
add a write per event: the harness's acknowledgement costs DBOS nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dbos import DBOS, DBOSConfig, SetWorkflowID

TOPIC = "events"
CLOSE = "close"


class Acks:
    """How many events each dispute's workflow has recorded, and in all."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.recorded: dict[int, int] = {}
        self.total = 0

    def record(self, case_no: int, n: int) -> None:
        with self.cond:
            self.recorded[case_no] = n
            self.total += 1
            self.cond.notify_all()

    def wait_for(self, case_no: int, n: int) -> None:
        with self.cond:
            while self.recorded.get(case_no, 0) < n:
                self.cond.wait(1.0)


# DBOS registers workflows and steps by their function's name when they are decorated,
# so the functions (and the board they report to) live at module level.
ACKS = Acks()


@DBOS.step()
def record_event(case_no: int, n: int, message: dict[str, str]) -> dict[str, Any]:
    """The dispute's new facts after the event (DBOS stores this output)."""
    return {"case": case_no, "consultations": n, "last_event": message["event"]}


@DBOS.workflow()
def dispute(case_no: int) -> int:
    """One dispute: each message on TOPIC is an event, recorded as a step, until CLOSE."""
    n = 0
    while True:
        message = DBOS.recv(TOPIC, timeout_seconds=600)
        if message is None:  # the wait ended without a message: wait again
            continue
        if message == CLOSE:
            return n
        record_event(case_no, n + 1, message)
        n += 1
        ACKS.record(case_no, n)


def event_message() -> dict[str, str]:
    return {"event": "record_consultation", "actor": "mediator-1", "role": "coordinator"}


@contextmanager
def launched(system_database_url: str) -> Iterator[None]:
    """DBOS with its own system database, shut down on leaving."""
    config: DBOSConfig = {
        "name": "tatulasu-peers",
        "system_database_url": system_database_url,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()
    try:
        yield
    finally:
        DBOS.destroy()


def run(clients: int, window: int, seconds: float, first_case: int) -> tuple[float, int]:
    """Recorded events/s with `clients` client threads, each with `window` events in flight.

    Each client drives `window` disputes of its own (new workflows, numbered from
    `first_case`), round-robin, and sends a dispute its next event only once the previous
    one is recorded; window 1 is one event in flight per client, as for the other systems.
    Returns the rate and the number of cases used.
    """
    n_cases = clients * window
    cases = list(range(first_case, first_case + n_cases))
    handles = []
    for case_no in cases:
        with SetWorkflowID(f"dispute-{case_no}"):
            handles.append(DBOS.start_workflow(dispute, case_no))
    sent = dict.fromkeys(cases, 0)
    start = time.perf_counter() + 0.5
    stop = start + seconds

    def client(mine: list[int]) -> None:
        i = 0
        while time.perf_counter() < stop:
            case_no = mine[i % len(mine)]
            ACKS.wait_for(case_no, sent[case_no])
            DBOS.send(f"dispute-{case_no}", event_message(), TOPIC)
            sent[case_no] += 1
            i += 1

    threads = [
        threading.Thread(target=client, args=(cases[k * window : (k + 1) * window],))
        for k in range(clients)
    ]
    for t in threads:
        t.start()
    time.sleep(max(start - time.perf_counter(), 0.0))  # the first 0.5 s warm up
    at_start = ACKS.total
    time.sleep(max(stop - time.perf_counter(), 0.0))
    at_stop = ACKS.total
    for t in threads:
        t.join()
    for case_no in cases:
        ACKS.wait_for(case_no, sent[case_no])
        DBOS.send(f"dispute-{case_no}", CLOSE, TOPIC)
    for handle in handles:
        handle.get_result()
    return (at_stop - at_start) / seconds, n_cases
