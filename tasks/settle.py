"""Writing what became of claimed messages: short transactions, fenced by the claim.

The dispatcher hands over a small group of outcomes as soon as it has them; each is
written in a transaction of its own kind, so that a worker killed afterwards does not
send them again. Notices to parties enter their case's history: per case, one
transaction locks the case row first (the order user events take), settles the rows and
appends one `record_delivery` event with the receipts of their final outcomes. The rest
(notifications to officials, retries, messages put back) are settled in one transaction
without the case.

Every write is fenced by the attempt number the row was claimed with: a row claimed again
by another worker since (its lease lost) is left alone and reported lost. When the store
fails, the outcomes not yet written are handed back, unwritten, for the dispatcher to keep
and write later; once one transaction has failed the rest are not tried.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow.audit import format_instant
from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.errors import NotAllowed, StoreError
from workflow.failed_notices import last_retry
from workflow.schema import outbox

log = logging.getLogger(__name__)

FINAL = ("sent", "failed")


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row, and the columns it gets when settled."""

    row: Any
    status: str  # sent | retry | failed | wait | unsent
    detail: str
    values: Mapping[str, Any]

    @property
    def to_history(self) -> bool:
        """A notice to a party whose fate is known: the law counts it where recorded."""
        return self.status in FINAL and self.row.recipient.startswith("party:")


@dataclass
class Written:
    settled: list[Outcome] = field(default_factory=list)
    lost: list[Outcome] = field(default_factory=list)  # claimed again by another worker
    unwritten: list[Outcome] = field(default_factory=list)  # the store failed
    error: str = ""


class Settler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, outcomes: Sequence[Outcome]) -> Written:
        """Settle the rows still leased to us, in one transaction per case of notices."""
        written = Written()
        by_case: dict[int, list[Outcome]] = defaultdict(list)
        plain: list[Outcome] = []
        for outcome in outcomes:
            if outcome.to_history:
                by_case[outcome.row.case_id].append(outcome)
            else:
                plain.append(outcome)
        parts: list[tuple[int | None, list[Outcome]]] = [(None, plain)] if plain else []
        parts += list(by_case.items())
        for case_id, part in parts:
            if written.error:
                written.unwritten.extend(part)
                continue
            try:
                marked = self._settle(case_id, part)
            except StoreError as exc:
                log.warning("%d outcomes kept to be written later: %s", len(part), exc)
                written.error = str(exc)
                written.unwritten.extend(part)
                continue
            for outcome, done in zip(part, marked, strict=True):
                (written.settled if done else written.lost).append(outcome)
        return written

    def extend(self, rows: Sequence[Any], until: datetime) -> set[int]:
        """Push the lease of rows still ours to `until`; the ids that are still ours."""
        if not rows:
            return set()
        ours = sa.tuple_(outbox.c.id, outbox.c.attempts).in_([(r.id, r.attempts) for r in rows])
        with self.engine.store.transaction() as conn:
            kept = conn.execute(
                outbox.update()
                .where(ours, outbox.c.status == "sending")
                .values(next_attempt_at=until)
                .returning(outbox.c.id)
            )
            return set(kept.scalars())

    def _settle(self, case_id: int | None, part: list[Outcome]) -> list[bool]:
        with self.engine.store.transaction() as conn:
            case = self.engine.lock(conn, case_id) if case_id is not None else None
            marked = [self._mark(conn, outcome) for outcome in part]
            receipts = [_receipt(o) for o, done in zip(part, marked, strict=True) if done]
            if receipts and case is not None:
                self._record(conn, case, receipts)
        return marked

    def _mark(self, conn: Connection, outcome: Outcome) -> bool:
        row = outcome.row
        fenced = outbox.update().where(
            outbox.c.id == row.id, outbox.c.status == "sending", outbox.c.attempts == row.attempts
        )
        return conn.execute(fenced.values(**outcome.values)).rowcount == 1

    def _record(self, conn: Connection, case: Any, receipts: list[dict[str, str]]) -> None:
        try:
            self.engine.apply(
                conn,
                FireEvent(
                    case_id=case.id,
                    event=states.get(case.definition_version).event_of_kind("delivery_receipt"),
                    actor="system",
                    role="system",
                    payload={"deliveries": receipts},
                ),
                locked=case,
            )
        except NotAllowed as exc:  # a lifecycle version without delivery receipts
            log.warning("case %s: delivery receipts not recorded: %s", case.id, exc)


def _receipt(outcome: Outcome) -> dict[str, str]:
    """A notice's fate for the history; after an admin's retry, who asked and when."""
    row = outcome.row
    receipt = {
        "key": row.key,
        "channel": row.channel,
        "status": "delivered" if outcome.status == "sent" else "failed",
        "reference": outcome.detail[:500],
    }
    retried = last_retry(row.context)
    if retried is not None:
        receipt["retried_by"] = retried.by
        receipt["retried_at"] = format_instant(retried.at)
    return receipt
