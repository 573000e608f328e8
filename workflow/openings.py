"""Writing opened cases: one referral, or a file's worth, in the same few statements.

What an opening stores is decided first, without I/O (`prepare`): the case's columns,
its parties, the genesis record's payload, its timers. `write` takes the new ids first
(the genesis hash covers the case id), then stores a batch with one statement per table
— a multi-row INSERT, or on PostgreSQL a COPY for a batch — so a bailiff's file of
200,000 rows costs a few thousand round trips, not a million, and every case is stored
exactly as `POST /cases` stores one (both go through here).

An open case per enforcement proceeding is kept by the unique index
`ux_cases_open_proceeding`: a twin already committed is named before the insert; one
committed by a racing transaction makes the insert fail, reported as `DuplicateCase`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from states import Lifecycle
from workflow import identifiers
from workflow.audit import GENESIS, canonical_json, new_record
from workflow.commands import OpenCase
from workflow.errors import DuplicateCase
from workflow.opening import is_open_twin, opens, origin_of
from workflow.outbox import official_addresses, outbox_rows, party_addresses
from workflow.rules import Decision
from workflow.schema import audit_events, cases, outbox, parties, timers
from workflow.summary import terminal_states
from workflow.terms import PlannedTimer

# Columns an opening may leave out (they depend on the decision): their stored default.
_CASE_DEFAULTS: Mapping[str, Any] = {"closed_at": None, "enforcement_suspended": False}
# From this many rows on, PostgreSQL takes a table's rows by COPY: the same values through
# the same psycopg adapters as an INSERT's parameters (tests/integration/test_openings.py
# compares the stored rows), a fraction of the cost per row.
_COPY_FROM = 50
_CHUNK = 1000  # rows per IN list when looking for open twins


@dataclass(frozen=True, slots=True)
class Opening:
    """What opening one case stores, decided before anything is written."""

    cmd: OpenCase
    decision: Decision
    case: dict[str, Any]  # every column of the new cases row but id and audit_head
    payload: str  # the genesis record's payload (canonical JSON)
    timers: list[PlannedTimer]


@dataclass(frozen=True, slots=True)
class Opened:
    """A stored opening: its case id and genesis record."""

    opening: Opening
    record: dict[str, Any]


def prepare(
    cmd: OpenCase,
    lc: Lifecycle,
    decision: Decision,
    values: Mapping[str, Any],
    planned: list[PlannedTimer],
    now: datetime,
) -> Opening:
    """The rows of an opened case; `values` and `planned` are the decider's `opening`."""
    origin = origin_of(lc, cmd)
    fields = {
        "origin": origin,
        "procedure": cmd.procedure or opens(lc, cmd).procedure,
        "region": cmd.region,
        "centre": cmd.centre.strip(),
        "language": cmd.language,
        "subject": cmd.subject.strip(),
        "enforcement_proceeding": cmd.enforcement_proceeding,
        "bailiff": cmd.bailiff or (cmd.actor if origin == "bailiff" else None),
        "court": cmd.court or (cmd.actor if origin == "court" else None),
    }
    record = {
        **fields,
        "proposed_mediator": cmd.proposed_mediator,
        "parties": [vars(p) for p in cmd.parties],
        "definition": lc.version,
    }
    payload = canonical_json({k: v for k, v in record.items() if v is not None})
    case = {
        **_CASE_DEFAULTS,
        "definition_version": lc.version,
        "state": decision.to_state,
        "version": 1,
        "opened_at": now,
        "updated_at": now,
        **fields,
        **values,
    }
    return Opening(cmd, decision, case, payload, planned)


