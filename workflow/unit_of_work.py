"""Writing what one decision changes: the case row, its history record, its open timers.

Every event and every move between lifecycle versions ends in the same three writes, in
the caller's transaction: the case row updated `WHERE id = ? AND version = ?` (a row
that changed since it was read writes nothing and raises `ConcurrentUpdate`), the
hash-chained history record appended, and, when the case's term changed, its open
timers replaced. A `Change` holds them, decided without I/O; `write` is the one place
that speaks SQL for them. The statements are built once: the UPDATE's SET clause comes
from the keys of the values, so SQLAlchemy's compiled cache is hit, not a statement
built per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.audit import new_record
from workflow.errors import ConcurrentUpdate
from workflow.schema import audit_events, cases, timers
from workflow.terms import PlannedTimer

_UPDATE_CASE = cases.update().where(
    cases.c.id == sa.bindparam("where_id"), cases.c.version == sa.bindparam("where_version")
)
_INSERT_AUDIT = audit_events.insert()
_INSERT_TIMERS = timers.insert()
_DELETE_OPEN_TIMERS = timers.delete().where(
    timers.c.case_id == sa.bindparam("case_id"), timers.c.fired_at.is_(None)
)


@dataclass(frozen=True, slots=True)
class Change:
    """What one decision writes to a case read at `version`.

    `values` are the case columns it sets (version, head and updated_at included);
    `record` is the history record; `timers`, when not None, replace the open timers,
    which exist only if `had_term` (a case without a term has none to delete).
    """

    case_id: int
    version: int
    values: Mapping[str, Any]
    record: Mapping[str, Any]
    timers: list[PlannedTimer] | None
    had_term: bool = True


def recorded(
    row: Any,
    event: str,
    actor: str,
    role: str,
    at: datetime,
    to_state: str,
    payload: str,
    values: Mapping[str, Any],
    timers: list[PlannedTimer] | None,
    *,
    had_term: bool = True,
) -> Change:
    """The change that sets `values` on the case `row`, recorded as `event` by `actor` in
    `role` at `at` (the case to `to_state`; `payload` its canonical JSON): the history
    record chained to the case's head, and the version, head and instant on the row."""
    seq = row.version + 1
    record = new_record(
        row.audit_head, case_id=row.id, seq=seq, event=event, actor=actor, role=role, at=at,
        from_state=row.state, to_state=to_state, payload=payload,
    )  # fmt: skip
    final = {**values, "version": seq, "audit_head": record["hash"], "updated_at": at}
    return Change(row.id, row.version, final, record, timers, had_term)


def write(conn: Connection, change: Change) -> None:
    """Write `change` in the caller's transaction; `ConcurrentUpdate` if the case moved on."""
    updated = conn.execute(
        _UPDATE_CASE, {**change.values, "where_id": change.case_id, "where_version": change.version}
    )
    if updated.rowcount != 1:
        raise ConcurrentUpdate(change.case_id, change.version)
    conn.execute(_INSERT_AUDIT, change.record)
    if change.timers is not None:
        if change.had_term:
            conn.execute(_DELETE_OPEN_TIMERS, {"case_id": change.case_id})
        if change.timers:
            conn.execute(_INSERT_TIMERS, [t.row(change.case_id) for t in change.timers])
