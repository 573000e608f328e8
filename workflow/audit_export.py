"""Exporting histories (JSON Lines or CSV) with the head hash of every exported chain.

The heads at the end of an export are computed from the exported records themselves —
each case's last record's version and hash — so they always agree with the records,
and, when the server holds the signing key (TATULASU_AUDIT_SIGNING_KEY_FILE), they are
signed as `audit.export_heads` signs them: kept outside the database, they feed
`tatulasu audit verify --heads` later and catch a chain rewritten since the export.
Unsigned (no key; and the CSV's `digest` row) they are an unkeyed digest only.

An unmasked export carries every record as stored, so each hash can be recomputed from
it (`sha256(prev_hash ‖ canonical JSON of the record)`). A masked export keeps the
hashes and links but not the personal data the hashes cover: it proves order and
completeness, not content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import spreadsheet
from workflow.audit import canonical_json, format_instant, sign_heads
from workflow.privacy import mask_payload
from workflow.queries import party_names
from workflow.schema import audit_events, cases

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

EXPORT_FORMAT = "tatulasu-audit-export/1"
HEADS_FORMAT = "tatulasu-audit-heads/1"
CSV_COLUMNS = (
    "type", "case_id", "seq", "event", "actor", "role", "at", "from_state", "to_state",
    "payload", "prev_hash", "hash",
)  # fmt: skip


def records(
    conn: Connection, scope: sa.ColumnElement[bool], masked: bool, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """The audit records of the cases in `scope`, case by case, in chain order."""
    ids = [r.id for r in conn.execute(sa.select(cases.c.id).where(scope).order_by(cases.c.id))]
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        # The parties' names, to initial them where free text quotes them.
        named = party_names(conn, chunk) if masked else {}
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.case_id.in_(chunk))
            .order_by(audit_events.c.case_id, audit_events.c.seq)
        )
        for r in rows:
            payload = json.loads(r.payload)
            names = [name for _, name in named.get(r.case_id, ())]
            yield {
                "case_id": r.case_id,
                "seq": r.seq,
                "event": r.event,
                "actor": r.actor,
                "role": r.role,
                "at": format_instant(r.at),
                "from_state": r.from_state,
                "to_state": r.to_state,
                "payload": mask_payload(payload, names) if masked else payload,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }


def heads_document(heads: dict[str, dict[str, Any]]) -> dict[str, Any]:
    digest = hashlib.sha256(canonical_json(heads).encode()).hexdigest()
    return {"format": HEADS_FORMAT, "cases": heads, "digest": digest}


def jsonl(
    source: Iterator[dict[str, Any]],
    masked: bool,
    exported_at: str,
    key: Ed25519PrivateKey | None = None,
) -> Iterator[str]:
    """A header line, one line per record, and the heads as the last line.

    With a signing key the heads are signed (`audit.sign_heads`), and `audit verify
    --heads` accepts them; without one they carry only an unkeyed digest.
    """
    header = {"type": "export", "format": EXPORT_FORMAT, "masked": masked, "at": exported_at}
    yield canonical_json(header) + "\n"
    heads: dict[str, dict[str, Any]] = {}
    for record in source:
        heads[str(record["case_id"])] = {"version": record["seq"], "head": record["hash"]}
        yield canonical_json({"type": "record", **record}) + "\n"
    document = heads_document(heads) if key is None else sign_heads(heads, key, exported_at)
    yield canonical_json({"type": "heads", **document}) + "\n"


def csv_lines(source: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Records as rows, then one `head` row per case and a `digest` row for the heads.

    A text cell a spreadsheet would run as a formula gets a leading `'`
    (`workflow.spreadsheet`): strip it before recomputing a hash from such a cell.
    """
    heads: dict[str, dict[str, Any]] = {}
    yield spreadsheet.row(CSV_COLUMNS)
    for record in source:
        heads[str(record["case_id"])] = {"version": record["seq"], "head": record["hash"]}
        cells = {**record, "type": "record", "payload": canonical_json(record["payload"])}
        yield spreadsheet.row([cells[name] for name in CSV_COLUMNS])
    for case_id, head in heads.items():
        yield spreadsheet.row(["head", case_id, head["version"], *[""] * 8, head["head"]])
    yield spreadsheet.row(["digest", *[""] * 10, heads_document(heads)["digest"]])