def write(conn: Connection, lc: Lifecycle, batch: Sequence[Opening], now: datetime) -> list[Opened]:
    """Store a batch of openings in the caller's transaction; their genesis records."""
    if not batch:
        return []
    refuse_open_twins(conn, batch)
    case_ids = _new_ids(conn, cases, len(batch))
    opened = [
        Opened(o, _genesis(o, lc, case_id, now)) for o, case_id in zip(batch, case_ids, strict=True)
    ]
    case_rows = [
        {**d.opening.case, "id": d.record["case_id"], "audit_head": d.record["hash"]}
        for d in opened
    ]
    integrity: tuple[type[Exception], ...] = (sa.exc.IntegrityError, *_copy_integrity_errors(conn))
    try:
        _store(conn, cases, case_rows)
    except integrity as exc:
        if not is_open_twin(exc):
            raise
        racing = [o.cmd.enforcement_proceeding for o in batch if o.cmd.enforcement_proceeding]
        shown = racing[0] if len(racing) == 1 else f"one of {len(racing)} proceedings"
        raise DuplicateCase("enforcement_proceeding", shown or "", None) from exc
    _store(conn, audit_events, [d.record for d in opened])
    party_rows = [
        {"case_id": d.record["case_id"], "kind": identifiers.validate(p.iin_bin), **vars(p)}
        for d in opened
        for p in d.opening.cmd.parties
    ]
    party_ids = _new_ids(conn, parties, len(party_rows))
    for row, party_id in zip(party_rows, party_ids, strict=True):
        row["id"] = party_id
    _store(conn, parties, party_rows)
    _store(conn, timers, [t.row(d.record["case_id"]) for d in opened for t in d.opening.timers])
    _store(conn, outbox, _messages(opened, party_rows, party_ids, lc, now))
    return opened


def _new_ids(conn: Connection, table: sa.Table, n: int) -> list[int]:
    """`n` ids for new rows of `table`, taken before the rows are written (the genesis
    record's hash covers the case id, so the case row is written once, complete)."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, n).table_valued("n")
        query = sa.select(sa.func.nextval(sequence)).select_from(series)
        return [int(i) for i in conn.execute(query).scalars()]
    # SQLite: the write transaction (BEGIN IMMEDIATE) holds the only write lock, and a new
    # rowid is the largest plus one, so these are the ids the rows would have been given.
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))


def _store(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows: a batch through PostgreSQL's COPY, else one multi-row INSERT."""
    if not rows:
        return
    if conn.dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        conn.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _copy_integrity_errors(conn: Connection) -> tuple[type[Exception], ...]:
    """The driver's own integrity error: COPY runs below SQLAlchemy, which does not wrap it."""
    if conn.dialect.name != "postgresql":
        return ()
    import psycopg

    return (psycopg.IntegrityError,)


def refuse_open_twins(conn: Connection, batch: Sequence[Opening]) -> None:
    """A proceeding with an open case must not be referred again: name the first twin."""
    wanted = [o.cmd.enforcement_proceeding for o in batch if o.cmd.enforcement_proceeding]
    if not wanted:
        return
    terminal = sorted(terminal_states())
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        twin = conn.execute(
            sa.select(cases.c.enforcement_proceeding, cases.c.id)
            .where(cases.c.enforcement_proceeding.in_(chunk), cases.c.state.not_in(terminal))
            .order_by(cases.c.id)
            .limit(1)
        ).first()
        if twin is not None:
            raise DuplicateCase("enforcement_proceeding", str(twin[0]), int(twin[1]))


def _genesis(o: Opening, lc: Lifecycle, case_id: int, now: datetime) -> dict[str, Any]:
    return new_record(
        GENESIS,
        case_id=case_id,
        seq=1,
        event=o.cmd.event,
        actor=o.cmd.actor,
        role=o.cmd.role,
        at=now,
        from_state=lc.initial,
        to_state=o.decision.to_state,
        payload=o.payload,
    )


def _messages(
    opened: Sequence[Opened],
    party_rows: Sequence[Mapping[str, Any]],
    party_ids: Sequence[int],
    lc: Lifecycle,
    now: datetime,
) -> list[dict[str, Any]]:
    """The outbox rows of every opening, the parties' addresses taken from their rows."""
    by_case: dict[int, list[Any]] = {}
    for row, party_id in zip(party_rows, party_ids, strict=True):
        by_case.setdefault(row["case_id"], []).append(_Contact(party_id, row))
    messages: list[dict[str, Any]] = []
    for d in opened:
        case_id = d.record["case_id"]
        case = {"id": case_id, **d.opening.case}

        def addresses_of(kind: str, case: Mapping[str, Any] = case, case_id: int = case_id) -> Any:
            if kind == "party":
                return party_addresses(by_case.get(case_id, []))
            return official_addresses(case, kind)

        notify = d.opening.decision.event.notify
        messages += outbox_rows(
            case, 1, d.opening.cmd.event, lc.initial, {}, notify, now, addresses_of
        )
    return messages


class _Contact:
    """A stored party as `party_addresses` reads it."""

    __slots__ = ("email", "id", "language", "phone")

    def __init__(self, party_id: int, row: Mapping[str, Any]) -> None:
        self.id = party_id
        self.email = row.get("email")
        self.phone = row.get("phone")
        self.language = row["language"]
