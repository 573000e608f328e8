"""SpiffWorkflow as a peer: a BPMN dispute whose workflow is one JSON row per case.

The process (`bench/dispute.bpmn`) is four user tasks in a row: referred, pre_trial,
mediation, agreement. Its spec is parsed once and serialized once into `spiff_specs` under
its name; each client restores it from there. A case's row holds the workflow's state (the
task tree and its data) with the spec's name only, so no spec is serialized per event.

One event is one transaction: read the case's row, restore the workflow with Spiff's JSON
serializer, complete the ready user task (or, once a case is settled, start a new dispute
in its row), run the engine steps, serialize and `UPDATE … WHERE id AND version` (the same
optimistic check as ours; clients own their cases, so it never fails).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import (
    DEFAULT_CONFIG,
    BpmnWorkflowSerializer,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import TaskState

BPMN = Path(__file__).with_name("dispute.bpmn")
PROCESS = "dispute"

SCHEMA = (
    "CREATE TABLE spiff_specs (name text PRIMARY KEY, spec text NOT NULL)",
    "CREATE TABLE spiff_cases"
    " (id integer PRIMARY KEY, version integer NOT NULL, workflow text NOT NULL)",
)
READ = "SELECT version, workflow FROM spiff_cases WHERE id = %s"
WRITE = "UPDATE spiff_cases SET workflow = %s, version = %s WHERE id = %s AND version = %s"


def serializer_for(specs: dict[str, Any]) -> BpmnWorkflowSerializer:
    """Spiff's JSON serializer, writing the top workflow's spec as its name only.

    Spiff's default converter embeds the whole spec in every serialized workflow; this one
    writes the name and takes the spec back from `specs`. `from_dict` is Spiff's own
    (3.2.0) with that one change.
    """

    class NamedSpecConverter(BpmnWorkflowConverter):  # type: ignore[misc]
        def to_dict(self, workflow: Any) -> dict[str, Any]:
            dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
            dct["spec"] = workflow.spec.name
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

        def from_dict(self, dct: dict[str, Any]) -> Any:
            workflow = self.target_class(specs[dct.pop("spec")], {}, deserializing=True)
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    config = {**DEFAULT_CONFIG, BpmnWorkflow: NamedSpecConverter}
    return BpmnWorkflowSerializer(registry=BpmnWorkflowSerializer.configure(config))


def new_dispute(spec: Any) -> Any:
    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    return workflow


def setup(url: str, n_cases: int) -> None:
    """Create the tables, store the spec once under its name, open `n_cases` disputes."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec(PROCESS)
    serializer = serializer_for({PROCESS: spec})
    spec_json = json.dumps(serializer.to_dict(spec))
    with psycopg.connect(url) as conn:
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute("INSERT INTO spiff_specs VALUES (%s, %s)", (PROCESS, spec_json))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO spiff_cases VALUES (%s, 1, %s)",
                [(i, serializer.serialize_json(new_dispute(spec))) for i in range(n_cases)],
            )


class Client:
    """One client: its own connection, serializer and spec (Spiff's registry is not shared
    between threads: it flips a mode flag while it serializes)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url)
        restorer = serializer_for({})
        row = self.conn.execute("SELECT spec FROM spiff_specs WHERE name = %s", (PROCESS,))
        found = row.fetchone()
        assert found is not None
        self.spec = restorer.from_dict(json.loads(found[0]))
        self.serializer = serializer_for({PROCESS: self.spec})
        self.conn.commit()

    def event(self, case_id: int) -> None:
        with self.conn.transaction():
            found = self.conn.execute(READ, (case_id,)).fetchone()
            assert found is not None
            version, stored = found
            workflow = self.serializer.deserialize_json(stored)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            if task is None:  # settled: the row takes the next dispute
                workflow = new_dispute(self.spec)
            else:
                task.data[task.task_spec.name] = {"actor": "mediator-1", "role": "coordinator"}
                task.run()
                workflow.do_engine_steps()
            written = self.conn.execute(
                WRITE, (self.serializer.serialize_json(workflow), version + 1, case_id, version)
            )
            if written.rowcount != 1:
                raise RuntimeError(f"case {case_id}: version {version} is stale")

    def close(self) -> None:
        self.conn.close()


def run(url: str, groups: list[list[int]], seconds: float) -> float:
    """Events/s of one client thread per group, each round-robin over its own cases."""
    clients = [Client(url) for _ in groups]
    counts = [0] * len(groups)
    start = time.perf_counter() + 0.2
    stop = start + seconds

    def work(i: int) -> None:
        ids, client = groups[i], clients[i]
        while time.perf_counter() < start:
            time.sleep(0.0005)
        n = 0
        while time.perf_counter() < stop:
            client.event(ids[n % len(ids)])
            n += 1
        counts[i] = n

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(groups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for client in clients:
        client.close()
    return sum(counts) / seconds
