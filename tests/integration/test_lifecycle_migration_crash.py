"""A move to lifecycle version 2 killed midway leaves each case on one version, whole.

`tatulasu lifecycle migrate` runs as its own process over thousands of open version 1
cases and is killed with SIGKILL once some have moved. Every case is then either on
version 1 with its history untouched, or on version 2 with its move as the last record
of its chain; `audit verify` proves every case; a second run moves the rest, once each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BIN_A, IIN
from workflow import audit, moves
from workflow.commands import OpenCase, PartyInput
from workflow.engine import Engine
from workflow.schema import audit_events, cases
from workflow.store import Store

ROOT = Path(__file__).resolve().parents[2]
CASES = 4_000
MOVED_BEFORE_KILL = 200

PARTY_PAIR = (
    PartyInput("claimant", "Aigerim S.", IIN, email="aigerim@example.kz"),
    PartyInput("respondent", "Altai LLP", BIN_A, phone="+77011234567"),
)

pytestmark = pytest.mark.slow


def _fill(store: Store) -> list[int]:
    engine = Engine(store, opens_version=1)
    ids: list[int] = []
    for start in range(0, CASES, 1_000):
        cmds = [
            OpenCase(
                event="refer", actor="coordinator-1", role="coordinator", region="VKO",
                centre="Oskemen Tatulasu centre", parties=PARTY_PAIR, subject=f"dispute {i}",
            )
            for i in range(start, start + 1_000)
        ]  # fmt: skip
        with store.transaction() as conn:
            ids += [done.case_id for done in engine.open_cases_in(conn, cmds)]
    return ids


def _moves_recorded(store: Store) -> int:
    with store.reading() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(audit_events)
                .where(audit_events.c.event == "change_lifecycle")
            ).scalar_one()
        )


def test_a_killed_move_leaves_every_case_whole_and_a_second_run_finishes_it(
    store: Store,
) -> None:
    ids = _fill(store)
    env = {**os.environ, "TATULASU_DATABASE_URL": store.url}
    command = [sys.executable, "-m", "tatulasu", "lifecycle", "migrate", "--from", "1"]
    process = subprocess.Popen(
        [*command, "--to", "2", "--actor", "operator"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _moves_recorded(store) < MOVED_BEFORE_KILL and process.poll() is None:
        assert time.monotonic() < deadline, "the move did not start"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    moved = _moves_recorded(store)
    assert MOVED_BEFORE_KILL <= moved < CASES, "killed too late to prove anything"

    with store.reading() as conn:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.definition_version, cases.c.state, cases.c.version)
        ).all()
        moved_cases = set(
            conn.execute(
                sa.select(audit_events.c.case_id).where(
                    audit_events.c.event == "change_lifecycle", audit_events.c.seq == 2
                )
            ).scalars()
        )
    on_two = {r.id for r in rows if r.definition_version == 2}
    assert on_two == moved_cases and len(on_two) == moved  # each move is its case's last record
    for row in rows:
        if row.definition_version == 2:
            assert (row.version, row.state) == (2, "referred")
        else:
            assert (row.definition_version, row.version, row.state) == (1, 1, "referred")
    with store.reading() as conn:
        assert audit.verify(conn, decider=Engine(store)).ok

    report = moves.move_cases(Engine(store), 1, 2, "operator")
    assert len(report.moved) == CASES - moved and not report.unplaced
    assert _moves_recorded(store) == CASES
    with store.reading() as conn:
        found = audit.verify(conn, case_ids=ids[::97], decider=Engine(store))
    assert found.ok, found.breaks[:3]
