"""The outbox dispatcher: claim due messages, send them, record the receipts.

A claim is a lease: the claimed rows are marked `sending`, their attempt counter goes up
and `next_attempt_at` moves to the end of the lease. A worker that dies mid-batch loses
nothing: when the lease ends another worker claims the rows again and sends them with the
same key (which a sink that honours it delivers once). Settling a row is fenced by the
attempt number it was claimed with, so a late worker cannot overwrite a newer claim.

Final outcomes (sent, or failed for good) of notices to parties go into the case's
history as one `record_delivery` event per case and batch, in the same transaction as
the outbox rows; notifications to officials keep their receipt on the outbox row.
A temporary failure is retried with exponential backoff; after `max_attempts` the message
is marked failed with its reason, visible to an operator, and nothing else waits for it.
Each notice thus enters its case's history once, when its fate is known: a retry leaves
no trace there. An admin may send a failed message again (`workflow/failed_notices.py`):
it gets a fresh round of attempts, and the receipt of its new fate says who retried it
and when, so the history reads "failed", then "delivered after a retry", and nothing in
between.

A message whose channel has no sink waits, unclaimed and uncounted (`tasks/reach.py`); a
notice about a term of a case closed since is voided, not sent (`tasks/moot.py`).
"""

from __future__ import annotations

