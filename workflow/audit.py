"""The tamper-evident history: each case's events form a hash chain.

    hash = sha256(prev_hash ‖ canonical JSON of the record)

The record holds the case, its sequence number, the event, who fired it in which role,
when, the states before and after, and the payload. Changing any field, removing,
reordering or splicing in a record breaks the chain at that record; `verify` names it.
Rewriting a whole chain consistently is caught by comparing with head hashes exported
earlier and kept outside the database (`export_heads`, `verify(heads=...)`); the
exported heads are signed with an Ed25519 key that the database never holds, so whoever
rewrites the database cannot also rewrite the heads (`parse_heads` checks the signature).

The chain proves the history; supervisors, courts and the report read the case row. So
`verify` also replays each intact chain through the engine's own decisions and names
every column of the case row, its parties and its open timers that differs from what
the history says (workflow/projection.py). One streamed pass over the history in case
order, merged in Python with one pass each over cases, parties and open timers: no
query per case.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import audit_keys
from workflow.errors import (
    HeadsMalformed,
    HeadsRefused,
    HeadsUnsigned,
    PublicKeyMissing,
    SignatureMismatch,
)
from workflow.schema import audit_events, cases, parties, timers
from workflow.store import utc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from workflow.engine import Decider

GENESIS = "0" * 64


# What `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` builds
# on every call, built once: the hot path hashes two or three documents per event.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept as is."""
    return _CANONICAL.encode(value)


def format_instant(moment: datetime) -> str:
    """`2025-03-03T05:00:00.000000Z`: the spelling hashed into every record."""
    moment = utc(moment)
    if moment.year < 1000:  # strftime("%Y") does not pad these; keep its spelling
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # isoformat spells the same string as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), faster.
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def record_hash(
    prev_hash: str,
    *,
    case_id: int,
    seq: int,
    event: str,
    actor: str,
    role: str,
    at: datetime,
    from_state: str,
    to_state: str,
    payload: str,
) -> str:
    record = canonical_json(
        {
            "case": case_id,
            "seq": seq,
            "event": event,
            "actor": actor,
            "role": role,
            "at": format_instant(at),
            "from": from_state,
            "to": to_state,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + record).encode("utf-8")).hexdigest()


def new_record(
    prev_hash: str,
    *,
    case_id: int,
    seq: int,
    event: str,
    actor: str,
    role: str,
    at: datetime,
    from_state: str,
    to_state: str,
    payload: str,
) -> dict[str, Any]:
    """A history row with its link and hash, ready to insert into `audit_events`."""
    fields: dict[str, Any] = {
        "case_id": case_id,
        "seq": seq,
        "event": event,
        "actor": actor,
        "role": role,
        "at": at,
        "from_state": from_state,
        "to_state": to_state,
        "payload": payload,
    }
    return {**fields, "prev_hash": prev_hash, "hash": record_hash(prev_hash, **fields)}


@dataclass(frozen=True)
class Break:
    """The first record of a chain that does not match, or a case that differs from its
    history: then `column` names what differs (`cases.state`, `parties[0].name`,
    `timers.due_at`, `timers`), with the stored and the replayed value as shown to a
    reader (personal data masked)."""

    case_id: int
    seq: int | None
    record_id: int | None
    reason: str
    column: str | None = None
    stored: str | None = None
    replayed: str | None = None

    def __str__(self) -> str:
        where = f"case {self.case_id}"
        if self.seq is not None:
            where += f", record seq {self.seq} (id {self.record_id})"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class VerifyReport:
    cases: int
    events: int
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def cases_broken(self) -> int:
        """How many cases have a break or a difference (a case may have several)."""
        return len({b.case_id for b in self.breaks})


def _row_hash(prev: str, row: Any) -> str:
    return record_hash(
        prev,
        case_id=row.case_id,
        seq=row.seq,
        event=row.event,
        actor=row.actor,
        role=row.role,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        payload=row.payload,
    )


def verify_chain(case_id: int, head: str | None, rows: list[Any]) -> Break | None:
    """Check one case's chain; `rows` in storage order (id), `head` from the case row."""
    prev, expected_seq = GENESIS, 1
    for row in rows:
        if row.case_id != case_id:
            return Break(case_id, row.seq, row.id, f"record belongs to case {row.case_id}")
        if row.seq != expected_seq:
            return Break(
                case_id,
                row.seq,
                row.id,
                f"sequence is {row.seq}, expected {expected_seq}"
                " (a record was removed, reordered or inserted)",
            )
        if row.prev_hash != prev:
            return Break(case_id, row.seq, row.id, "previous-hash link does not match")
        if _row_hash(prev, row) != row.hash:
            return Break(case_id, row.seq, row.id, "content does not match its hash (altered)")
        prev, expected_seq = row.hash, expected_seq + 1
    if head is not None and head != prev:
        return Break(case_id, None, None, "case's head hash does not match its last record")
    return None


