"""The outbox dispatcher: claim due messages, send them, record each result at once.

A claim is a lease: the claimed rows are marked `sending`, their attempt counter goes up
and `next_attempt_at` moves to the end of the lease. The batch is then sent one message
after another, and the results are written as they come, in small groups (every
`settle_every` messages, or after `settle_seconds` at the end of a case's messages,
whichever first), each group in short transactions of its own (`tasks/settle.py`).
While the batch is under way a heartbeat, every quarter of the lease, pushes the lease of
the rows still ours further out, so a long batch keeps its rows however long it takes;
a row that another worker has claimed meanwhile is not sent by us (`lost_lease`).

So a worker killed mid-batch (kill -9) sends again only what it had sent and not yet
written: at most one group. Its other rows, never sent, are claimed again when their
lease ends, with the same key (which a sink that honours it delivers once); nothing is
lost. Settling a row is fenced by the attempt number it was claimed with, so a late
worker cannot overwrite a newer claim.

When the database fails while results are written, the results are kept in memory and
written again with backoff (for up to `unwritten_patience_seconds` in this call, then
before anything else at the next one, for as long as the process lives); meanwhile the
dispatcher sends nothing more, and the rows keep their lease, so no other worker sends a
message whose result is known and unwritten. The batch's rows not yet sent are put back,
due at once and their attempt not counted. An outage longer than the lease can still let
another worker claim such a row again (then it is sent twice and counted `lost_lease`):
the lease (60 s by default) is the bound on the outage this rides out.

Final outcomes (sent, or failed for good) of notices to parties go into the case's
history as one `record_delivery` event per case and group, in the same transaction as
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
A dispatcher is used by one thread at a time (a worker process, the embedded clock).
"""

from __future__ import annotations

import json
import logging
import random
import time
import tomllib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa

import states
from tasks.directory import Directory
from tasks.errors import PermanentDeliveryError, TemporaryDeliveryError
from tasks.moot import CASE_CLOSED, VOID, is_moot
from tasks.reach import claimable_channels, reach
from tasks.settle import Outcome, Settler, Written
from tasks.sinks import Outgoing, Receipt, Sink
from tasks.templates import PACKAGE_TEMPLATES, Renderer
from workflow import dates
from workflow.engine import Engine
from workflow.errors import StoreError, StoreUnavailable
from workflow.failed_notices import attempts_since_retry
from workflow.schema import outbox

log = logging.getLogger(__name__)

# Writing kept results again while the store fails: 0.1 s, 0.2 s … at most 2 s apart.
REWRITE_FIRST_SECONDS = 0.1
REWRITE_MAX_SECONDS = 2.0