import json
import logging
import random
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from tasks.directory import Directory
from tasks.errors import PermanentDeliveryError, TemporaryDeliveryError
from tasks.moot import CASE_CLOSED, VOID, is_moot
from tasks.reach import claimable_channels, reach
from tasks.sinks import Outgoing, Receipt, Sink
from tasks.templates import PACKAGE_TEMPLATES, Renderer
from workflow import dates
from workflow.audit import format_instant
from workflow.commands import FireEvent
from workflow.engine import Engine
from workflow.errors import NotAllowed
from workflow.failed_notices import attempts_since_retry, last_retry
from workflow.schema import outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    lease_seconds: float = 60.0
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    # How soon a message to officials none of whom a configured sink reaches is looked at
    # again (a message to parties without a sink is not even claimed).
    recheck_seconds: float = 300.0

    def backoff(self, attempts: int) -> timedelta:
        """Exponential with full jitter: 30 s, 60 s, 120 s … capped at an hour."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempts - 1))
        return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0
    waiting: int = 0  # claimed, then put back: no configured sink reaches the recipient
    voided: int = 0  # notices about a term of a case closed since
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class _Outcome:
    row: Any
    status: str  # sent | retry | failed | wait
    detail: str


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        sinks: Mapping[str, Sink],
        renderer: Renderer | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.engine = engine
        self.sinks = sinks
        self.renderer = renderer or Renderer()
        self.policy = policy or Policy()

    def run_once(self, limit: int = 100) -> DispatchResult:
        """Claim up to `limit` due messages, send them, settle them."""
        result = DispatchResult()
        result.voided, claimed = self.void_moot(), self.claim(limit)
        if not claimed:
            return result
        with self.engine.store.reading() as conn:
            directory = Directory.load(conn, (row.recipient for row in claimed))
        try:
            outcomes = [self._send(row, directory) for row in claimed]
        finally:
            for sink in self.sinks.values():
                sink.close()
        self._settle_all(outcomes, result)
        return result

    def void_moot(self) -> int:
        """Mark due notices about a term of a closed case void (not sent, not recorded)."""
        moot = (
            sa.select(outbox.c.id).where(self._due(), is_moot()).with_for_update(skip_locked=True)
        )
        with self.engine.store.transaction() as conn:
            done = conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(moot))
                .values(status=VOID, last_error=CASE_CLOSED)
            )
        return int(done.rowcount)

    def _due(self) -> sa.ColumnElement[bool]:
        """Waiting to be sent (its lease, if any, over), whether a sink exists or not."""
        return sa.and_(
            outbox.c.status.in_(("pending", "sending")),
            outbox.c.next_attempt_at <= self.engine.clock.now(),
        )

    def claim(self, limit: int) -> list[Any]:
        now = self.engine.clock.now()
        due = (
            sa.select(outbox.c.id)
            .where(self._due(), outbox.c.channel.in_(claimable_channels(self.sinks)))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.engine.store.transaction() as conn:
            rows = conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(due))
                .values(
                    status="sending",
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=self.policy.lease_seconds),
                )
                .returning(*outbox.c)
            ).all()
        return sorted(rows, key=lambda r: r.id)

    # ------------------------------------------------------------------ sending

    def _send(self, row: Any, directory: Directory) -> _Outcome:
        try:
            messages = self._messages(row, directory)
            if not messages:
                return _Outcome(row, "wait", "")
            receipts = [self._deliver(message) for message in messages]
        except PermanentDeliveryError as exc:
            return _Outcome(row, "failed", str(exc))
        except TemporaryDeliveryError as exc:
            used = attempts_since_retry(row.attempts, row.context)
            status = "failed" if used >= self.policy.max_attempts else "retry"
            return _Outcome(row, status, str(exc))
        return _Outcome(row, "sent", "; ".join(r.reference for r in receipts))

    def _deliver(self, message: Outgoing) -> Receipt:
        sink = self.sinks.get(message.channel)
        if sink is None:
            raise TemporaryDeliveryError(f"no {message.channel} sink is configured")
        return sink.send(message)

    def _messages(self, row: Any, directory: Directory) -> list[Outgoing]:
        """The messages of a row; none when it must wait for a sink."""
        context = json.loads(row.context)
        found = reach(row, directory, self.sinks)
        if found.waits:
            return []
        if not found.contacts:
            raise PermanentDeliveryError(f"no contact on file for {row.recipient}")
        messages = []
        for c in found.contacts:
            subject, body = self.renderer.render(
                row.template, c.language, self._template_context(row, context, c.name, c.language)
            )
            key = row.key if not c.suffix else f"{row.key}:{c.suffix}"
            messages.append(Outgoing(key, c.channel, c.address, subject, body))
        return messages

    def _template_context(
        self, row: Any, context: Mapping[str, Any], name: str, language: str
    ) -> dict[str, Any]:
        due = context.get("due_at")
        due_local = ""
        if due:  # as the pages and the CLI say it: the last day, or the day and the time
            end = dates.term_end(datetime.fromisoformat(due), self.engine.calendar.tz)
            due_local = dates.day(end.last_day)
            if end.at is not None:
                due_local += " " + end.at.strftime(dates.TIME)
        return {
            "case_id": row.case_id,
            "event": row.event,
            "event_label": self._label(row.event, language),
            "from_state": context.get("from", ""),
            "to_state": context.get("to", ""),
            "reason": context.get("reason", ""),
            "term": context.get("term", ""),
            "due_local": due_local,
            "centre": context.get("centre", ""),
            "enforcement": context.get("enforcement", ""),
            "recipient_name": name,
        }

    def _label(self, event: str, language: str) -> str:
        label = self._labels.get(language, {}).get(event)
        if label:
            return str(label)
        spec = states.current().events.get(event)
        return spec.title if spec is not None else event

    @cached_property
    def _labels(self) -> dict[str, dict[str, str]]:
        return tomllib.loads((PACKAGE_TEMPLATES / "labels.toml").read_text(encoding="utf-8"))

    # ------------------------------------------------------------------ settling

    def _settle_all(self, outcomes: list[_Outcome], result: DispatchResult) -> None:
        """Notices to parties enter their case's history; the rest are settled in bulk.

        The law counts a notice to a party where its delivery is recorded, so each case
        with such outcomes gets one `record_delivery` event (its own transaction).
        Notifications to officials are operational: their outbox rows keep the receipt
        or the error, visible in `tatulasu outbox list`, without a history event.
        """
        by_case: dict[int, list[_Outcome]] = defaultdict(list)
        internal: list[_Outcome] = []
        for outcome in outcomes:
            if outcome.row.recipient.startswith("party:"):
                by_case[outcome.row.case_id].append(outcome)
            else:
                internal.append(outcome)
        if internal:
            with self.engine.store.transaction() as conn:
                self._mark_all(conn, internal, result)
        for case_id, case_outcomes in by_case.items():
            with self.engine.store.transaction() as conn:
                case = self.engine.lock(conn, case_id)
                receipts = self._mark_all(conn, case_outcomes, result)
                if receipts and case is not None:
                    self._record(conn, case, receipts)

    def _mark_all(
        self, conn: Connection, outcomes: list[_Outcome], result: DispatchResult
    ) -> list[dict[str, str]]:
        """Settle rows still leased to us; the receipts of their final outcomes."""
        now = self.engine.clock.now()
        receipts = []
        for outcome in outcomes:
            if not self._mark(conn, outcome, now):
                result.lost_lease += 1
                continue
            if outcome.status == "retry":
                result.retried += 1
                continue
            if outcome.status == "wait":
                result.waiting += 1
                continue
            if outcome.status == "sent":
                result.sent += 1
            else:
                result.failed += 1
                result.errors.append(f"{outcome.row.key}: {outcome.detail}")
            receipts.append(_receipt(outcome))
        return receipts

    def _mark(self, conn: Connection, outcome: _Outcome, now: datetime) -> bool:
        row = outcome.row
        fenced = outbox.update().where(
            outbox.c.id == row.id, outbox.c.status == "sending", outbox.c.attempts == row.attempts
        )
        if outcome.status == "sent":
            values: dict[str, Any] = {"status": "sent", "sent_at": now, "receipt": outcome.detail}
        elif outcome.status == "failed":  # never due again: the instant says when it failed
            values = {"status": "failed", "last_error": outcome.detail, "next_attempt_at": now}
        elif outcome.status == "wait":  # not an attempt: the count goes back
            values = {
                "status": "pending",
                "attempts": row.attempts - 1,
                "next_attempt_at": now + timedelta(seconds=self.policy.recheck_seconds),
            }
        else:
            values = {
                "status": "pending",
                "last_error": outcome.detail,
                "next_attempt_at": now + self.policy.backoff(row.attempts),
            }
        return conn.execute(fenced.values(**values)).rowcount == 1

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


def _receipt(outcome: _Outcome) -> dict[str, str]:
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