def verify(
    conn: Connection,
    heads: Mapping[int, tuple[int, str]] | None = None,
    case_ids: list[int] | None = None,
    batch: int = 500,
    *,
    decider: Decider | None = None,
) -> VerifyReport:
    """Walk every chain (or the given cases): report the first break in each; replay
    each intact chain and report every way the case differs from it.

    `decider` decides the replayed events (an `Engine` will do): its business calendar
    must be the deployment's, or terms planned in another time zone or around other days
    off would differ. Without one, the default calendar is used.
    """
    from workflow import projection

    consistent_reads(conn)
    decider = decider or _default_decider()
    breaks: list[Break] = []
    n_cases = n_events = 0
    for case, rows, case_parties, open_timers in _cases_with_history(conn, case_ids, batch):
        n_cases += 1
        n_events += len(rows)
        found = verify_chain(case.id, case.audit_head, rows)
        if found is None and heads is not None and case.id in heads:
            found = _check_exported(case.id, heads[case.id], rows)
        if found is not None:
            breaks.append(found)
        elif rows:
            breaks += projection.check(decider, conn, case, rows, case_parties, open_timers)
        else:
            breaks.append(Break(case.id, None, None, "the case has no history"))
    if heads is not None:
        # Only the cases asked for: the rest of the exported heads are not being checked.
        wanted = set(heads) if case_ids is None else set(heads) & set(case_ids)
        for missing in sorted(wanted - _case_ids(conn)):
            breaks.append(Break(missing, None, None, "case in the exported heads is missing"))
    return VerifyReport(n_cases, n_events, breaks)


@functools.cache
def _default_decider() -> Decider:
    from workflow.engine import Decider

    return Decider()


def consistent_reads(conn: Connection) -> None:
    """Make the verifying transaction read one snapshot (PostgreSQL: REPEATABLE READ).

    `verify` reads the cases, the history, the parties and the timers in separate
    statements; at READ COMMITTED each would see the events committed meanwhile, and a
    case written between two of them would look tampered. Call it before the
    connection's first statement (SQLite's read transaction is one snapshot already).
    """
    if conn.dialect.name == "postgresql" and not conn.in_transaction():
        conn.execution_options(isolation_level="REPEATABLE READ")


def _check_exported(case_id: int, exported: tuple[int, str], rows: list[Any]) -> Break | None:
    """The record at the exported version must still carry the exported hash."""
    version, head = exported
    if version > len(rows):
        return Break(case_id, None, None, f"chain is shorter than the exported version {version}")
    row = rows[version - 1]
    if row.hash != head:
        return Break(
            case_id, row.seq, row.id, "hash differs from the exported head (chain rewritten)"
        )
    return None


def _case_ids(conn: Connection) -> set[int]:
    return {r[0] for r in conn.execute(sa.select(cases.c.id))}


_STREAM = 2_000  # rows fetched at a time from each of the four ordered passes


def _cases_with_history(
    conn: Connection, case_ids: list[int] | None, batch: int
) -> Iterator[tuple[Any, list[Any], list[Any], list[Any]]]:
    """Each case row with its history (storage order), its parties and its open timers.

    Four ordered passes merged in Python; for given cases, the same per batch of ids.
    """
    if case_ids is None:
        yield from _merged(conn, None)
        return
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), batch):
        yield from _merged(conn, ids[start : start + batch])


def _merged(
    conn: Connection, ids: list[int] | None
) -> Iterator[tuple[Any, list[Any], list[Any], list[Any]]]:
    def ordered(table: sa.Table, key: Any, *where: Any) -> Iterator[Any]:
        query = sa.select(table).where(*where)
        if ids is not None:
            query = query.where(key.in_(ids))
        query = query.order_by(key, table.c.id).execution_options(yield_per=_STREAM)
        return map(_plain(table)._make, conn.execute(query))

    history = _Groups(ordered(audit_events, audit_events.c.case_id))
    case_parties = _Groups(ordered(parties, parties.c.case_id))
    open_timers = _Groups(ordered(timers, timers.c.case_id, timers.c.fired_at.is_(None)))
    for case in ordered(cases, cases.c.id):
        yield case, history.take(case.id), case_parties.take(case.id), open_timers.take(case.id)


