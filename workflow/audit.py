"""The tamper-evident history: each case's events form a hash chain.

    hash = sha256(prev_hash ‖ canonical JSON of the record)

The record holds the case, its sequence number, the event, who fired it in which role,
when, the states before and after, and the payload. Changing any field, removing,
reordering or splicing in a record breaks the chain at that record; `verify` names it.
Rewriting a whole chain consistently is caught by comparing with head hashes exported
earlier and kept outside the database (`export_heads`, `verify(heads=...)`); the
exported heads are signed with an Ed25519 key that the database never holds, so whoever
rewrites the database cannot also rewrite the heads (`parse_heads` checks the signature).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import audit_keys
from workflow.schema import audit_events, cases
from workflow.store import utc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

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
    """The first record of a chain that does not match."""

    case_id: int
    seq: int | None
    record_id: int | None
    reason: str

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
) -> VerifyReport:
    """Walk every chain (or the given cases); report the first break in each."""
    breaks: list[Break] = []
    n_cases = n_events = 0
    for case_id, head, rows in _chains(conn, case_ids, batch):
        n_cases += 1
        n_events += len(rows)
        found = verify_chain(case_id, head, rows)
        if found is None and heads is not None and case_id in heads:
            found = _check_exported(case_id, heads[case_id], rows)
        if found is not None:
            breaks.append(found)
    if heads is not None:
        # Only the cases asked for: the rest of the exported heads are not being checked.
        wanted = set(heads) if case_ids is None else set(heads) & set(case_ids)
        for missing in sorted(wanted - _case_ids(conn)):
            breaks.append(Break(missing, None, None, "case in the exported heads is missing"))
    return VerifyReport(n_cases, n_events, breaks)


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


def _chains(
    conn: Connection, case_ids: list[int] | None, batch: int
) -> Iterator[tuple[int, str, list[Any]]]:
    query = sa.select(cases.c.id, cases.c.audit_head).order_by(cases.c.id)
    if case_ids is not None:
        query = query.where(cases.c.id.in_(case_ids))
    all_cases = conn.execute(query).all()
    for start in range(0, len(all_cases), batch):
        chunk = all_cases[start : start + batch]
        ids = [c.id for c in chunk]
        rows_by_case: dict[int, list[Any]] = {i: [] for i in ids}
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.case_id.in_(ids))
            .order_by(audit_events.c.case_id, audit_events.c.id)
        )
        for row in rows:
            rows_by_case[row.case_id].append(row)
        for c in chunk:
            yield c.id, c.audit_head, rows_by_case[c.id]


HEADS_FORMAT = "tatulasu-audit-heads/2"
UNSIGNED_HEADS_FORMAT = "tatulasu-audit-heads/1"


class HeadsRefused(ValueError):
    """A heads document that is not to be trusted."""


class HeadsUnsigned(HeadsRefused):
    """An unsigned heads document (format 1, before signed heads): re-export it."""


class SignatureMismatch(HeadsRefused):
    """The heads' signature does not match their content under the given public key."""


class PublicKeyMissing(HeadsRefused):
    """Signed heads, and no public key to check them with."""


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
    ValueError for anything that is not a heads file.
    """
    if not isinstance(doc, Mapping):
        raise ValueError("not a tatulasu audit heads file")
    if doc.get("format") == UNSIGNED_HEADS_FORMAT:
        raise HeadsUnsigned(
            "the heads file is unsigned (an older export); export the heads again with"
            " `tatulasu audit export-heads --key PRIVATE.pem`"
        )
    if doc.get("format") != HEADS_FORMAT:
        raise ValueError("not a tatulasu audit heads file")
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
    heads = doc["cases"]
    return {int(k): (int(v["version"]), str(v["head"])) for k, v in heads.items()}
