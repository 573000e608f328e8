"""The access log: every read of personal data in full, with who asked and why.

Masking protects parties only if the exception is accountable: a supervisor or an admin
may see a case's names, IINs and contacts in full, but only by giving a reason, and the
read is appended here (who, role, channel, when, which case or export scope, why) before
the data is shown. Nothing updates or deletes a row. Supervisors export the entries of
their region, admins every entry; the reasons are scrubbed in the export like any other
free text (`workflow.privacy.scrub_text`), since a reader may have quoted a phone there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import names, spreadsheet
from workflow.audit import format_instant
from workflow.errors import InvalidField
from workflow.privacy import scrub_text
from workflow.schema import access_log

MAX_REASON = 500
COLUMNS = ("at", "actor", "role", "channel", "action", "case_id", "region", "scope", "reason")


@dataclass(frozen=True)
class Access:
    """One unmasked read: `region` is the case's (or the export's); None: every region."""

    actor: str
    role: str
    channel: str
    action: str
    scope: str
    reason: str
    case_id: int | None = None
    region: str | None = None


def require_reason(reason: str | None, field: str = "reason") -> str:
    """The reason given for an unmasked read, tidied; refused when missing or unusable."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidField(field, "is required to see personal data in full: say why")
    if len(text) > MAX_REASON:
        raise InvalidField(field, f"is longer than {MAX_REASON} characters")
    fault = names.fault(text)
    if fault is not None:
        raise InvalidField(field, fault)
    return text


def record(conn: Connection, access: Access, at: datetime) -> None:
    """Append one entry, in the caller's transaction."""
    conn.execute(access_log.insert().values(**asdict(access), at=at))


def entries(conn: Connection, region: str | None) -> Iterator[dict[str, Any]]:
    """The entries of `region` (None: all of them), oldest first, reasons scrubbed."""
    query = sa.select(access_log).order_by(access_log.c.at, access_log.c.id)
    if region is not None:
        query = query.where(access_log.c.region == region)
    for row in conn.execute(query):
        yield {
            **{name: getattr(row, name) for name in COLUMNS},
            "at": format_instant(row.at),
            "reason": scrub_text(row.reason),
        }


def jsonl(source: Iterator[dict[str, Any]]) -> Iterator[str]:
    for entry in source:
        yield json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"


def csv_lines(source: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield spreadsheet.row(COLUMNS)
    for entry in source:
        yield spreadsheet.row(["" if entry[c] is None else entry[c] for c in COLUMNS])