@functools.cache
def _plain(table: sa.Table) -> Any:
    """A named tuple of the table's columns: read per field several times per record, its
    attributes cost a tenth of a SQLAlchemy Row's."""
    return collections.namedtuple(f"{table.name}_row", list(table.c.keys()))


class _Groups:
    """Rows ordered by case_id, handed out one case at a time (a merge join)."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = iter(rows)
        self._next: Any = next(self._rows, None)

    def take(self, case_id: int) -> list[Any]:
        row = self._next
        while row is not None and row.case_id < case_id:  # rows of no case (none expected)
            row = next(self._rows, None)
        group = []
        while row is not None and row.case_id == case_id:
            group.append(row)
            row = next(self._rows, None)
        self._next = row
        return group


HEADS_FORMAT = "tatulasu-audit-heads/2"
UNSIGNED_HEADS_FORMAT = "tatulasu-audit-heads/1"


def export_heads(conn: Connection, key: Ed25519PrivateKey, at: datetime) -> dict[str, Any]:
    """Every chain's head hash, signed, to be kept outside the database."""
    heads = {
        str(r.id): {"version": r.version, "head": r.audit_head}
        for r in conn.execute(sa.select(cases.c.id, cases.c.version, cases.c.audit_head))
    }
    return sign_heads(heads, key, format_instant(at))


def sign_heads(
    heads: Mapping[str, Mapping[str, Any]], key: Ed25519PrivateKey, exported_at: str
) -> dict[str, Any]:
    """The heads document: format, time and heads, with an Ed25519 signature over them.

    The signature covers the canonical JSON of everything but itself, so a changed head,
    version, case or time, or a signature from another key, fails `parse_heads`.
    """
    body = {"format": HEADS_FORMAT, "exported_at": exported_at, "cases": dict(heads)}
    signature = {
        "algorithm": "ed25519",
        "key_id": audit_keys.key_id(key.public_key()),
        "value": audit_keys.sign(key, canonical_json(body).encode("utf-8")),
    }
    return {**body, "signature": signature}


def parse_heads(
    doc: Mapping[str, Any], public_key: Ed25519PublicKey | None
) -> dict[int, tuple[int, str]]:
    """Read an exported heads document back, checking its signature first.

    Raises `HeadsUnsigned` for a document of the older, unsigned format (its digest can
    be recomputed by whoever edits it), `PublicKeyMissing` without a key to check with,
    `SignatureMismatch` for an edited document or one signed with another key, and
    `HeadsMalformed` for anything that is not a heads file: all of them `HeadsRefused`.
    """
    if not isinstance(doc, Mapping):
        raise HeadsMalformed("not a tatulasu audit heads file")
    if doc.get("format") == UNSIGNED_HEADS_FORMAT:
        raise HeadsUnsigned(
            "the heads file is unsigned (an older export); export the heads again with"
            " `tatulasu audit export-heads --key PRIVATE.pem`"
        )
    if doc.get("format") != HEADS_FORMAT:
        raise HeadsMalformed("not a tatulasu audit heads file")
    signature = doc.get("signature")
    if not isinstance(signature, Mapping) or not isinstance(signature.get("value"), str):
        raise HeadsUnsigned("the heads file carries no signature")
    if signature.get("algorithm") != "ed25519":
        raise HeadsRefused(f"unknown signature algorithm {signature.get('algorithm')!r}")
    if public_key is None:
        raise PublicKeyMissing("no public key to check the heads' signature with")
    body = {k: v for k, v in doc.items() if k != "signature"}
    if not audit_keys.signature_matches(
        public_key, canonical_json(body).encode("utf-8"), signature["value"]
    ):
        expected = audit_keys.key_id(public_key)
        if signature.get("key_id") != expected:
            raise SignatureMismatch(
                f"the signature does not match: the file names key {signature.get('key_id')!r},"
                f" the public key given is {expected!r}"
            )
        raise SignatureMismatch("the signature does not match: the file was changed")
    try:
        return {int(k): (int(v["version"]), str(v["head"])) for k, v in doc["cases"].items()}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # Signed by the operator's key, and still not of the shape an export writes.
        raise HeadsMalformed(f"the heads' cases are not case = {{version, head}}: {exc}") from None