@dataclass(frozen=True)
class Policy:
    lease_seconds: float = 60.0
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    # How soon a message to officials none of whom a configured sink reaches is looked at
    # again (a message to parties without a sink is not even claimed).
    recheck_seconds: float = 300.0
    # Results are written every this many messages, or once this long has passed (at
    # the end of a case's messages): a worker killed mid-batch resends at most a group.
    settle_every: int = 8
    settle_seconds: float = 0.5
    # How long one call keeps trying to write results the store refused before it gives
    # up for now (raising StoreUnavailable; the results stay kept for the next call).
    unwritten_patience_seconds: float = 10.0

    @property
    def heartbeat_seconds(self) -> float:
        """How often a batch under way extends its lease: four times per lease."""
        return self.lease_seconds / 4

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
    released: int = 0  # claimed, then put back unsent: the batch stopped (store failure)
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


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
        self.settler = Settler(engine)
        # Results known but not yet written (the store failed): their rows stay leased.
        self._unwritten: list[Outcome] = []

    @property
    def unwritten(self) -> int:
        """How many results are kept in memory, waiting for the store."""
        return len(self._unwritten)

    def run_once(self, limit: int = 100) -> DispatchResult:
        """Write results kept from before, then claim up to `limit` due messages, send
        them and write their results group by group."""
        result = DispatchResult()
        self._write_unwritten(result)
        result.voided, claimed = self.void_moot(), self.claim(limit)
        if claimed:
            self._send_all(claimed, result)
            self._write_unwritten(result)
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
                    next_attempt_at=self._lease_end(now),
                )
                .returning(*outbox.c)
            ).all()
        return sorted(rows, key=lambda r: r.id)

    def _lease_end(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.policy.lease_seconds)

    # ------------------------------------------------------------------ the batch

    def _send_all(self, claimed: list[Any], result: DispatchResult) -> None:
        """Send the batch, writing each group's results and keeping the lease alive.

        Whatever stops the batch (the store failing, an error), the group sent so far is
        written (or kept) and the rows not sent are put back."""
        with self.engine.store.reading() as conn:
            directory = Directory.load(conn, (row.recipient for row in claimed))
        todo: deque[Any] = deque(claimed)
        group: list[Outcome] = []
        opened = beat = self.engine.clock.now()
        try:
            while todo and not self._unwritten:
                if self._elapsed(beat) >= self.policy.heartbeat_seconds:
                    beat = self.engine.clock.now()
                    if not self._keep_lease(todo, group, result):
                        break
                    continue
                row = todo.popleft()
                group.append(self._send(row, directory))
                if self._group_done(group, opened, todo):
                    self._write(group, result)
                    group, opened = [], self.engine.clock.now()
        finally:
            for sink in self.sinks.values():
                sink.close()
            now = self.engine.clock.now()
            group.extend(self._unsent(row, now) for row in todo)
            self._write(group, result)

    def _elapsed(self, since: datetime) -> float:
        return (self.engine.clock.now() - since).total_seconds()

    def _group_done(self, group: list[Outcome], opened: datetime, todo: deque[Any]) -> bool:
        """A full group, or one open long enough whose case's messages are all sent."""
        if len(group) >= self.policy.settle_every:
            return True
        case_ends = not todo or todo[0].case_id != group[-1].row.case_id
        return case_ends and self._elapsed(opened) >= self.policy.settle_seconds

    def _keep_lease(self, todo: deque[Any], group: list[Outcome], result: DispatchResult) -> bool:
        """Heartbeat: extend the lease of the batch's rows not yet written; drop the rows
        not sent that another worker has claimed. False when the store failed."""
        rows = [*todo, *(o.row for o in group)]
        try:
            kept = self.settler.extend(rows, self._lease_end(self.engine.clock.now()))
        except StoreError as exc:
            log.warning("lease not extended, the batch stops here: %s", exc)
            return False
        lost = [row for row in todo if row.id not in kept]
        for row in lost:
            todo.remove(row)
            result.lost_lease += 1
        return True

    def _write(self, outcomes: list[Outcome], result: DispatchResult) -> Written:
        written = self.settler.write(outcomes) if outcomes else Written()
        for outcome in written.settled:
            _count(outcome, result)
        result.lost_lease += len(written.lost)
        self._unwritten.extend(written.unwritten)
        return written

    def _write_unwritten(self, result: DispatchResult) -> None:
        """Write the results kept from a store failure, with backoff, before anything
        else; when the store still fails after the patience, raise and keep them."""
        deadline = time.monotonic() + self.policy.unwritten_patience_seconds
        delay = REWRITE_FIRST_SECONDS
        while self._unwritten:
            kept, self._unwritten = self._unwritten, []
            written = self._write(kept, result)
            if not self._unwritten:
                return
            if time.monotonic() + delay > deadline:
                raise StoreUnavailable(
                    f"{len(self._unwritten)} results are kept until the database takes "
                    f"them: {written.error}"
                )
            time.sleep(delay)
            delay = min(2 * delay, REWRITE_MAX_SECONDS)

    # ------------------------------------------------------------------ sending

    def _send(self, row: Any, directory: Directory) -> Outcome:
        try:
            messages = self._messages(row, directory)
            if not messages:
                return self._outcome(row, "wait", "")
            receipts = [self._deliver(message) for message in messages]
        except PermanentDeliveryError as exc:
            return self._outcome(row, "failed", str(exc))
        except TemporaryDeliveryError as exc:
            used = attempts_since_retry(row.attempts, row.context)
            status = "failed" if used >= self.policy.max_attempts else "retry"
            return self._outcome(row, status, str(exc))
        return self._outcome(row, "sent", "; ".join(r.reference for r in receipts))

    def _outcome(self, row: Any, status: str, detail: str) -> Outcome:
        """The outcome with the row's columns as of now, when it was known."""
        now = self.engine.clock.now()
        values: dict[str, Any]
        if status == "sent":
            values = {"status": "sent", "sent_at": now, "receipt": detail}
        elif status == "failed":  # never due again: the instant says when it failed
            values = {"status": "failed", "last_error": detail, "next_attempt_at": now}
        elif status == "wait":  # not an attempt: the count goes back
            values = {
                "status": "pending",
                "attempts": row.attempts - 1,
                "next_attempt_at": now + timedelta(seconds=self.policy.recheck_seconds),
            }
        else:
            values = {
                "status": "pending",
                "last_error": detail,
                "next_attempt_at": now + self.policy.backoff(row.attempts),
            }
        return Outcome(row, status, detail, values)

    def _unsent(self, row: Any, now: datetime) -> Outcome:
        """A claimed row put back unsent: due at once, its attempt not counted."""
        values = {"status": "pending", "attempts": row.attempts - 1, "next_attempt_at": now}
        return Outcome(row, "unsent", "", values)

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


def _count(outcome: Outcome, result: DispatchResult) -> None:
    if outcome.status == "sent":
        result.sent += 1
    elif outcome.status == "failed":
        result.failed += 1
        result.errors.append(f"{outcome.row.key}: {outcome.detail}")
    elif outcome.status == "retry":
        result.retried += 1
    elif outcome.status == "wait":
        result.waiting += 1
    else:
        result.released += 1
